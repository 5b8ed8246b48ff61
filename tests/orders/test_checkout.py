"""Checkout: confirmation, idempotency, price snapshots, tax, and concurrent retries."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.errors import VoiceCartError
from catalog.model import Amount, Catalog
from catalog.request import OptionValue
from orders import tables
from orders.carts import add_to_cart, lock_customer, read_cart
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.checkout import CheckoutRequest, checkout
from orders.errors import (
    CartEmpty,
    ConfirmationRequired,
    FieldInvalid,
    IdempotencyConflict,
    ProductUnavailable,
    StoreNotFound,
)
from orders.queries import get_order
from orders.staff_tables import Delivery, Notification
from orders.tables import Channel, Fulfilment, OrderStatus
from tests.orders.factories import FakeClock, make_catalog, new_customer, with_price

DELIVERY = CheckoutRequest(fulfilment=Fulfilment.DELIVERY, address="1 Main St")
ELSEWHERE = CheckoutRequest(fulfilment=Fulfilment.DELIVERY, address="2 Elm St")
"""Another request body: with a used key, an IdempotencyConflict."""


def _count(session: Session, model: type[tables.Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _fill(session: Session, customer: int, catalog: Catalog) -> None:
    add_to_cart(
        session,
        customer,
        catalog=catalog,
        product_id="latte",
        quantity=2,
        options={"size": OptionValue("large"), "milk": OptionValue("oat", Amount.LIGHT)},
    )
    add_to_cart(session, customer, catalog=catalog, product_id="croissant")


def _confirmed(
    session: Session, customer: int, catalog: Catalog, *, key: str
) -> tuple[tables.Order, bool]:
    """A confirmed delivery checkout with this idempotency key."""
    return checkout(
        session, customer, DELIVERY, catalog=catalog, idempotency_key=key, confirmed=True
    )


def test_checkout_places_the_cart_with_snapshots_and_tax(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    order, created = checkout(
        session, ada, DELIVERY, catalog=catalog, idempotency_key="k1", confirmed=True, clock=clock
    )
    assert created
    assert order.status is OrderStatus.PLACED
    assert (order.store_id, order.fulfilment, order.channel) == (
        "cafe",
        Fulfilment.DELIVERY,
        Channel.APP,
    )
    assert [(x.product_id, x.quantity, x.unit_price, x.line_total) for x in order.lines] == [
        ("latte", 2, 450 + 75 + 60, 1170),
        ("croissant", 1, 325, 325),
    ]
    assert order.lines[0].base_price == 450
    assert [o["choice_name"] for o in order.lines[0].options] == ["Large", "Oat Milk"]
    assert order.subtotal == 1495
    assert order.tax == 75  # 5% of 1495 = 74.75
    assert order.total == 1570
    assert order.placed_at == clock.now
    assert [(e.from_status, e.to_status, e.actor_kind.value, e.actor_id) for e in order.events] == [
        (None, OrderStatus.PLACED, "customer", str(ada))
    ]
    assert read_cart(session, ada, catalog=catalog).lines == ()
    session.expunge_all()
    assert get_order(session, ada, order.id).total == 1570


def test_the_returned_order_is_the_stored_one_and_the_session_goes_on(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    held = lock_customer(session, ada)  # a caller holding the cart sees what checkout did
    session.commit()
    order, _ = checkout(
        session, ada, DELIVERY, catalog=catalog, idempotency_key="k1", confirmed=True, clock=clock
    )
    assert held.cart is not None
    assert held.cart.lines == []
    # The same session shops on, and the next order is its own.
    add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    second, _ = checkout(
        session, ada, DELIVERY, catalog=catalog, idempotency_key="k2", confirmed=True, clock=clock
    )
    assert [line.product_id for line in second.lines] == ["croissant"]
    session.expunge_all()
    for placed in (order, second):
        stored = get_order(session, ada, placed.id)
        assert [(x.id, x.order_id, x.position) for x in placed.lines] == [
            (x.id, x.order_id, x.position) for x in stored.lines
        ]
        assert [(x.id, x.order_id) for x in placed.events] == [
            (x.id, x.order_id) for x in stored.events
        ]
    notifications = session.scalars(select(Notification).order_by(Notification.order_id)).all()
    assert [(n.order_id, n.event, n.customer_id) for n in notifications] == [
        (order.id, "order.placed", ada),
        (second.id, "order.placed", ada),
    ]
    channels = session.scalars(
        select(Delivery.channel).where(Delivery.notification_id == notifications[0].id)
    ).all()
    assert channels == ["app"]  # a delivery order: no store screen


def test_no_order_without_an_explicit_yes(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    with pytest.raises(ConfirmationRequired):
        checkout(session, ada, DELIVERY, catalog=catalog, idempotency_key="k1", confirmed=False)
    session.rollback()
    assert _count(session, tables.Order) == 0
    assert len(read_cart(session, ada, catalog=catalog).lines) == 2


def test_same_key_gives_the_same_order_and_another_body_conflicts(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    first, created = _confirmed(session, ada, catalog, key="k1")
    again, created_again = _confirmed(session, ada, catalog, key="k1")
    assert created
    assert not created_again
    assert again.id == first.id
    with pytest.raises(IdempotencyConflict) as caught:
        checkout(session, ada, ELSEWHERE, catalog=catalog, idempotency_key="k1", confirmed=True)
    assert caught.value.order_id == first.id
    session.rollback()
    with pytest.raises(CartEmpty):
        checkout(session, ada, DELIVERY, catalog=catalog, idempotency_key="k2", confirmed=True)
    session.rollback()
    assert _count(session, tables.Order) == 1


def test_a_used_key_with_a_refilled_cart_replays_and_keeps_the_new_cart(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    first, _ = _confirmed(session, ada, catalog, key="k1")
    add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    again, created = _confirmed(session, ada, catalog, key="k1")
    assert (again.id, created) == (first.id, False)
    with pytest.raises(IdempotencyConflict):
        checkout(session, ada, ELSEWHERE, catalog=catalog, idempotency_key="k1", confirmed=True)
    session.rollback()
    assert _count(session, tables.Order) == 1
    assert [line.product_id for line in read_cart(session, ada, catalog=catalog).lines] == [
        "croissant"
    ]


def test_keys_are_per_customer(session: Session, catalog: Catalog) -> None:
    ada, bob = new_customer(session, "Ada"), new_customer(session, "Bob")
    _fill(session, ada, catalog)
    _fill(session, bob, catalog)
    a, _ = checkout(session, ada, DELIVERY, catalog=catalog, idempotency_key="same", confirmed=True)
    b, created = checkout(
        session, bob, DELIVERY, catalog=catalog, idempotency_key="same", confirmed=True
    )
    assert created
    assert a.id != b.id
    assert (a.customer_id, b.customer_id) == (ada, bob)


def test_price_change_does_not_touch_placed_orders(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    order, _ = checkout(
        session, ada, DELIVERY, catalog=catalog, idempotency_key="k1", confirmed=True
    )
    load_catalog_into(session, with_price(make_catalog(), "latte", 999), source="new", clock=clock)
    newer = CatalogCache().get(session).catalog
    session.expunge_all()
    placed = get_order(session, ada, order.id)
    assert [x.unit_price for x in placed.lines] == [585, 325]
    assert placed.total == 1570
    add_to_cart(session, ada, catalog=newer, product_id="latte")
    assert read_cart(session, ada, catalog=newer).lines[0].unit_price == 999


def test_bad_checkouts_are_refused_and_keep_the_cart(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    cases: list[tuple[CheckoutRequest, str, type[VoiceCartError]]] = [
        (DELIVERY, "", FieldInvalid),
        (DELIVERY, "x" * 256, FieldInvalid),
        (CheckoutRequest(store_id="nowhere"), "k", StoreNotFound),
        (CheckoutRequest(store_id="market"), "k", ProductUnavailable),
        (CheckoutRequest(pickup_at=FakeClock().now), "k", FieldInvalid),
    ]
    for request, key, error in cases:
        with pytest.raises(error):
            checkout(session, ada, request, catalog=catalog, idempotency_key=key, confirmed=True)
        session.rollback()
    assert _count(session, tables.Order) == 0
    assert len(read_cart(session, ada, catalog=catalog).lines) == 2


def test_pickup_checkout_promises_a_ready_time(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    _fill(session, ada, catalog)
    request = CheckoutRequest(fulfilment=Fulfilment.PICKUP, store_id="cafe")
    order, _ = checkout(
        session, ada, request, catalog=catalog, idempotency_key="p1", confirmed=True, clock=clock
    )
    assert order.prep_minutes == 2 * 3 + 1
    assert order.promised_at == clock.now + timedelta(minutes=7)
    assert order.requested_at is None


def test_fifty_simultaneous_checkouts_with_one_key_make_one_order(
    sessions: sessionmaker[Session], catalog: Catalog
) -> None:
    with sessions() as session:
        ada = new_customer(session)
        _fill(session, ada, catalog)
    start = threading.Barrier(50)

    def attempt(_: int) -> tuple[int, bool]:
        with sessions() as session:
            start.wait()
            order, created = checkout(
                session, ada, DELIVERY, catalog=catalog, idempotency_key="retry-me", confirmed=True
            )
            return order.id, created

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, range(50)))
    assert len({order_id for order_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with sessions() as session:
        assert _count(session, tables.Order) == 1
        assert _count(session, tables.OrderLine) == 2


def test_simultaneous_checkouts_with_different_keys_place_the_cart_once(
    sessions: sessionmaker[Session], catalog: Catalog
) -> None:
    with sessions() as session:
        ada = new_customer(session)
        _fill(session, ada, catalog)
    start = threading.Barrier(10)

    def attempt(n: int) -> str:
        with sessions() as session:
            start.wait()
            try:
                checkout(
                    session, ada, DELIVERY, catalog=catalog, idempotency_key=f"k{n}", confirmed=True
                )
            except CartEmpty:
                return "empty"
            return "placed"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = sorted(pool.map(attempt, range(10)))
    assert outcomes == ["empty"] * 9 + ["placed"]
