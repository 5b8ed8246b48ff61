"""Pickup over HTTP: the estimate, placing a pickup order, and the refusals."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper


def test_estimate_then_place_a_pickup_order(
    client: TestClient, ada: Shopper, clock: FakeClock
) -> None:
    empty = client.get("/v1/pickup/estimate", params={"store_id": "cafe"}, headers=ada.auth)
    assert empty.status_code == 409
    assert empty.json()["error"] == "CartEmpty"
    client.post("/v1/cart/items", json={"product_id": "latte", "quantity": 2}, headers=ada.auth)
    estimate = client.get(
        "/v1/pickup/estimate", params={"store_id": "cafe"}, headers=ada.auth
    ).json()
    expected = (clock.now + timedelta(minutes=6)).isoformat().replace("+00:00", "Z")
    assert estimate == {
        "store_id": "cafe",
        "ready_at": expected,
        "own_minutes": 6,
        "queue_minutes": 0,
        "orders_ahead": 0,
    }
    placed = client.post(
        "/v1/pickup/orders",
        json={"confirm": True, "store_id": "cafe"},
        headers={**ada.auth, "Idempotency-Key": "p1"},
    )
    assert placed.status_code == 201
    order = placed.json()
    assert order["fulfilment"] == "pickup"
    assert order["promised_at"] == estimate["ready_at"]


def test_pickup_refusals(client: TestClient, bob: Shopper, clock: FakeClock) -> None:
    client.post("/v1/cart/items", json={"product_id": "oat-milk"}, headers=bob.auth)
    headers = {**bob.auth, "Idempotency-Key": "p"}
    market = client.post("/v1/pickup/orders", json={"confirm": True}, headers=headers)
    assert market.status_code == 409
    assert market.json()["error"] == "PickupUnavailable"
    saturday = "2025-03-08T10:00:00-08:00"
    closed = client.post(
        "/v1/pickup/orders",
        json={"confirm": True, "store_id": "cafe", "pickup_at": saturday},
        headers=headers,
    )
    assert closed.status_code == 409
    assert closed.json()["error"] == "StoreClosed"
    naive = client.post(
        "/v1/pickup/orders",
        json={"confirm": True, "store_id": "cafe", "pickup_at": "2025-03-04T09:00:00"},
        headers=headers,
    )
    assert naive.status_code == 422
    assert naive.json()["field"] == "pickup_at"
    assert client.get("/v1/orders", headers=bob.auth).json() == []
