"""Concurrency over real HTTP (uvicorn on 127.0.0.1): simultaneous checkouts and shoppers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orders import tables
from tests.server.conftest import Shopper, new_shopper


def _client(base_url: str) -> httpx.Client:
    """One pooled client shared by the threads (creating one per thread costs ~0.1 s each)."""
    return httpx.Client(base_url=base_url, timeout=60, limits=httpx.Limits(max_connections=64))


def test_fifty_simultaneous_checkouts_with_one_key_make_one_order(
    live_server: str, ada: Shopper, session: Session
) -> None:
    start = threading.Barrier(50)
    with _client(live_server) as client:
        for item in ({"product_id": "latte", "quantity": 2}, {"product_id": "croissant"}):
            client.post("/v1/cart/items", json=item, headers=ada.auth).raise_for_status()

        def attempt(_: int) -> tuple[int, int]:
            start.wait()
            headers = {**ada.auth, "Idempotency-Key": "tap-twice"}
            response = client.post("/v1/checkout", json={"confirm": True}, headers=headers)
            return response.status_code, response.json()["id"]

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(attempt, range(50)))
    assert sorted(code for code, _ in results) == [200] * 49 + [201]
    assert len({order_id for _, order_id in results}) == 1
    session.rollback()
    assert session.scalar(select(func.count()).select_from(tables.Order)) == 1
    assert session.scalar(select(func.count()).select_from(tables.OrderLine)) == 2


def test_simultaneous_shoppers_keep_their_own_carts(
    live_server: str, session: Session, loaded: None
) -> None:
    shoppers = [new_shopper(session, f"Shopper {n}") for n in range(10)]
    start = threading.Barrier(len(shoppers))
    with _client(live_server) as client:

        def shop(index: int) -> list[tuple[str, int]]:
            auth = shoppers[index].auth
            start.wait()
            for _ in range(index + 1):
                item = {"product_id": "croissant"}
                client.post("/v1/cart/items", json=item, headers=auth).raise_for_status()
            cart = client.get("/v1/cart", headers=auth).json()
            return [(line["product_id"], line["quantity"]) for line in cart["lines"]]

        with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
            carts = list(pool.map(shop, range(len(shoppers))))
    assert carts == [[("croissant", n + 1)] for n in range(len(shoppers))]
