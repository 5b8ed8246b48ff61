"""Checkout, orders, cancel and reorder over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orders.catalog_store import load_catalog_into
from tests.orders.factories import FakeClock, make_catalog, with_price
from tests.server.conftest import Shopper

CONFIRMED = {"confirm": True, "address": "1 Main St"}


def _fill(client: TestClient, shopper: Shopper) -> None:
    client.post(
        "/v1/cart/items",
        json={"product_id": "latte", "options": {"size": "large"}},
        headers=shopper.auth,
    )
    client.post(
        "/v1/cart/items", json={"product_id": "croissant", "quantity": 2}, headers=shopper.auth
    )


def _checkout(
    client: TestClient, shopper: Shopper, key: str, body: dict[str, object] = CONFIRMED
) -> Any:  # the test client's response type (httpx or httpx2)
    return client.post("/v1/checkout", json=body, headers={**shopper.auth, "Idempotency-Key": key})


def test_checkout_needs_a_key_and_an_explicit_yes(client: TestClient, ada: Shopper) -> None:
    _fill(client, ada)
    no_key = client.post("/v1/checkout", json=CONFIRMED, headers=ada.auth)
    assert no_key.status_code == 422
    assert no_key.json()["field"] == "Idempotency-Key"
    no_confirm = _checkout(client, ada, "k", {"address": "1 Main St"})
    assert no_confirm.status_code == 422
    assert no_confirm.json()["field"] == "confirm"
    said_no = _checkout(client, ada, "k", {"confirm": False})
    assert said_no.status_code == 409
    assert said_no.json()["error"] == "ConfirmationRequired"
    assert client.get("/v1/orders", headers=ada.auth).json() == []
    assert len(client.get("/v1/cart", headers=ada.auth).json()["lines"]) == 2


def test_checkout_is_idempotent(client: TestClient, ada: Shopper, clock: FakeClock) -> None:
    _fill(client, ada)
    placed = _checkout(client, ada, "key-1")
    assert placed.status_code == 201
    order = placed.json()
    assert order["status"] == "placed"
    assert [(x["product_id"], x["quantity"], x["unit_price"]) for x in order["lines"]] == [
        ("latte", 1, 525),
        ("croissant", 2, 325),
    ]
    assert (order["subtotal"], order["tax"], order["total"]) == (1175, 59, 1234)
    assert order["events"][0]["actor_kind"] == "customer"
    retry = _checkout(client, ada, "key-1")
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == order
    conflict = _checkout(client, ada, "key-1", {"confirm": True, "address": "2 Elm St"})
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "IdempotencyConflict"
    empty = _checkout(client, ada, "key-2")
    assert empty.status_code == 409
    assert empty.json()["error"] == "CartEmpty"
    assert [o["id"] for o in client.get("/v1/orders", headers=ada.auth).json()] == [order["id"]]


def test_another_customers_order_is_404_never_403(
    client: TestClient, ada: Shopper, bob: Shopper
) -> None:
    _fill(client, ada)
    order_id = _checkout(client, ada, "k").json()["id"]
    assert client.get(f"/v1/orders/{order_id}", headers=ada.auth).status_code == 200
    theirs = client.get(f"/v1/orders/{order_id}", headers=bob.auth)
    nobodys = client.get(f"/v1/orders/{order_id + 999}", headers=bob.auth)
    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json()["error"] == nobodys.json()["error"] == "OrderNotFound"
    cancel = client.post(f"/v1/orders/{order_id}/cancel", headers=bob.auth)
    assert cancel.status_code == 404
    assert client.get("/v1/orders", headers=bob.auth).json() == []
    assert client.get(f"/v1/orders/{order_id}", headers=ada.auth).json()["status"] == "placed"


def test_cancel_then_cancel_again_conflicts(client: TestClient, ada: Shopper) -> None:
    _fill(client, ada)
    order_id = _checkout(client, ada, "k").json()["id"]
    cancelled = client.post(f"/v1/orders/{order_id}/cancel", headers=ada.auth)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert [e["to_status"] for e in cancelled.json()["events"]] == ["placed", "cancelled"]
    again = client.post(f"/v1/orders/{order_id}/cancel", headers=ada.auth)
    assert again.status_code == 409
    assert again.json()["error"] == "IllegalTransition"


def test_price_change_leaves_placed_orders_alone(
    client: TestClient, ada: Shopper, session: Session, clock: FakeClock
) -> None:
    _fill(client, ada)
    order = _checkout(client, ada, "k").json()
    load_catalog_into(
        session, with_price(make_catalog(), "croissant", 400), source="new", clock=clock
    )
    again = client.get(f"/v1/orders/{order['id']}", headers=ada.auth).json()
    assert again["lines"][1]["unit_price"] == 325
    assert again["total"] == order["total"]
    client.post("/v1/cart/items", json={"product_id": "croissant"}, headers=ada.auth)
    assert client.get("/v1/cart", headers=ada.auth).json()["lines"][0]["unit_price"] == 400


def test_reorder_goes_to_the_cart_and_needs_a_checkout(client: TestClient, ada: Shopper) -> None:
    nothing = client.post("/v1/reorder", json={"target": "last"}, headers=ada.auth)
    assert nothing.status_code == 404
    assert nothing.json()["error"] == "NothingToReorder"
    _fill(client, ada)
    first = _checkout(client, ada, "k1").json()
    result = client.post("/v1/reorder", json={"target": "last"}, headers=ada.auth)
    assert result.status_code == 200
    assert result.json()["order_id"] == first["id"]
    assert [x["product_id"] for x in result.json()["cart"]["lines"]] == ["latte", "croissant"]
    assert len(client.get("/v1/orders", headers=ada.auth).json()) == 1
    second = _checkout(client, ada, "k2").json()
    assert [x["unit_price"] for x in second["lines"]] == [x["unit_price"] for x in first["lines"]]
    usual = client.post("/v1/reorder", json={"target": "usual"}, headers=ada.auth)
    assert usual.status_code == 200
    assert usual.json()["order_id"] == second["id"]


def test_reorder_a_product_by_words(client: TestClient, bob: Shopper) -> None:
    client.post(
        "/v1/cart/items", json={"product_id": "paper-towels", "quantity": 2}, headers=bob.auth
    )
    client.post("/v1/cart/items", json={"product_id": "bananas"}, headers=bob.auth)
    _checkout(client, bob, "k")
    result = client.post(
        "/v1/reorder", json={"target": "product", "query": "my paper towels"}, headers=bob.auth
    )
    assert result.status_code == 200
    assert [(x["product_id"], x["quantity"]) for x in result.json()["cart"]["lines"]] == [
        ("paper-towels", 2)
    ]
    never = client.post(
        "/v1/reorder", json={"target": "product", "query": "oat milk"}, headers=bob.auth
    )
    assert never.status_code == 404
    missing = client.post("/v1/reorder", json={"target": "product"}, headers=bob.auth)
    assert missing.status_code == 422
    assert missing.json()["field"] == "product_id"
