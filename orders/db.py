"""Engines, sessions and migrations: SQLite in a data directory by default, PostgreSQL by URL.

SQLite connections get WAL (synchronous=NORMAL), foreign keys and a busy timeout. Reads run
in plain (deferred) transactions, which never block anyone under WAL. A use case that writes
calls `begin_write` first: on SQLite that ends any read snapshot and starts BEGIN IMMEDIATE,
so writers queue up front (waiting up to the busy timeout) instead of failing when a
transaction that read first tries to write ("database is locked" on the lock upgrade). The
write lock is then held only for the use case itself, never across the request's other
steps. On PostgreSQL the use cases' row locks (SELECT ... FOR UPDATE) do this job and
begin_write does nothing.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from orders.errors import DatabaseNotMigrated
from orders.tables import Base

logger = logging.getLogger(__name__)

DATABASE_FILE = "voicecart.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_HOLDS_WRITER = "voicecart_holds_writer"
WRITE_OPTION = "voicecart_write"
"""Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE."""


def sqlite_url(data_dir: str | Path) -> str:
    """The URL of the embedded database file in a data directory."""
    return f"sqlite:///{Path(data_dir).resolve() / DATABASE_FILE}"


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured for concurrent use."""
    parsed = make_url(url)
    options: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError(
                "use a SQLite file (sqlite:///path/voicecart.db), not an in-memory database"
            )
        options["connect_args"] = {
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            "check_same_thread": False,
        }
    options["pool_size"] = pool_size
    options["max_overflow"] = pool_size
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout, BEGIN IMMEDIATE for writes (see the module docstring)."""
    writers = _Writers()
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", writers.begin)
    event.listen(engine, "commit", writers.end)
    event.listen(engine, "rollback", writers.end)
    event.listen(engine, "checkin", writers.checkin)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Configure a new SQLite connection."""
    # Stop the sqlite3 module from issuing its own (late, deferred) BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL + NORMAL: no fsync per commit and still no corruption; a power cut (not a crash
        # of the process) may lose the last commits. SQLite's advice for WAL.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class _Writers:
    """The writers of one engine queue on a lock before BEGIN IMMEDIATE.

    A thread waiting on the lock wakes as soon as the previous writer is done, where SQLite's
    own busy handler polls with sleeps of up to 100 ms. Writers of other processes still meet
    at SQLite's lock (the busy timeout).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: Connection) -> None:
        """BEGIN for reads; the lock and BEGIN IMMEDIATE for writes (see begin_write)."""
        if not connection.get_execution_options().get(WRITE_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise TimeoutError("another writer held the database for too long")
        connection.info[_HOLDS_WRITER] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release(connection.info)
            raise

    def end(self, connection: Connection) -> None:
        """The transaction ends (commit or rollback): let the next writer in."""
        self._release(connection.info)

    def checkin(self, _dbapi_connection: Any, record: Any) -> None:
        """A safety net: a connection never goes back to the pool holding the lock."""
        self._release(record.info)

    def _release(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_WRITER, False):
            self._lock.release()


def target_metadata() -> MetaData:
    """The metadata of every model: orders/tables.py and each orders/*_tables.py module.

    Model modules of other areas (dialog_tables.py, ...) share the Base; importing them all
    here is what lets the migration check and autogenerate see every table.
    """
    package = Path(__file__).resolve().parent
    for module in pkgutil.iter_modules([str(package)]):
        if module.name.endswith("_tables"):
            importlib.import_module(f"{__package__}.{module.name}")
    return Base.metadata


def on_sqlite(session: Session) -> bool:
    """Whether the session's database is SQLite (one writer at a time, see begin_write)."""
    return session.get_bind().dialect.name == "sqlite"


def begin_write(session: Session) -> None:
    """Start the calling use case's write transaction (see the module docstring).

    On SQLite a transaction that only read so far is committed first (nothing is pending in
    a use case's read phase; objects stay loaded) and the next statement begins IMMEDIATE.
    """
    if not on_sqlite(session):
        return
    if session.in_transaction():
        if session.connection().get_execution_options().get(WRITE_OPTION, False):
            return
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})


def end_read(session: Session) -> None:
    """End a transaction that only read, with COMMIT; its connection goes back to the pool.

    COMMIT, not ROLLBACK: both end a read alike, but psycopg forgets its prepared statements
    on every ROLLBACK (and sends DEALLOCATE ALL), so reads that ended in a rollback kept
    PostgreSQL parsing and planning every statement again. Objects read stay usable (the
    sessions do not expire them on commit).
    """
    if session.in_transaction():
        session.commit()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory; objects stay readable after commit (use cases return them)."""
    return sessionmaker(engine, expire_on_commit=False)


def display_url(engine: Engine) -> str:
    """The engine's URL with any password hidden, for messages and logs."""
    return engine.url.render_as_string(hide_password=True)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config built in code, so migrations run from an installed package too."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to a revision (the head by default)."""
    logger.info("migrating %s to %s", display_url(engine), revision)
    command.upgrade(alembic_config(engine), revision)


def head_revisions(engine: Engine) -> tuple[str, ...]:
    """The head revision(s) of the shipped migrations."""
    return tuple(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revision(s) the database is at; empty for a database never migrated."""
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def require_migrated(engine: Engine) -> None:
    """Raise DatabaseNotMigrated, naming the fixing command, unless the database is at head."""
    current, head = current_revisions(engine), head_revisions(engine)
    if set(current) != set(head):
        raise DatabaseNotMigrated(display_url(engine), current, head)
