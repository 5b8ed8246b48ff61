"""Order status and history, scoped to the customer who placed the orders."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from catalog.model import Catalog
from orders.carts import add_to_cart
from orders.checkout import CheckoutRequest, checkout
from orders.errors import OrderNotFound
from orders.pickup import Actor, transition
from orders.queries import get_order, open_orders, order_history
from orders.tables import ActorKind, OrderStatus
from tests.orders.factories import FakeClock, new_customer


def _place(session: Session, catalog: Catalog, customer: int, clock: FakeClock, key: str) -> int:
    add_to_cart(session, customer, catalog=catalog, product_id="croissant", clock=clock)
    order, _ = checkout(
        session,
        customer,
        CheckoutRequest(),
        catalog=catalog,
        idempotency_key=key,
        confirmed=True,
        clock=clock,
    )
    clock.advance(minutes=5)
    return order.id


def test_history_is_newest_first_and_pages(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada, bob = new_customer(session, "Ada"), new_customer(session, "Bob")
    ids = [_place(session, catalog, ada, clock, f"a{n}") for n in range(5)]
    _place(session, catalog, bob, clock, "b0")
    page = order_history(session, ada, limit=3)
    assert [o.id for o in page] == ids[::-1][:3]
    assert [o.id for o in order_history(session, ada, limit=3, before_id=page[-1].id)] == ids[1::-1]
    assert all(o.customer_id == ada for o in order_history(session, ada, limit=100))
    assert order_history(session, ada, store_id="market") == []
    assert [o.lines[0].product_id for o in order_history(session, ada, limit=1)] == ["croissant"]


def test_another_customers_order_is_not_found(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada, bob = new_customer(session, "Ada"), new_customer(session, "Bob")
    order_id = _place(session, catalog, ada, clock, "a")
    assert get_order(session, ada, order_id).id == order_id
    with pytest.raises(OrderNotFound) as caught:
        get_order(session, bob, order_id)
    with pytest.raises(OrderNotFound) as missing:
        get_order(session, bob, order_id + 1000)
    assert caught.value.detail.replace(str(order_id), "N") == missing.value.detail.replace(
        str(order_id + 1000), "N"
    )


def test_open_orders_leave_out_finished_ones(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    first = _place(session, catalog, ada, clock, "a")
    second = _place(session, catalog, ada, clock, "b")
    transition(session, first, OrderStatus.REJECTED, actor=Actor(ActorKind.STAFF, "s"), clock=clock)
    assert [o.id for o in open_orders(session, ada)] == [second]
