"""Reorders: last order, last time a product was bought, and the "my usual" rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from catalog.model import Catalog
from catalog.request import OptionValue
from orders.carts import add_to_cart, clear_cart, read_cart
from orders.checkout import CheckoutRequest, checkout
from orders.pickup import cancel_order
from orders.reorders import bought_products, reorder_last, reorder_product, reorder_usual
from orders.tables import Fulfilment
from tests.orders.factories import FakeClock, new_customer

DELIVERY = CheckoutRequest(fulfilment=Fulfilment.DELIVERY)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Vancouver (UTC-8 in early March 2025) as UTC."""
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC) + timedelta(hours=8)


def place(
    session: Session,
    catalog: Catalog,
    customer: int,
    at: datetime,
    items: list[tuple[str, int, dict[str, OptionValue]]],
) -> int:
    """Place an order at a given time; returns its id."""
    clock = FakeClock(at)
    for product_id, quantity, options in items:
        add_to_cart(
            session,
            customer,
            catalog=catalog,
            product_id=product_id,
            quantity=quantity,
            options=options,
            clock=clock,
        )
    order, _ = checkout(
        session,
        customer,
        DELIVERY,
        catalog=catalog,
        idempotency_key=at.isoformat(),
        confirmed=True,
        clock=clock,
    )
    return order.id


Items = list[tuple[str, int, dict[str, OptionValue]]]

LARGE_LATTE: Items = [("latte", 1, {"size": OptionValue("large")})]
CROISSANT: Items = [("croissant", 1, {})]
TWO_CROISSANTS: Items = [("croissant", 2, {})]
SMALL_DRIP: Items = [("drip", 1, {"size": OptionValue("small")})]


def test_nothing_to_reorder_is_none(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    assert reorder_last(session, ada, catalog=catalog) is None
    assert reorder_product(session, ada, "latte", catalog=catalog) is None
    assert reorder_usual(session, ada, catalog=catalog, clock=FakeClock(local(7, 8))) is None
    assert read_cart(session, ada, catalog=catalog).lines == ()


def test_reorder_last_fills_the_cart_with_the_same_options(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    place(session, catalog, ada, local(3, 8), CROISSANT)
    last = place(session, catalog, ada, local(4, 8), LARGE_LATTE + TWO_CROISSANTS)
    result = reorder_last(session, ada, catalog=catalog)
    assert result is not None
    assert result.order_id == last
    assert result.skipped == ()
    assert [
        (x.product_id, x.quantity, [o.choice for o in x.options]) for x in result.cart.lines
    ] == [
        ("latte", 1, ["large"]),
        ("croissant", 2, []),
    ]
    assert result.cart.subtotal == 525 + 650


def test_cancelled_orders_are_not_reordered(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    first = place(session, catalog, ada, local(3, 8), CROISSANT)
    second = place(session, catalog, ada, local(4, 8), LARGE_LATTE)
    cancel_order(session, ada, second, clock=FakeClock(local(4, 8, 1)))
    result = reorder_last(session, ada, catalog=catalog)
    assert result is not None
    assert result.order_id == first


def test_reorder_a_product_as_last_bought(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session, home="market")
    place(session, catalog, ada, local(3, 9), [("paper-towels", 1, {})])
    place(session, catalog, ada, local(4, 9), [("paper-towels", 3, {}), ("bananas", 1, {})])
    assert bought_products(session, ada) == {"paper-towels": 4, "bananas": 1}
    result = reorder_product(session, ada, "paper-towels", catalog=catalog)
    assert result is not None
    assert [(x.product_id, x.quantity) for x in result.cart.lines] == [("paper-towels", 3)]


def test_reorder_skips_what_the_store_no_longer_sells(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session, home="market")
    place(session, catalog, ada, local(3, 9), [("oat-milk", 1, {}), ("bananas", 2, {})])
    smaller = dict(catalog.products)
    del smaller["bananas"]
    shrunk = Catalog(
        currency=catalog.currency,
        stores=catalog.stores,
        option_groups=catalog.option_groups,
        products=smaller,
        prep_minutes=catalog.prep_minutes,
    )
    result = reorder_last(session, ada, catalog=shrunk)
    assert result is not None
    assert [x.product_id for x in result.cart.lines] == ["oat-milk"]
    assert [s.product_id for s in result.skipped] == ["bananas"]


def _history(session: Session, catalog: Catalog, customer: int) -> None:
    place(session, catalog, customer, local(3, 8), LARGE_LATTE)
    place(session, catalog, customer, local(4, 8, 10), LARGE_LATTE)
    place(session, catalog, customer, local(5, 8, 5), CROISSANT)
    place(session, catalog, customer, local(5, 13), TWO_CROISSANTS)
    place(session, catalog, customer, local(6, 13, 10), TWO_CROISSANTS)
    place(session, catalog, customer, local(6, 13, 20), SMALL_DRIP)


def _usual_at(
    session: Session, catalog: Catalog, customer: int, at: datetime
) -> list[tuple[str, int]]:
    clear_cart(session, customer, catalog=catalog)
    result = reorder_usual(session, customer, catalog=catalog, clock=FakeClock(at))
    assert result is not None
    return [(x.product_id, x.quantity) for x in result.cart.lines]


def test_usual_is_the_most_frequent_order_at_this_time_of_day(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    _history(session, catalog, ada)
    assert _usual_at(session, catalog, ada, local(7, 8, 15)) == [("latte", 1)]
    assert _usual_at(session, catalog, ada, local(7, 13, 30)) == [("croissant", 2)]
    # 20:00 has no orders within two hours: all times count, the tie goes to the latest group.
    assert _usual_at(session, catalog, ada, local(7, 20)) == [("croissant", 2)]


def test_an_order_seen_once_is_no_usual(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    place(session, catalog, ada, local(3, 8), LARGE_LATTE)
    place(session, catalog, ada, local(4, 8), CROISSANT)
    place(session, catalog, ada, local(5, 8), [("latte", 2, {"size": OptionValue("large")})])
    assert reorder_usual(session, ada, catalog=catalog, clock=FakeClock(local(6, 8))) is None


def test_usual_ignores_old_orders_and_other_stores(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    place(session, catalog, ada, local(3, 8), LARGE_LATTE)
    place(session, catalog, ada, local(4, 8), LARGE_LATTE)
    much_later = local(4, 8) + timedelta(days=91)
    assert reorder_usual(session, ada, catalog=catalog, clock=FakeClock(much_later)) is None
    assert (
        reorder_usual(
            session, ada, catalog=catalog, store_id="market", clock=FakeClock(local(5, 8))
        )
        is None
    )
    assert (
        reorder_usual(session, ada, catalog=catalog, store_id="cafe", clock=FakeClock(local(5, 8)))
        is not None
    )
