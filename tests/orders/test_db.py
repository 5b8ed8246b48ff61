"""Engines and the migration check: SQLite pragmas and locking, refusing unmigrated databases."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from orders.db import (
    begin_write,
    current_revisions,
    end_read,
    head_revisions,
    make_engine,
    make_sessions,
    require_migrated,
    sqlite_url,
    upgrade,
)
from orders.errors import DatabaseNotMigrated
from tests.orders.database import POSTGRES_URL


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert (tmp_path / "voicecart.db").exists()
    engine.dispose()


def test_sqlite_foreign_keys_are_enforced(engine: Engine, backend: str) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO carts (customer_id, store_id, updated_at) "
                "VALUES (424242, NULL, CURRENT_TIMESTAMP)"
            )
        )


def test_writers_queue_instead_of_failing_and_readers_never_wait(tmp_path: Path) -> None:
    """Read-then-write use cases (begin_write) queue up; a read open meanwhile blocks nobody."""
    engine = make_engine(sqlite_url(tmp_path))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    sessions = make_sessions(engine)
    reader = sessions()
    assert reader.execute(text("SELECT n FROM counter")).scalar() == 0  # an open read snapshot
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def bump() -> None:
        try:
            start.wait()
            for _ in range(20):
                with sessions() as session:
                    session.execute(text("SELECT count(*) FROM counter")).scalar()  # a read first
                    begin_write(session)
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                    session.commit()
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert reader.execute(text("SELECT n FROM counter")).scalar() == 0  # its snapshot held
    reader.close()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 160
    engine.dispose()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        make_engine("sqlite://")


def test_unmigrated_database_is_refused_with_the_fixing_command(empty_url: str) -> None:
    engine = make_engine(empty_url)
    with pytest.raises(DatabaseNotMigrated) as caught:
        require_migrated(engine)
    assert "voicecart db upgrade" in caught.value.detail
    assert caught.value.current == ()
    upgrade(engine)
    require_migrated(engine)
    assert current_revisions(engine) == head_revisions(engine)
    engine.dispose()


def test_database_behind_head_is_refused(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    with pytest.raises(DatabaseNotMigrated, match="at old"):
        require_migrated(engine)
    engine.dispose()


READ = text("SELECT count(*) FROM pg_prepared_statements")


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="set VOICECART_TEST_POSTGRES_URL for PostgreSQL")
def test_a_read_ended_by_end_read_keeps_the_connections_prepared_statements() -> None:
    """psycopg prepares a statement on its 5th run and forgets all of them on a ROLLBACK."""
    engine = make_engine(POSTGRES_URL, pool_size=1)
    sessions = make_sessions(engine)
    try:
        with sessions() as session:
            for _ in range(6):
                session.execute(READ).scalar_one()
            end_read(session)
        with sessions() as session:  # the same pooled connection
            assert session.execute(READ).scalar_one() >= 1
            session.rollback()
        with sessions() as session:
            assert session.execute(READ).scalar_one() == 0  # what end_read avoids
    finally:
        engine.dispose()
