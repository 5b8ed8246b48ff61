"""The live streams on a real uvicorn server: the staff queue stream and the shopper stream."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.staff_fixtures import Shop, login, place_latte, shop, staff_app
from tests.server.staff_support import SseReader, thread_server

__all__ = ["shop", "staff_app"]


@pytest.fixture
def served(staff_app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn in a thread; its base URL."""
    with thread_server(staff_app) as base:
        yield base


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client (the shoppers' side)."""
    with httpx.Client(timeout=10) as client:
        yield client


def test_staff_stream_starts_from_the_database_then_goes_live(
    served: str, shop: Shop, http: httpx.Client
) -> None:
    earlier = place_latte(http, shop.ada, key="a", base=served)
    with httpx.Client(timeout=10) as staff:
        csrf = login(staff, shop.barista, base=served)
        reader = SseReader(f"{served}/staff/stream?store=cafe", cookies=staff.cookies)
        try:
            snapshot = reader.next("snapshot")
            assert len(snapshot.data["cards"]) == 1
            assert f'id="order-{earlier["id"]}"' in snapshot.data["cards"][0]
            sent = time.time()
            order = place_latte(http, shop.ada, key="b", base=served)
            placed = reader.next("ticket", timeout=5)
            assert placed.data["order_id"] == order["id"]
            assert placed.data["event"] == "order.placed"
            assert placed.at - sent < 1.0, "a new order must be on the screen within a second"
            assert placed.data["open"]
            assert "Ada" in placed.data["html"]
            place_latte(http, shop.bob, key="c", store="elm", base=served)  # another store's
            staff.post(
                f"{served}/staff/orders/{order['id']}/accept",
                headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
            )
            accepted = reader.next("ticket", timeout=5)
            assert (accepted.data["order_id"], accepted.data["status"]) == (order["id"], "accepted")
            assert reader.events.empty()  # nothing of Elm St arrived on Main St's screen
            assert placed.id != accepted.id
        finally:
            reader.close()


def test_shopper_stream_hears_ready_and_replays_after_reconnect(
    served: str, shop: Shop, http: httpx.Client
) -> None:
    ada = SseReader(f"{served}/v1/events", headers=shop.ada.auth)
    bob = SseReader(f"{served}/v1/events", headers=shop.bob.auth)
    try:
        order = place_latte(http, shop.ada, key="a", base=served)
        placed = ada.next("notification")
        assert placed.data["event"] == "order.placed"
        assert placed.id == placed.data["id"]
        with httpx.Client(timeout=10) as staff:
            csrf = login(staff, shop.barista, base=served)
            for action in ("accept", "start", "ready"):
                answer = staff.post(
                    f"{served}/staff/orders/{order['id']}/{action}",
                    headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                )
                assert answer.status_code == 200
        live = [ada.next("notification") for _ in range(3)]
        assert [e.data["event"] for e in live] == [
            "order.accepted",
            "order.in_progress",
            "order.ready",
        ]
        assert live[-1].data["text"] == "Your large oat milk latte is ready at Main St"
        assert bob.events.empty()
    finally:
        ada.close()
        bob.close()
    again = SseReader(f"{served}/v1/events", headers={**shop.ada.auth, "Last-Event-ID": placed.id})
    try:
        replayed = [again.next("notification") for _ in range(3)]
        assert [e.id for e in replayed] == [e.id for e in live]
    finally:
        again.close()
    fresh = SseReader(f"{served}/v1/events", headers=shop.ada.auth)
    try:  # a new page load gets the story of the shopper's open orders
        assert [fresh.next("notification").id for _ in range(4)] == [placed.id] + [
            e.id for e in live
        ]
    finally:
        fresh.close()
    assert httpx.get(f"{served}/v1/events").status_code == 401


def test_the_queue_survives_a_server_restart(
    database_url: str, clock: FakeClock, shop: Shop, http: httpx.Client
) -> None:
    first = create_app(Settings(database_url=database_url), clock=clock)
    with thread_server(first) as base:
        order = place_latte(http, shop.ada, key="a", base=base)
    second = create_app(Settings(database_url=database_url), clock=clock)
    with thread_server(second) as base, httpx.Client(timeout=10) as staff:
        login(staff, shop.barista, base=base)
        reader = SseReader(f"{base}/staff/stream?store=cafe", cookies=staff.cookies)
        try:
            cards = reader.next("snapshot").data["cards"]
        finally:
            reader.close()
    assert len(cards) == 1
    assert f'id="order-{order["id"]}"' in cards[0]
