"""Reorders: the last order, the last time a product was bought, and "my usual".

A reorder only fills the cart; the shopper confirms at checkout as always. Lines that cannot
be bought any more (discontinued, not sold at the cart's store) are skipped and reported.

"My usual" (docs/orders.md has it with an example):
  1. Take the customer's orders at this store from the last 90 days (at most the 50 latest),
     leaving out cancelled and rejected ones.
  2. Keep those placed within 2 hours of the current time of day, on the store's clock.
  3. Group identical orders: the same products, options and quantities.
  4. The usual is the group seen most often, at least twice; a tie goes to the group
     ordered most recently.
  5. If the time-of-day window has no such group, steps 3-4 run on all orders of step 1.
  No group seen twice means there is no usual (None): the dialogue can offer the last order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.model import Catalog
from orders import tables
from orders.carts import CartItem, CartView, Skipped, add_items, cart_store
from orders.clock import Clock, utc_now
from orders.pricing import options_input, options_key
from orders.tables import OrderStatus

USUAL_DAYS = 90
USUAL_ORDERS = 50
USUAL_WINDOW = timedelta(hours=2)
USUAL_MIN_COUNT = 2
_NOT_COUNTED = (OrderStatus.CANCELLED, OrderStatus.REJECTED)

Signature = tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class Reorder:
    """What a reorder put in the cart: from which order, what was skipped, the cart now."""

    order_id: int
    cart: CartView
    skipped: tuple[Skipped, ...]


def reorder_last(
    session: Session, customer_id: int, *, catalog: Catalog, clock: Clock = utc_now
) -> Reorder | None:
    """Put the customer's last order (not cancelled or rejected) back in the cart; None if none."""
    query = (
        select(tables.Order)
        .where(tables.Order.customer_id == customer_id, tables.Order.status.not_in(_NOT_COUNTED))
        .options(selectinload(tables.Order.lines))
        .order_by(tables.Order.id.desc())
        .limit(1)
    )
    order = session.scalars(query).first()
    if order is None:
        return None
    return _to_cart(session, customer_id, order, order.lines, catalog=catalog, clock=clock)


def reorder_product(
    session: Session, customer_id: int, product_id: str, *, catalog: Catalog, clock: Clock = utc_now
) -> Reorder | None:
    """Add the product as it was last bought (options and quantity); None if never bought."""
    query = (
        select(tables.OrderLine)
        .join(tables.Order, tables.Order.id == tables.OrderLine.order_id)
        .where(
            tables.Order.customer_id == customer_id,
            tables.Order.status.not_in(_NOT_COUNTED),
            tables.OrderLine.product_id == product_id,
        )
        .options(selectinload(tables.OrderLine.order))
        .order_by(tables.Order.id.desc(), tables.OrderLine.position)
        .limit(1)
    )
    line = session.scalars(query).first()
    if line is None:
        return None
    return _to_cart(session, customer_id, line.order, [line], catalog=catalog, clock=clock)


def bought_products(session: Session, customer_id: int) -> dict[str, int]:
    """How many times the customer bought each product (for matching "my paper towels")."""
    query = (
        select(tables.OrderLine.product_id, tables.OrderLine.quantity)
        .join(tables.Order, tables.Order.id == tables.OrderLine.order_id)
        .where(tables.Order.customer_id == customer_id, tables.Order.status.not_in(_NOT_COUNTED))
    )
    counts: dict[str, int] = {}
    for product_id, quantity in session.execute(query):
        counts[product_id] = counts.get(product_id, 0) + quantity
    return counts


def find_usual(
    session: Session, customer_id: int, *, store_id: str | None, timezone: str, now: datetime
) -> tables.Order | None:
    """The order that is the customer's usual here at this time of day (rule in module doc)."""
    query = (
        select(tables.Order)
        .where(
            tables.Order.customer_id == customer_id,
            tables.Order.status.not_in(_NOT_COUNTED),
            tables.Order.placed_at >= now - timedelta(days=USUAL_DAYS),
        )
        .options(selectinload(tables.Order.lines))
        .order_by(tables.Order.id.desc())
        .limit(USUAL_ORDERS)
    )
    if store_id is not None:
        query = query.where(tables.Order.store_id == store_id)
    orders = list(session.scalars(query))
    zone = ZoneInfo(timezone)
    nearby = [o for o in orders if _clock_distance(o.placed_at, now, zone) <= USUAL_WINDOW]
    return _most_frequent(nearby) or _most_frequent(orders)


def reorder_usual(
    session: Session,
    customer_id: int,
    *,
    catalog: Catalog,
    store_id: str | None = None,
    clock: Clock = utc_now,
) -> Reorder | None:
    """Put the customer's usual in the cart; None when they have no usual (yet)."""
    if store_id is None:
        cart = session.scalars(
            select(tables.Cart).where(tables.Cart.customer_id == customer_id)
        ).first()
        customer = session.get(tables.Customer, customer_id)
        store_id = cart.store_id if cart is not None else None
        store_id = store_id or (customer.home_store_id if customer is not None else None)
    store = cart_store(catalog, store_id)
    timezone = store.timezone if store is not None else "UTC"
    usual = find_usual(
        session, customer_id, store_id=store.id if store else None, timezone=timezone, now=clock()
    )
    if usual is None:
        return None
    return _to_cart(session, customer_id, usual, usual.lines, catalog=catalog, clock=clock)


def _to_cart(
    session: Session,
    customer_id: int,
    order: tables.Order,
    lines: Sequence[tables.OrderLine],
    *,
    catalog: Catalog,
    clock: Clock,
) -> Reorder:
    """Copy order lines into the cart (an empty cart moves to the order's store)."""
    items = [
        CartItem(line.product_id, line.quantity, options_input(line.options), line.note)
        for line in lines
    ]
    cart, skipped = add_items(
        session, customer_id, items, catalog=catalog, store_id=order.store_id, clock=clock
    )
    return Reorder(order.id, cart, skipped)


def _signature(order: tables.Order) -> Signature:
    """What makes two orders "the same order": products, options, notes and quantities."""
    return tuple(
        sorted(
            (line.product_id, options_key(_choices(line), line.note), line.quantity)
            for line in order.lines
        )
    )


def _choices(line: tables.OrderLine) -> list[dict[str, str]]:
    """The line's chosen options without the names and prices of the snapshot."""
    return [
        {"group": o["group"], "choice": o["choice"], "amount": o["amount"]} for o in line.options
    ]


def _most_frequent(orders: Sequence[tables.Order]) -> tables.Order | None:
    """The latest order of the most frequent group seen at least USUAL_MIN_COUNT times."""
    counts: dict[Signature, int] = {}
    latest: dict[Signature, tables.Order] = {}
    for order in orders:  # newest first
        signature = _signature(order)
        counts[signature] = counts.get(signature, 0) + 1
        latest.setdefault(signature, order)
    ranked = sorted(counts, key=lambda s: (counts[s], latest[s].id), reverse=True)
    if not ranked or counts[ranked[0]] < USUAL_MIN_COUNT:
        return None
    return latest[ranked[0]]


def _clock_distance(placed: datetime, now: datetime, zone: ZoneInfo) -> timedelta:
    """How far apart two moments are on the clock face (ignoring the date), in a time zone."""
    a, b = placed.astimezone(zone), now.astimezone(zone)
    minutes = abs((a.hour * 60 + a.minute) - (b.hour * 60 + b.minute))
    return timedelta(minutes=min(minutes, 24 * 60 - minutes))
