"""Cart use cases on a real database: options kept, prices from base + deltas, lines merged."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.model import Amount, Catalog
from catalog.request import OptionValue
from orders import tables
from orders.cart_writes import CartEdit, write_edit
from orders.carts import (
    CartItem,
    add_items,
    add_to_cart,
    choose_store,
    clear_cart,
    load_cart,
    lock_customer,
    read_cart,
    remove_line,
    set_quantity,
)
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.errors import (
    LineNotFound,
    OptionInvalid,
    ProductNotFound,
    ProductUnavailable,
    QuantityInvalid,
    StoreNotFound,
)
from tests.orders.factories import FakeClock, make_catalog, new_customer, with_price


def test_empty_cart_shops_at_the_home_store(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session, home="cafe")
    cart = read_cart(session, ada, catalog=catalog)
    assert cart.lines == ()
    assert cart.store_id == "cafe"
    assert (cart.subtotal, cart.tax, cart.total) == (0, 0, 0)


def test_add_keeps_options_and_prices_base_plus_deltas(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    cart = add_to_cart(
        session,
        ada,
        catalog=catalog,
        product_id="latte",
        quantity=2,
        options={"size": OptionValue("large"), "milk": OptionValue("oat", Amount.EXTRA)},
        clock=clock,
    )
    (line,) = cart.lines
    assert [(o.group, o.choice, o.amount) for o in line.options] == [
        ("size", "large", Amount.REGULAR),
        ("milk", "oat", Amount.EXTRA),
    ]
    assert line.unit_price == 450 + 75 + 60
    assert line.line_total == 2 * 585
    assert cart.subtotal == 1170
    assert cart.tax == 59  # 5% of 1170 = 58.5, rounded half up
    assert cart.total == 1229
    again = read_cart(session, ada, catalog=catalog)
    assert again == cart


def test_same_product_and_options_merge_other_options_do_not(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="latte")
    add_to_cart(
        session, ada, catalog=catalog, product_id="latte", options={"size": OptionValue("medium")}
    )
    cart = add_to_cart(
        session, ada, catalog=catalog, product_id="latte", options={"size": OptionValue("small")}
    )
    assert [(line.quantity, line.options[0].choice) for line in cart.lines] == [
        (2, "medium"),
        (1, "small"),
    ]
    assert cart.item_count == 3


def test_change_quantity_remove_and_clear(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    cart = add_to_cart(
        session, ada, catalog=catalog, product_id="drip", options={"size": OptionValue("small")}
    )
    croissant, drip = cart.lines
    cart = set_quantity(session, ada, croissant.id, 4, catalog=catalog)
    assert [line.quantity for line in cart.lines] == [4, 1]
    assert cart.subtotal == 4 * 325 + 200
    cart = set_quantity(session, ada, drip.id, 0, catalog=catalog)
    assert [line.product_id for line in cart.lines] == ["croissant"]
    cart = remove_line(session, ada, croissant.id, catalog=catalog)
    assert cart.lines == ()
    add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    cart = clear_cart(session, ada, catalog=catalog)
    assert cart.lines == ()
    assert cart.store_id == "cafe"


def test_bad_requests_are_refused_and_lose_nothing(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session)
    before = add_to_cart(session, ada, catalog=catalog, product_id="croissant", quantity=2)
    with pytest.raises(ProductNotFound):
        add_to_cart(session, ada, catalog=catalog, product_id="unicorn")
    session.rollback()
    with pytest.raises(ProductUnavailable, match="not sold at store 'cafe'"):
        add_to_cart(session, ada, catalog=catalog, product_id="bananas")
    session.rollback()
    with pytest.raises(OptionInvalid, match="venti"):
        add_to_cart(
            session,
            ada,
            catalog=catalog,
            product_id="latte",
            options={"size": OptionValue("venti")},
        )
    session.rollback()
    with pytest.raises(QuantityInvalid):
        add_to_cart(session, ada, catalog=catalog, product_id="croissant", quantity=98)
    session.rollback()
    with pytest.raises(QuantityInvalid):
        add_to_cart(session, ada, catalog=catalog, product_id="croissant", quantity=0)
    session.rollback()
    with pytest.raises(LineNotFound):
        set_quantity(session, ada, 999_999, 1, catalog=catalog)
    session.rollback()
    with pytest.raises(StoreNotFound):
        choose_store(session, ada, "nowhere", catalog=catalog)
    session.rollback()
    assert read_cart(session, ada, catalog=catalog) == before


def test_two_customers_never_see_each_others_carts(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session, "Ada")
    bob = new_customer(session, "Bob", home="market")
    ada_cart = add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    add_to_cart(session, bob, catalog=catalog, product_id="bananas", quantity=3)
    assert [line.product_id for line in read_cart(session, ada, catalog=catalog).lines] == [
        "croissant"
    ]
    assert [line.product_id for line in read_cart(session, bob, catalog=catalog).lines] == [
        "bananas"
    ]
    with pytest.raises(LineNotFound):
        set_quantity(session, bob, ada_cart.lines[0].id, 5, catalog=catalog)
    session.rollback()
    with pytest.raises(LineNotFound):
        remove_line(session, bob, ada_cart.lines[0].id, catalog=catalog)
    session.rollback()
    assert read_cart(session, ada, catalog=catalog).lines[0].quantity == 1


def test_cart_follows_catalog_prices_and_flags_lines_it_cannot_sell(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    ada = new_customer(session)
    add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    add_to_cart(session, ada, catalog=catalog, product_id="oat-milk")
    load_catalog_into(
        session, with_price(make_catalog(), "croissant", 350), source="new", clock=clock
    )
    newer = CatalogCache().get(session).catalog
    cart = read_cart(session, ada, catalog=newer)
    assert cart.lines[0].unit_price == 350
    cart = choose_store(session, ada, "market", catalog=newer)
    croissant, oat_milk = cart.lines
    assert not croissant.available
    assert croissant.problem is not None
    assert "not sold at store 'market'" in croissant.problem
    assert oat_milk.available
    assert cart.subtotal == 479
    assert cart.tax == 38  # 8% of 479 = 38.32


def test_add_items_skips_what_cannot_be_added(session: Session, catalog: Catalog) -> None:
    ada = new_customer(session, home=None)
    cart, skipped = add_items(
        session,
        ada,
        [CartItem("bananas", 2), CartItem("unicorn"), CartItem("croissant")],
        catalog=catalog,
        store_id="market",
    )
    assert cart.store_id == "market"
    assert [line.product_id for line in cart.lines] == ["bananas"]
    assert [s.product_id for s in skipped] == ["unicorn", "croissant"]
    assert "no product with id 'unicorn'" in skipped[0].reason
    assert "not sold at store 'market'" in skipped[1].reason


def test_simultaneous_adds_of_one_customer_lose_nothing(
    sessions: sessionmaker[Session], catalog: Catalog
) -> None:
    """Two devices (here ten) adding at once: every unit lands on the one merged line."""
    with sessions() as session:
        ada = new_customer(session)
    start = threading.Barrier(10)

    def add(_: int) -> None:
        with sessions() as session:
            start.wait()
            add_to_cart(session, ada, catalog=catalog, product_id="croissant")

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(add, range(10)))
    with sessions() as session:
        cart = read_cart(session, ada, catalog=catalog)
    assert [(line.product_id, line.quantity) for line in cart.lines] == [("croissant", 10)]


def test_adds_are_stored_as_the_returned_cart_says(
    sessions: sessionmaker[Session], catalog: Catalog, clock: FakeClock
) -> None:
    """Adds write with Core statements; another session must read exactly what came back."""
    with sessions() as session:
        ada = new_customer(session, home="market")
        add_to_cart(session, ada, catalog=catalog, product_id="bananas", clock=clock)
        clock.advance(minutes=5)
        items = [CartItem("bananas", 2), CartItem("oat-milk", 1), CartItem("oat-milk", 3)]
        returned, skipped = add_items(
            session, ada, items, catalog=catalog, store_id="cafe", clock=clock
        )
        stamped = session.scalars(select(tables.Cart.updated_at)).one()
    assert skipped == ()
    assert [(line.product_id, line.quantity) for line in returned.lines] == [
        ("bananas", 3),
        ("oat-milk", 4),
    ]
    assert returned.store_id == "market"  # a cart with lines keeps its store
    assert stamped.replace(tzinfo=UTC) == clock()
    with sessions() as other:
        assert read_cart(other, ada, catalog=catalog) == returned


def test_a_line_just_added_can_be_changed_in_the_same_session(
    session: Session, catalog: Catalog
) -> None:
    ada = new_customer(session)
    cart = add_to_cart(session, ada, catalog=catalog, product_id="croissant")
    (line,) = cart.lines
    cart = set_quantity(session, ada, line.id, 3, catalog=catalog)
    assert [(x.id, x.quantity) for x in cart.lines] == [(line.id, 3)]
    cart = add_to_cart(session, ada, catalog=catalog, product_id="croissant", quantity=2)
    assert [(x.id, x.quantity) for x in cart.lines] == [(line.id, 5)]
    assert read_cart(session, ada, catalog=catalog) == cart
    assert remove_line(session, ada, line.id, catalog=catalog).lines == ()


def test_lines_an_edit_wrote_belong_to_the_session(
    session: Session, catalog: Catalog, clock: FakeClock
) -> None:
    """A later ORM flush of the same cart must not insert the written lines a second time."""
    ada = new_customer(session)
    cart = load_cart(session, lock_customer(session, ada), clock=clock)
    edit = CartEdit.of(cart)
    edit.add_line(
        tables.CartLine(
            product_id="croissant", quantity=1, options=[], options_key="", added_at=clock()
        )
    )
    write_edit(session, edit, now=clock())
    (line,) = cart.lines
    assert inspect(line).persistent
    cart.store_id = "market"
    line.quantity = 2
    session.commit()
    assert session.execute(select(tables.CartLine.product_id, tables.CartLine.quantity)).all() == [
        ("croissant", 2)
    ]
