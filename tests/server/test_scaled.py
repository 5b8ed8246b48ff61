"""Scaled out: two server processes on PostgreSQL + Redis share the work.

The order is placed through process A and the staff screen is connected to process B; "ready"
is pressed on B and the shopper's stream on A hears it. A burst through both processes shows
every order on the screen exactly once, delivered by both processes' dispatchers.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from orders.customers import create_customer
from orders.db import make_engine, make_sessions, upgrade
from orders.staff_tables import Delivery
from tests.orders.database import empty_database
from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper
from tests.server.staff_fixtures import Shop, login, make_shop, place_latte
from tests.server.staff_support import ServerProcess, SseReader

POSTGRES = os.environ.get("VOICECART_TEST_POSTGRES_URL", "")
REDIS = os.environ.get("VOICECART_TEST_REDIS_URL", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not (POSTGRES and REDIS),
        reason="needs VOICECART_TEST_POSTGRES_URL and VOICECART_TEST_REDIS_URL (.ci/run sets them)",
    ),
]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema."""
    for url in empty_database("postgresql", tmp_path):
        engine = make_engine(url, pool_size=2)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def world(database: str) -> Iterator[tuple[Shop, list[Shopper], Session]]:
    """The shop, four more shoppers, and a session on the database."""
    engine = make_engine(database, pool_size=4)
    with make_sessions(engine)() as session:
        shop = make_shop(session, FakeClock())
        more = []
        for index in range(4):
            customer, token = create_customer(
                session, name=f"Shopper {index}", home_store_id="cafe"
            )
            more.append(Shopper(customer.id, token))
        yield shop, more, session
    engine.dispose()


@pytest.fixture
def pair(database: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two processes on one database and one Redis (a prefix of their own)."""
    env = {
        "VOICECART_DATABASE_URL": database,
        "VOICECART_REDIS_URL": REDIS,
        "VOICECART_EVENTS_PREFIX": f"vc-test-{uuid.uuid4().hex[:12]}",
    }
    first, second = ServerProcess(env), ServerProcess(dict(env))
    try:
        yield first.start(), second.start()
    finally:
        first.stop()
        second.stop()


def test_order_on_one_process_shows_on_the_staff_screen_of_the_other(
    pair: tuple[ServerProcess, ServerProcess],
    world: tuple[Shop, list[Shopper], Session],
) -> None:
    a, b = pair
    shop, shoppers, session = world
    with httpx.Client(timeout=10) as staff, httpx.Client(timeout=10) as client:
        csrf = login(staff, shop.barista, base=b.base)
        screen = SseReader(f"{b.base}/staff/stream?store=cafe", cookies=staff.cookies)
        ada = SseReader(f"{a.base}/v1/events", headers=shop.ada.auth)
        try:
            screen.next("snapshot")
            sent = time.time()
            order = place_latte(client, shop.ada, key="one", base=a.base)
            seen = screen.next("ticket", timeout=5)
            assert seen.data["order_id"] == order["id"]
            assert seen.at - sent < 1.0
            for action in ("accept", "start", "ready"):
                staff.post(
                    f"{b.base}/staff/orders/{order['id']}/{action}",
                    headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                )
            while (heard := ada.next("notification", timeout=5)).data["event"] != "order.ready":
                pass
            assert heard.data["text"] == "Your large oat milk latte is ready at Main St"
            burst = _burst(client, shoppers, (a, b))
            placed: dict[int, list[str]] = {}
            deadline = time.monotonic() + 15
            while sum(map(len, placed.values())) < len(burst) and time.monotonic() < deadline:
                event = screen.next("ticket", timeout=10)
                if event.data["event"] == "order.placed":
                    placed.setdefault(event.data["order_id"], []).append(event.id)
        finally:
            screen.close()
            ada.close()
    assert sorted(placed) == sorted(burst)  # none lost
    assert all(len(ids) == 1 for ids in placed.values())  # none twice
    workers = set(session.scalars(select(Delivery.locked_by).where(Delivery.channel == "store")))
    assert len({worker.split("/")[0] for worker in workers}) == 2  # both processes delivered


def _burst(
    client: httpx.Client, shoppers: list[Shopper], servers: tuple[ServerProcess, ServerProcess]
) -> list[int]:
    """Ten orders from each of four shoppers, alternating between the processes."""
    placed = []
    for round_ in range(10):
        for index, shopper in enumerate(shoppers):
            server = servers[(round_ + index) % 2]
            order = place_latte(client, shopper, key=f"b{round_}", base=server.base)
            placed.append(int(str(order["id"])))
    return placed
