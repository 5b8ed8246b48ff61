"""The store's pickup queue as staff see it: open orders as tickets, and the staff actions.

A ticket is plain JSON-ready data (the staff page, its live stream and the printable view all
render the same dict). Staff reach an order only through a store they work at: an order of
another store is OrderNotFound, exactly like an order that does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from orders import tables
from orders.clock import Clock, utc_now
from orders.errors import FieldInvalid, OrderNotFound
from orders.order_rows import TicketLine, TicketOrder
from orders.pickup import Actor, transition
from orders.staff import StaffIdentity
from orders.staff_tables import Substitution, SubstitutionStatus
from orders.tables import ActorKind, Fulfilment, OrderStatus

logger = logging.getLogger(__name__)

OPEN = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY)
"""What the queue shows: everything not yet picked up, cancelled or rejected."""

ACTIONS: dict[str, OrderStatus] = {
    "accept": OrderStatus.ACCEPTED,
    "start": OrderStatus.IN_PROGRESS,
    "ready": OrderStatus.READY,
    "picked-up": OrderStatus.PICKED_UP,
    "cancel": OrderStatus.CANCELLED,
}
"""The buttons on a ticket and the status each one moves the order to."""


def first_name(name: str) -> str:
    """The first word of a customer's name (what the barista calls out)."""
    parts = name.split()
    return parts[0] if parts else ""


def open_orders(session: Session, store_id: str) -> list[tables.Order]:
    """The store's open pickup orders with their lines, oldest first."""
    query = (
        select(tables.Order)
        .where(
            tables.Order.store_id == store_id,
            tables.Order.fulfilment == Fulfilment.PICKUP,
            tables.Order.status.in_(OPEN),
        )
        .options(selectinload(tables.Order.lines))
        .order_by(tables.Order.placed_at, tables.Order.id)
    )
    return list(session.scalars(query))


_NAMES = select(tables.Customer.id, tables.Customer.name).where(
    tables.Customer.id.in_(bindparam("ids", expanding=True))
)
_OFFERS = (
    select(Substitution)
    .where(Substitution.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(Substitution.id)
)
"""Built once: every notification's ticket reads them."""


def tickets(
    session: Session, orders: Sequence[TicketOrder], *, names: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """The tickets of orders whose lines are loaded (customers and offers read in two queries).

    `names`: the customers' names by id, when the caller read them already.
    """
    if not orders:
        return []
    ids = [order.id for order in orders]
    if names is None:
        found = session.execute(_NAMES, {"ids": list({order.customer_id for order in orders})})
        names = {customer_id: name for customer_id, name in found}
    offers = {offer.order_id: offer for offer in session.scalars(_OFFERS, {"ids": ids})}
    products = _product_names(session, offers.values())
    return [
        ticket(order, names.get(order.customer_id, ""), offers.get(order.id), products)
        for order in orders
    ]


def ticket(
    order: TicketOrder,
    customer_name: str,
    offer: Substitution | None,
    products: dict[str, tuple[str, int | None]],
) -> dict[str, Any]:
    """One order as a ticket (lines must be loaded)."""
    return {
        "order_id": order.id,
        "store_id": order.store_id,
        "status": order.status.value,
        "customer": first_name(customer_name),
        "channel": order.channel.value,
        "placed_at": order.placed_at.isoformat(),
        "promised_at": order.promised_at.isoformat() if order.promised_at else None,
        "requested_at": order.requested_at.isoformat() if order.requested_at else None,
        "updated_at": order.updated_at.isoformat(),
        "currency": order.currency,
        "subtotal": order.subtotal,
        "tax": order.tax,
        "total": order.total,
        "lines": [_line(line) for line in order.lines],
        "substitution": _offer(offer, products) if offer is not None else None,
    }


def _line(line: TicketLine) -> dict[str, Any]:
    """A ticket line with every chosen option and its amount, and the shopper's request."""
    return {
        "id": line.id,
        "product_id": line.product_id,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "line_total": line.line_total,
        "options": [
            {
                "group": str(option.get("group_name", option.get("group", ""))),
                "choice": str(option.get("choice_name", option.get("choice", ""))),
                "amount": str(option.get("amount", "regular")),
            }
            for option in line.options
        ],
        "note": line.note,
    }


def _offer(offer: Substitution, products: dict[str, tuple[str, int | None]]) -> dict[str, Any]:
    """A substitution offer as the ticket shows it."""
    return {
        "id": offer.id,
        "line_id": offer.line_id,
        "status": offer.status.value,
        "out_of_stock": products.get(offer.product_id, (offer.product_id, None))[0],
        "offered": [_product(products, p) for p in offer.offered],
        "chosen": offer.chosen_product_id,
    }


def _product(products: dict[str, tuple[str, int | None]], product_id: str) -> dict[str, Any]:
    """An offered product: id, name and price (the id stands in when it left the catalog)."""
    name, price = products.get(product_id, (product_id, None))
    return {"product_id": product_id, "name": name, "price": price}


def _product_names(
    session: Session, offers: Iterable[Substitution]
) -> dict[str, tuple[str, int | None]]:
    """Names and prices of every product the offers mention."""
    ids: set[str] = set()
    for offer in offers:
        ids.add(offer.product_id)
        ids.update(offer.offered)
    if not ids:
        return {}
    rows = session.execute(
        select(tables.Product.id, tables.Product.name, tables.Product.price).where(
            tables.Product.id.in_(ids)
        )
    )
    return {pid: (name, price) for pid, name, price in rows}


def staff_order(session: Session, staff: StaffIdentity, order_id: int) -> tables.Order:
    """An order of one of the member's stores, with lines; OrderNotFound for any other."""
    query = (
        select(tables.Order)
        .where(tables.Order.id == order_id)
        .options(selectinload(tables.Order.lines))
    )
    order = session.scalars(query).first()
    if order is None or staff.role_at(order.store_id) is None:
        raise OrderNotFound(order_id)
    return order


def staff_action(
    session: Session,
    staff: StaffIdentity,
    order_id: int,
    action: str,
    *,
    clock: Clock = utc_now,
) -> tables.Order:
    """Press a ticket button: accept, start, ready, picked-up or cancel; commits."""
    if action not in ACTIONS:
        raise FieldInvalid("action", f"must be one of {', '.join(ACTIONS)}")
    note = "cancelled by the store" if action == "cancel" else ""
    return transition(
        session,
        order_id,
        ACTIONS[action],
        actor=Actor(ActorKind.STAFF, staff.email),
        clock=clock,
        note=note,
        store_ids=staff.roles.keys(),
        history=False,  # the screen shows the ticket, not the history
    )


def open_offer(session: Session, order_id: int) -> Substitution | None:
    """The order's substitution offer still waiting for the shopper, or None."""
    query = select(Substitution).where(
        Substitution.order_id == order_id, Substitution.status == SubstitutionStatus.OFFERED
    )
    return session.scalars(query).first()
