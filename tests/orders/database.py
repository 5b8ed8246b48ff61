"""Database fixtures: every test gets a fresh, migrated database on SQLite, and on PostgreSQL too
when VOICECART_TEST_POSTGRES_URL is set (a new schema per test, dropped afterwards).

Imported by tests/orders/conftest.py and tests/server/conftest.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from catalog.model import Catalog
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.db import make_engine, make_sessions, sqlite_url, upgrade
from tests.orders.factories import FakeClock, make_catalog

POSTGRES_ENV = "VOICECART_TEST_POSTGRES_URL"
POSTGRES_URL = os.environ.get(POSTGRES_ENV, "")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    *(
        [pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]
        if POSTGRES_URL
        else []
    ),
]


def with_search_path(url: str, schema: str) -> str:
    """The PostgreSQL URL with every connection's search_path set to one schema."""
    parsed = make_url(url)
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new empty database (a file, or a fresh PostgreSQL schema)."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path)
        return
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield with_search_path(POSTGRES_URL, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database this run of the test uses: "sqlite" or "postgresql"."""
    return str(request.param)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (never migrated)."""
    yield from empty_database(backend, tmp_path)


@pytest.fixture
def database_url(empty_url: str) -> str:
    """The URL of a database migrated to head by the real migrations."""
    engine = make_engine(empty_url, pool_size=2)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return empty_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated test database."""
    engine = make_engine(database_url, pool_size=20)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory of the test database."""
    return make_sessions(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session, closed after the test."""
    with sessions() as session:
        yield session


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def catalog(session: Session, clock: FakeClock) -> Catalog:
    """The test catalog, loaded into the database and read back as the service sees it."""
    load_catalog_into(session, make_catalog(), source="tests", clock=clock)
    return CatalogCache().get(session).catalog
