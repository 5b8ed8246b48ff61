"""API tokens: a process remembers the ones that worked, briefly, and never the others."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from orders import tables
from server.app import create_app
from server.callers import Caller, Callers
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper, Ticks

ADA = Caller(1, "Ada")


def test_a_token_is_remembered_for_ttl_seconds() -> None:
    ticks = Ticks()
    callers = Callers(ttl=30, clock=ticks)
    assert callers.get("t1") is None
    callers.put("t1", ADA)
    ticks.now += 29.9
    assert callers.get("t1") == ADA
    assert callers.get("t2") is None
    ticks.now += 0.2
    assert callers.get("t1") is None


def test_zero_ttl_remembers_nothing_and_size_is_bounded() -> None:
    off = Callers(ttl=0)
    off.put("t1", ADA)
    assert off.get("t1") is None
    small = Callers(ttl=30, size=2)
    for number in range(3):
        small.put(f"t{number}", Caller(number, "x"))
    small.get("t1")  # used: stays; t0 was the least recently used
    small.put("t3", Caller(3, "x"))
    assert [small.get(f"t{n}") is not None for n in range(4)] == [False, True, False, True]


def _statements(app: FastAPI) -> list[str]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(app.state.services.engine, "before_cursor_execute", count)
    return seen


def test_a_known_token_costs_no_query(client: TestClient, app: FastAPI, ada: Shopper) -> None:
    assert client.get("/v1/orders", headers=ada.auth).status_code == 200
    seen = _statements(app)
    assert client.get("/v1/orders", headers=ada.auth).status_code == 200
    assert seen
    assert not [sql for sql in seen if "identities" in sql]


def test_without_the_cache_a_deleted_token_stops_at_once(
    database_url: str, clock: FakeClock, loaded: None, session: Session, ada: Shopper
) -> None:
    settings = Settings(database_url=database_url, token_cache_seconds=0)
    with TestClient(create_app(settings, clock=clock)) as client:
        assert client.get("/v1/cart", headers=ada.auth).status_code == 200
        session.execute(delete(tables.Identity).where(tables.Identity.customer_id == ada.id))
        session.commit()
        refused = client.get("/v1/cart", headers=ada.auth)
        assert refused.status_code == 401
        assert refused.json()["error"] == "NotAuthenticated"
