"""Fixtures of the HTTP API tests: the real app on a real database, customers with tokens."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orders.catalog_store import load_catalog_into
from orders.customers import create_customer
from server.app import create_app
from server.settings import Settings
from tests.orders.database import (
    backend,
    clock,
    database_url,
    empty_url,
    engine,
    session,
    sessions,
)
from tests.orders.factories import FakeClock, make_catalog

__all__ = [
    "backend",
    "clock",
    "database_url",
    "empty_url",
    "engine",
    "session",
    "sessions",
]


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Shopper:
    """A customer as the API sees them: id and the Authorization header."""

    id: int
    token: str

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def loaded(session: Session, clock: FakeClock) -> None:
    """The test catalog in the database."""
    load_catalog_into(session, make_catalog(), source="tests", clock=clock)


@pytest.fixture
def app(database_url: str, clock: FakeClock, loaded: None) -> FastAPI:
    """The app on the test database, with the test clock."""
    # A catalog loaded by a test is seen by the next request (servers check once a second).
    return create_app(Settings(database_url=database_url, catalog_refresh_seconds=0), clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client of the app."""
    with TestClient(app) as client:
        yield client


def new_shopper(session: Session, name: str, home: str | None = "cafe") -> Shopper:
    """A customer with an API token."""
    customer, token = create_customer(session, name=name, home_store_id=home)
    return Shopper(customer.id, token)


@pytest.fixture
def ada(session: Session, loaded: None) -> Shopper:
    """A shopper whose home store is the café."""
    return new_shopper(session, "Ada")


@pytest.fixture
def bob(session: Session, loaded: None) -> Shopper:
    """A shopper whose home store is the market."""
    return new_shopper(session, "Bob", home="market")


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn on 127.0.0.1 (in a thread); yields the base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
