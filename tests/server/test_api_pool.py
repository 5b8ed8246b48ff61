"""More requests in flight than database connections and threads: none starves the others."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper, new_shopper

SHOPPERS = 12


@pytest.fixture
def app(database_url: str, clock: FakeClock, loaded: None) -> FastAPI:
    """One thread and two connections (pool 1 + overflow 1) for all requests of the worker."""
    settings = Settings(database_url=database_url, db_pool_size=1, worker_threads=1)
    return create_app(settings, clock=clock)


def all_at_once(
    base_url: str, shoppers: list[Shopper], call: Callable[[httpx.Client, Shopper], int]
) -> list[int]:
    """The status codes of one call per shopper, all started together."""
    start = threading.Barrier(len(shoppers))
    with httpx.Client(base_url=base_url, timeout=60) as client:

        def one(shopper: Shopper) -> int:
            start.wait()
            return call(client, shopper)

        with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
            return list(pool.map(one, shoppers))


def test_requests_waiting_for_a_thread_hold_no_connection(
    live_server: str, session: Session
) -> None:
    # Authentication and the route's work are two thread hops. If a request kept the
    # connection of its token lookup while it waited for the thread, the third request would
    # wait for a connection forever (QueuePool timeout, then a 500).
    shoppers = [new_shopper(session, f"shopper {n}") for n in range(SHOPPERS)]
    item = {"product_id": "latte", "quantity": 1}
    codes = all_at_once(
        live_server,
        shoppers,
        lambda client, shopper: (
            client.post("/v1/cart/items", json=item, headers=shopper.auth).status_code
        ),
    )
    assert codes == [200] * SHOPPERS


def test_routes_end_their_reads_before_the_response_is_validated(
    live_server: str, session: Session
) -> None:
    # GET /v1/cart ends in a read. FastAPI validates the response in another thread hop, and
    # only then closes the session: had the route kept its read open, it would hold its
    # connection while waiting for that thread, and a request thread waiting for a connection
    # would wait for it (deadlock until the pool timeout).
    shoppers = [new_shopper(session, f"reader {n}") for n in range(SHOPPERS)]
    codes = all_at_once(
        live_server,
        shoppers,
        lambda client, shopper: client.get("/v1/cart", headers=shopper.auth).status_code,
    )
    assert codes == [200] * SHOPPERS
