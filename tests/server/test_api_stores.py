"""Stores and catalog search over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.orders.factories import FakeClock


def test_stores_say_whether_they_are_open(client: TestClient, clock: FakeClock) -> None:
    stores = {s["id"]: s for s in client.get("/v1/stores").json()}
    assert set(stores) == {"market", "cafe"}
    cafe = stores["cafe"]
    assert cafe["pickup"] is True
    assert cafe["open_now"] is True
    assert cafe["hours"]["tue"] == ["07:00-18:00"]
    assert cafe["tax_rate"] == "0.05"
    assert stores["market"]["hours"] is None
    clock.advance(hours=12)
    assert client.get("/v1/stores/cafe").json()["open_now"] is False
    missing = client.get("/v1/stores/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"] == "StoreNotFound"


def test_search_finds_products_and_nothing_is_empty(client: TestClient) -> None:
    found = client.get("/v1/catalog/search", params={"q": "paper towels"}).json()
    assert found["matches"][0]["product_id"] == "paper-towels"
    assert found["matches"][0]["price"] == 899
    assert (
        client.get("/v1/catalog/search", params={"q": "xylophone quasar"}).json()["matches"] == []
    )
    at_cafe = client.get("/v1/catalog/search", params={"q": "bananas", "store_id": "cafe"}).json()
    assert all(m["product_id"] != "bananas" for m in at_cafe["matches"])
    bad = client.get("/v1/catalog/search", params={"q": ""})
    assert bad.status_code == 422
    assert bad.json()["field"] == "q"


def test_product_with_its_options(client: TestClient) -> None:
    latte = client.get("/v1/catalog/products/latte").json()
    assert [g["id"] for g in latte["options"]] == ["size", "milk", "toppings"]
    size = latte["options"][0]
    assert size["default"] == "medium"
    assert size["required"] is True
    assert [(c["id"], c["price_delta"]) for c in size["choices"]] == [
        ("small", -50),
        ("medium", 0),
        ("large", 75),
    ]
    assert client.get("/v1/catalog/products/unicorn").status_code == 404
