"""More requests in flight than database connections and threads: none starves the others."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.conftest import new_shopper


@pytest.fixture
def app(database_url: str, clock: FakeClock, loaded: None) -> FastAPI:
    """One thread and two connections (pool 1 + overflow 1) for all requests of the worker."""
    settings = Settings(database_url=database_url, db_pool_size=1, worker_threads=1)
    return create_app(settings, clock=clock)


def test_requests_waiting_for_a_thread_hold_no_connection(
    live_server: str, session: Session
) -> None:
    # Authentication and the route's work are two thread hops. If a request kept the
    # connection of its token lookup while it waited for the thread, the third request would
    # wait for a connection forever (QueuePool timeout, then a 500).
    shoppers = [new_shopper(session, f"shopper {n}") for n in range(12)]
    start = threading.Barrier(len(shoppers))
    with httpx.Client(base_url=live_server, timeout=60) as client:

        def shop(index: int) -> int:
            start.wait()
            item = {"product_id": "latte", "quantity": 1}
            auth = shoppers[index].auth
            return client.post("/v1/cart/items", json=item, headers=auth).status_code

        with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
            codes = list(pool.map(shop, range(len(shoppers))))
    assert codes == [200] * len(shoppers)


def test_sessions_left_in_a_read_close_while_every_request_thread_waits(
    live_server: str, session: Session
) -> None:
    # GET /v1/cart ends in an open read transaction, closed after the route in a thread. If
    # that thread came from the request threads, a request thread waiting for a connection
    # would wait for sessions that wait for its thread (deadlock until the pool timeout).
    shoppers = [new_shopper(session, f"reader {n}") for n in range(12)]
    start = threading.Barrier(len(shoppers))
    with httpx.Client(base_url=live_server, timeout=60) as client:

        def read(index: int) -> int:
            start.wait()
            return client.get("/v1/cart", headers=shoppers[index].auth).status_code

        with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
            codes = list(pool.map(read, range(len(shoppers))))
    assert codes == [200] * len(shoppers)
