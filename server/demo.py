"""The demo data: both demo catalogs, two shoppers with a little order history, their tokens.

Ada shops at the café and has a usual (a grande oat latte and a croissant, three mornings);
Sam shops at the grocery and bought paper towels twice ("reorder my paper towels").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.demo import load_demo_store
from catalog.model import Catalog
from catalog.request import OptionValue
from orders import tables
from orders.carts import CartItem, add_items
from orders.catalog_store import CatalogCache, current_version, load_catalog_into
from orders.checkout import CheckoutRequest, checkout
from orders.clock import Clock
from orders.customers import create_customer, issue_token
from orders.pickup import Actor, transition
from orders.tables import ActorKind, Channel, Fulfilment, OrderStatus

logger = logging.getLogger(__name__)

STAFF = Actor(ActorKind.STAFF, "demo")
ORDER_TIME = time(8, 0)
"""History orders are placed at 08:00 local time, when every demo store is open."""

OAT_LATTE = CartItem("latte", 1, {"size": OptionValue("grande"), "milk": OptionValue("oat")})
CROISSANT = CartItem("butter-croissant", 1)
MOCHA = CartItem("mocha", 1, {"size": OptionValue("venti")})


@dataclass(frozen=True)
class PastOrder:
    """An order of the demo history: how many days ago, how, what."""

    days_ago: int
    fulfilment: Fulfilment
    items: tuple[CartItem, ...]


@dataclass(frozen=True)
class DemoShopper:
    """A demo customer with a home store and an order history."""

    name: str
    home: str
    history: tuple[PastOrder, ...]


SHOPPERS = (
    DemoShopper(
        "Ada (demo)",
        "cafe-main-street",
        (
            PastOrder(6, Fulfilment.PICKUP, (OAT_LATTE, CROISSANT)),
            PastOrder(5, Fulfilment.PICKUP, (OAT_LATTE, CROISSANT)),
            PastOrder(3, Fulfilment.PICKUP, (OAT_LATTE, CROISSANT)),
            PastOrder(2, Fulfilment.PICKUP, (MOCHA,)),
        ),
    ),
    DemoShopper(
        "Sam (demo)",
        "market-elm-street",
        (
            PastOrder(
                8,
                Fulfilment.DELIVERY,
                (
                    CartItem("bananas-dole", 1),
                    CartItem("paper-towels-bounty", 1),
                    CartItem("oat-milk-oatly", 2),
                ),
            ),
            PastOrder(
                2,
                Fulfilment.DELIVERY,
                (CartItem("paper-towels-bounty", 2), CartItem("eggs-large-dozen", 1)),
            ),
        ),
    ),
)


def load_demo_catalog(session: Session) -> int:
    """Load the merged grocery + café demo catalog unless a catalog is already there."""
    version = current_version(session)
    if version is not None:
        return version
    return load_catalog_into(session, load_demo_store(), source="demo: grocery + coffee")


def seed_shoppers(
    session: Session, *, now: datetime, shoppers: Sequence[DemoShopper] = SHOPPERS
) -> list[tuple[tables.Customer, str]]:
    """Create the demo shoppers with their history; existing ones just get a new token."""
    catalog = CatalogCache().get(session).catalog
    result = []
    for shopper in shoppers:
        existing = session.scalars(
            select(tables.Customer).where(tables.Customer.name == shopper.name)
        ).first()
        if existing is not None:
            result.append((existing, issue_token(session, existing.id)))
            continue
        customer, token = create_customer(session, name=shopper.name, home_store_id=shopper.home)
        store = catalog.store(shopper.home)
        zone = ZoneInfo(store.timezone if store is not None else "UTC")
        for number, past in enumerate(shopper.history):
            day = (now.astimezone(zone) - timedelta(days=past.days_ago)).date()
            at = datetime.combine(day, ORDER_TIME, tzinfo=zone)
            key = f"demo-history-{number}"
            _place(session, customer.id, past, at=at, key=key, catalog=catalog)
        result.append((customer, token))
    return result


def _place(
    session: Session,
    customer_id: int,
    past: PastOrder,
    *,
    at: datetime,
    key: str,
    catalog: Catalog,
) -> None:
    """Place one past order at its time and walk it to its end (picked up or delivered)."""
    clock = _fixed(at)
    _, skipped = add_items(session, customer_id, past.items, catalog=catalog, clock=clock)
    for item in skipped:
        logger.warning("demo history: %s skipped: %s", item.product_id, item.reason)
    order, _ = checkout(
        session,
        customer_id,
        CheckoutRequest(fulfilment=past.fulfilment, channel=Channel.APP),
        catalog=catalog,
        idempotency_key=key,
        confirmed=True,
        clock=clock,
    )
    end = OrderStatus.PICKED_UP if past.fulfilment is Fulfilment.PICKUP else OrderStatus.DELIVERED
    steps = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY, end)
    for number, step in enumerate(steps, start=1):
        later = _fixed(at + timedelta(minutes=2 * number))
        transition(session, order.id, step, actor=STAFF, clock=later)


def _fixed(at: datetime) -> Clock:
    """A clock that always says `at`."""
    return lambda: at
