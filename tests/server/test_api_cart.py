"""The cart over HTTP: options in every form, quantities, removal, the store, and isolation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.conftest import Shopper


def test_add_with_options_and_read_back(client: TestClient, ada: Shopper) -> None:
    body = {
        "product_id": "latte",
        "quantity": 2,
        "options": {
            "size": "large",
            "milk": {"choice": "oat", "amount": "extra"},
            "toppings": ["cocoa"],
        },
    }
    added = client.post("/v1/cart/items", json=body, headers=ada.auth)
    assert added.status_code == 200
    cart = added.json()
    (line,) = cart["lines"]
    assert [(o["group"], o["choice"], o["amount"]) for o in line["options"]] == [
        ("size", "large", "regular"),
        ("milk", "oat", "extra"),
        ("toppings", "cocoa", "regular"),
    ]
    assert line["unit_price"] == 450 + 75 + 60 + 20
    assert cart["subtotal"] == 2 * 605
    assert cart["tax"] == 61  # 5% of 1210 = 60.5
    assert cart["total"] == 1271
    assert cart["item_count"] == 2
    assert cart["currency"] == "USD"
    assert client.get("/v1/cart", headers=ada.auth).json() == cart


def test_quantity_remove_clear_and_store(client: TestClient, ada: Shopper) -> None:
    client.post("/v1/cart/items", json={"product_id": "croissant"}, headers=ada.auth)
    cart = client.post("/v1/cart/items", json={"product_id": "oat-milk"}, headers=ada.auth).json()
    croissant, milk = (line["id"] for line in cart["lines"])
    cart = client.patch(
        f"/v1/cart/items/{croissant}", json={"quantity": 3}, headers=ada.auth
    ).json()
    assert [line["quantity"] for line in cart["lines"]] == [3, 1]
    cart = client.delete(f"/v1/cart/items/{milk}", headers=ada.auth).json()
    assert [line["product_id"] for line in cart["lines"]] == ["croissant"]
    moved = client.put("/v1/cart/store", json={"store_id": "market"}, headers=ada.auth).json()
    assert moved["store_id"] == "market"
    assert moved["lines"][0]["available"] is False
    assert "not sold at store 'market'" in moved["lines"][0]["problem"]
    assert moved["total"] == 0
    cleared = client.delete("/v1/cart", headers=ada.auth).json()
    assert cleared["lines"] == []
    assert cleared["store_id"] == "market"
    missing = client.patch(f"/v1/cart/items/{croissant}", json={"quantity": 1}, headers=ada.auth)
    assert missing.status_code == 404
    assert missing.json()["error"] == "LineNotFound"


def test_two_customers_never_see_each_others_carts(
    client: TestClient, ada: Shopper, bob: Shopper
) -> None:
    ada_cart = client.post(
        "/v1/cart/items", json={"product_id": "croissant"}, headers=ada.auth
    ).json()
    bob_cart = client.post(
        "/v1/cart/items", json={"product_id": "bananas"}, headers=bob.auth
    ).json()
    assert [x["product_id"] for x in client.get("/v1/cart", headers=ada.auth).json()["lines"]] == [
        "croissant"
    ]
    assert [x["product_id"] for x in client.get("/v1/cart", headers=bob.auth).json()["lines"]] == [
        "bananas"
    ]
    line = ada_cart["lines"][0]["id"]
    for response in (
        client.patch(f"/v1/cart/items/{line}", json={"quantity": 9}, headers=bob.auth),
        client.delete(f"/v1/cart/items/{line}", headers=bob.auth),
        client.put(f"/v1/cart/items/{line}/note", json={"note": "no bag"}, headers=bob.auth),
    ):
        assert response.status_code == 404
    [ada_line] = client.get("/v1/cart", headers=ada.auth).json()["lines"]
    assert (ada_line["quantity"], ada_line["note"]) == (1, None)
    assert bob_cart["customer_id"] == bob.id


def test_a_lines_request_is_set_and_cleared(client: TestClient, ada: Shopper) -> None:
    cart = client.post(
        "/v1/cart/items",
        json={"product_id": "latte", "options": {"size": "small"}},
        headers=ada.auth,
    ).json()
    line = cart["lines"][0]["id"]
    url = f"/v1/cart/items/{line}/note"
    noted = client.put(url, json={"note": "  no   lid "}, headers=ada.auth)
    assert noted.status_code == 200
    assert [(x["id"], x["note"]) for x in noted.json()["lines"]] == [(line, "no lid")]
    cleared = client.put(url, json={"note": None}, headers=ada.auth).json()
    assert [(x["id"], x["note"]) for x in cleared["lines"]] == [(line, None)]


def test_a_bad_request_change_is_refused_and_keeps_the_line(
    client: TestClient, ada: Shopper
) -> None:
    cart = client.post(
        "/v1/cart/items", json={"product_id": "latte", "note": "no lid"}, headers=ada.auth
    ).json()
    url = f"/v1/cart/items/{cart['lines'][0]['id']}/note"
    assert client.put(url, json={"note": "x" * 141}, headers=ada.auth).status_code == 422
    assert client.put(url, json={"note": "a\x00b"}, headers=ada.auth).status_code == 422
    assert client.put(url, json={}, headers=ada.auth).status_code == 422
    assert client.put(url, json={"note": "no bag"}).status_code == 401
    assert client.get("/v1/cart", headers=ada.auth).json()["lines"][0]["note"] == "no lid"
