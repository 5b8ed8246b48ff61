"""Fixtures of the staff tests: the always-open shop with staff and shoppers, the app, clients.

Imported by the tests/server/test_staff_*.py modules (pytest finds fixtures in a test module's
namespace), on top of the database fixtures of tests/server/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from orders.catalog_store import load_catalog_into
from orders.customers import create_customer
from orders.staff import StaffRole, add_staff
from server.app import create_app
from server.settings import Settings
from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper
from tests.server.staff_support import _CSRF, PASSWORD, live_catalog

LATTE = {
    "product_id": "latte",
    "quantity": 1,
    "options": {"size": "large", "milk": {"choice": "oat", "amount": "extra"}},
}


@dataclass(frozen=True)
class Shop:
    """Who is who: staff emails by role and store, and two shoppers."""

    barista: str
    manager: str
    other_store: str
    ada: Shopper
    bob: Shopper


def make_shop(session: Session, clock: FakeClock) -> Shop:
    """Load the always-open catalog; add staff of Main St ("cafe") and Elm St, two shoppers."""
    load_catalog_into(session, live_catalog(), source="tests", clock=clock)
    add_staff(
        session,
        email="anna@example.com",
        name="Anna",
        store_id="cafe",
        role=StaffRole.BARISTA,
        password=PASSWORD,
        clock=clock,
    )
    add_staff(
        session,
        email="max@example.com",
        name="Max",
        store_id="cafe",
        role=StaffRole.MANAGER,
        password=PASSWORD,
        clock=clock,
    )
    add_staff(
        session,
        email="eli@example.com",
        name="Eli",
        store_id="elm",
        role=StaffRole.MANAGER,
        password=PASSWORD,
        clock=clock,
    )
    ada, ada_token = create_customer(
        session, name="Ada Lovelace", home_store_id="cafe", clock=clock
    )
    bob, bob_token = create_customer(session, name="Bob Stone", home_store_id="elm", clock=clock)
    return Shop(
        barista="anna@example.com",
        manager="max@example.com",
        other_store="eli@example.com",
        ada=Shopper(ada.id, ada_token),
        bob=Shopper(bob.id, bob_token),
    )


@pytest.fixture
def shop(session: Session, clock: FakeClock) -> Shop:
    """The shop in the test database."""
    return make_shop(session, clock)


@pytest.fixture
def staff_app(database_url: str, clock: FakeClock, shop: Shop) -> FastAPI:
    """The app on the test database with the test clock."""
    return create_app(Settings(database_url=database_url), clock=clock)


@pytest.fixture
def web(staff_app: FastAPI) -> Iterator[TestClient]:
    """A client of the app (cookies kept, redirects not followed)."""
    with TestClient(staff_app, follow_redirects=False) as client:
        yield client


def login(client: TestClient | httpx.Client, email: str, base: str = "") -> str:
    """Log in through the form; returns the session's CSRF token."""
    form = client.get(f"{base}/staff/login")
    token = _CSRF.search(form.text)
    assert token is not None
    answer = client.post(
        f"{base}/staff/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.text
    queue = client.get(f"{base}/staff")
    found = _CSRF.search(queue.text)
    assert found is not None
    return found.group(1)


def place_latte(
    client: TestClient | httpx.Client,
    shopper: Shopper,
    *,
    key: str,
    store: str = "cafe",
    base: str = "",
) -> dict[str, object]:
    """Put a large oat latte (extra oat) in the cart and place it for pickup; the order JSON."""
    add_latte(client, shopper, base=base)
    return place_pickup(client, shopper, key=key, store=store, base=base)


def add_latte(client: TestClient | httpx.Client, shopper: Shopper, *, base: str = "") -> None:
    """Put a large oat latte (extra oat) in the shopper's cart."""
    added = client.post(f"{base}/v1/cart/items", json=LATTE, headers=shopper.auth)
    assert added.status_code in (200, 201), added.text


def place_pickup(
    client: TestClient | httpx.Client,
    shopper: Shopper,
    *,
    key: str,
    store: str = "cafe",
    base: str = "",
) -> dict[str, object]:
    """Place the shopper's cart for pickup at the store; the order JSON."""
    placed = client.post(
        f"{base}/v1/pickup/orders",
        json={"confirm": True, "store_id": store},
        headers={**shopper.auth, "Idempotency-Key": key},
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, object] = placed.json()
    return order
