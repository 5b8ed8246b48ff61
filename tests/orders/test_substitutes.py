"""Out of stock: staff offer substitutes, the shopper accepts one or cancels."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.model import Catalog
from catalog.request import OptionValue
from orders import outbox
from orders.carts import CartItem, add_items
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.checkout import place_pickup_order
from orders.errors import FieldInvalid, IllegalTransition, OrderNotFound, SubstitutionNotFound
from orders.queue import open_orders, tickets
from orders.staff import StaffIdentity, StaffRole
from orders.staff_tables import Notification
from orders.substitutes import (
    accept_substitute,
    candidates,
    decline_substitute,
    offer_substitutes,
    waiting_offer,
)
from orders.tables import OrderEvent, OrderStatus
from tests.orders.factories import FakeClock, new_customer
from tests.server.staff_support import live_catalog

BARISTA = StaffIdentity(1, "anna@example.com", "Anna", {"cafe": StaffRole.BARISTA}, "t")
ELSEWHERE = StaffIdentity(2, "eli@example.com", "Eli", {"elm": StaffRole.BARISTA}, "t")


@pytest.fixture
def shop(sessions: sessionmaker[Session], clock: FakeClock) -> Catalog:
    """The always-open catalog with a muffin, loaded; the outbox listening."""
    outbox.install(sessions)
    with sessions() as session:
        load_catalog_into(session, live_catalog(), source="tests", clock=clock)
        catalog = CatalogCache().get(session).catalog
        session.commit()
    return catalog


def _order(sessions: sessionmaker[Session], catalog: Catalog, clock: FakeClock) -> tuple[int, int]:
    """Two croissants and a drip coffee for pickup at Main St: (customer, order)."""
    with sessions() as session:
        customer = new_customer(session, clock=clock)
        items = [CartItem("croissant", 2), CartItem("drip", 1, {"size": [OptionValue("small")]})]
        add_items(session, customer, items, catalog=catalog, clock=clock)
        order, _ = place_pickup_order(
            session,
            customer,
            catalog=catalog,
            store_id="cafe",
            pickup_at=None,
            idempotency_key="k",
            confirmed=True,
            clock=clock,
        )
        return customer, order.id


def test_candidates_are_same_category_closest_price(shop: Catalog) -> None:
    assert [p.id for p in candidates(shop, "cafe", "croissant")] == ["muffin"]
    assert candidates(shop, "cafe", "latte") == []
    assert candidates(shop, "cafe", "nothing-like-this") == []


def test_offer_then_accept_swaps_and_reprices_the_line(
    sessions: sessionmaker[Session], shop: Catalog, clock: FakeClock
) -> None:
    customer, order_id = _order(sessions, shop, clock)
    with sessions() as session:
        line = tickets(session, open_orders(session, "cafe"))[0]["lines"][0]
        with pytest.raises(OrderNotFound):
            offer_substitutes(session, ELSEWHERE, order_id, line["id"], catalog=shop, clock=clock)
        session.rollback()
        offer = offer_substitutes(session, BARISTA, order_id, line["id"], catalog=shop, clock=clock)
        assert offer.offered == ["muffin"]
        with pytest.raises(FieldInvalid, match="not answered"):
            offer_substitutes(session, BARISTA, order_id, line["id"], catalog=shop, clock=clock)
        session.rollback()
        assert waiting_offer(session, customer) is not None
        ticket = tickets(session, open_orders(session, "cafe"))[0]
        assert ticket["substitution"]["out_of_stock"] == "Croissant"
        assert ticket["substitution"]["offered"] == [
            {"product_id": "muffin", "name": "Blueberry Muffin", "price": 350}
        ]
        with pytest.raises(FieldInvalid):
            accept_substitute(session, customer, order_id, product_id="latte", catalog=shop)
        session.rollback()
        with pytest.raises(OrderNotFound):
            accept_substitute(session, customer + 1, order_id, catalog=shop)
        session.rollback()
        order = accept_substitute(session, customer, order_id, catalog=shop, clock=clock)
        assert [(li.product_id, li.line_total) for li in order.lines] == [
            ("muffin", 700),
            ("drip", 200),
        ]
        assert (order.subtotal, order.tax, order.total) == (900, 45, 945)
        assert waiting_offer(session, customer) is None
        with pytest.raises(SubstitutionNotFound):
            decline_substitute(session, customer, order_id, clock=clock)
        session.rollback()
        events = session.scalars(select(Notification.event).order_by(Notification.created_at))
        assert list(events) == ["order.placed", "substitution.offered", "substitution.accepted"]


def test_declining_cancels_the_order(
    sessions: sessionmaker[Session], shop: Catalog, clock: FakeClock
) -> None:
    customer, order_id = _order(sessions, shop, clock)
    with sessions() as session:
        line_id = tickets(session, open_orders(session, "cafe"))[0]["lines"][0]["id"]
        offer_substitutes(
            session, BARISTA, order_id, line_id, ["muffin"], catalog=shop, clock=clock
        )
        order = decline_substitute(session, customer, order_id, clock=clock)
        assert order.status is OrderStatus.CANCELLED
        note = session.scalars(select(OrderEvent.note).order_by(OrderEvent.id.desc())).first()
        assert note == "the shopper declined the substitutes"
        offered = session.scalars(
            select(Notification).where(Notification.event == "substitution.offered")
        ).one()
        assert offered.data["offered"][0]["name"] == "Blueberry Muffin"
        with pytest.raises(IllegalTransition, match="not being prepared"):
            offer_substitutes(session, BARISTA, order_id, line_id, catalog=shop, clock=clock)
