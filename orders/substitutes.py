"""Out of stock: staff offer substitutes from the catalog; the shopper accepts one or cancels.

Staff mark a line out of stock and pick substitutes (by default the closest-priced products of
the same category sold at the store). The shopper is told at once (a "substitution.offered"
notification) and answers by voice or in the app: `accept_substitute` swaps the line for the
chosen product, re-priced with the options that still apply; `decline_substitute` cancels the
order. The dialogue asks about `waiting_offer(session, customer_id)` when it is not None.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.model import Catalog, Product
from orders import outbox, tables
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import (
    FieldInvalid,
    IllegalTransition,
    OptionInvalid,
    OrderNotFound,
    SubstitutionNotFound,
)
from orders.pickup import Actor, transition
from orders.pricing import (
    choose_options,
    options_input,
    sellable_product,
    snapshot_options,
    tax_on,
    unit_price,
)
from orders.queue import open_offer
from orders.staff import StaffIdentity
from orders.staff_tables import Substitution, SubstitutionStatus
from orders.tables import ActorKind, OrderStatus

logger = logging.getLogger(__name__)

MAX_OFFERED = 3
_PREPARING = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)


def candidates(
    catalog: Catalog, store_id: str, product_id: str, *, limit: int = MAX_OFFERED
) -> list[Product]:
    """Substitutes for a product at a store: same category, priced, closest price first."""
    missing = catalog.product(product_id)
    if missing is None:
        return []
    price = missing.price or 0
    found = [
        product
        for product in catalog.products.values()
        if product.id != missing.id
        and product.category == missing.category
        and product.price is not None
        and product.available_at(store_id)
    ]
    found.sort(key=lambda p: (abs((p.price or 0) - price), p.name))
    return found[:limit]


def offer_substitutes(
    session: Session,
    staff: StaffIdentity,
    order_id: int,
    line_id: int,
    product_ids: Sequence[str] | None = None,
    *,
    catalog: Catalog,
    clock: Clock = utc_now,
) -> Substitution:
    """Mark a line out of stock and offer substitutes (default: `candidates`); commits."""
    begin_write(session)
    order = _locked_order(session, order_id)
    if order is None or staff.role_at(order.store_id) is None:
        raise OrderNotFound(order_id)
    if order.status not in _PREPARING:
        raise IllegalTransition(order_id, order.status.value, "substitution", "not being prepared")
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None:
        raise FieldInvalid("line_id", f"order {order_id} has no line {line_id}")
    if open_offer(session, order_id) is not None:
        raise FieldInvalid("line_id", "the shopper has not answered the last substitution yet")
    if product_ids is None:
        product_ids = [p.id for p in candidates(catalog, order.store_id, line.product_id)]
    offered = [sellable_product(catalog, pid, order.store_id) for pid in dict.fromkeys(product_ids)]
    offered = [product for product in offered if product.id != line.product_id][:MAX_OFFERED]
    if not offered:
        raise FieldInvalid("product_ids", "no substitute to offer: cancel the order instead")
    now = clock()
    offer = Substitution(
        order_id=order.id,
        line_id=line.id,
        product_id=line.product_id,
        offered=[product.id for product in offered],
        status=SubstitutionStatus.OFFERED,
        chosen_product_id=None,
        offered_by=staff.email,
        created_at=now,
        resolved_at=None,
    )
    session.add(offer)
    order.updated_at = now
    session.flush()
    data = {
        "substitution_id": offer.id,
        "line_id": line.id,
        "out_of_stock": line.name,
        "offered": [{"product_id": p.id, "name": p.name, "price": p.price} for p in offered],
    }
    outbox.record(
        session, order, event_name="substitution.offered", status=order.status, data=data, now=now
    )
    session.commit()
    logger.info("order %d: %s out of stock, offered %s", order.id, line.product_id, offer.offered)
    return offer


def waiting_offer(session: Session, customer_id: int) -> Substitution | None:
    """The customer's newest substitution offer still waiting for an answer, or None."""
    query = (
        select(Substitution)
        .join(tables.Order, tables.Order.id == Substitution.order_id)
        .where(
            tables.Order.customer_id == customer_id,
            Substitution.status == SubstitutionStatus.OFFERED,
        )
        .order_by(Substitution.id.desc())
    )
    return session.scalars(query).first()


def accept_substitute(
    session: Session,
    customer_id: int,
    order_id: int,
    *,
    product_id: str | None = None,
    catalog: Catalog,
    clock: Clock = utc_now,
) -> tables.Order:
    """The shopper takes a substitute (default: the first offered); the line is swapped; commits."""
    begin_write(session)
    order, offer = _customer_offer(session, customer_id, order_id)
    chosen = product_id or offer.offered[0]
    if chosen not in offer.offered:
        raise FieldInvalid("product_id", f"not one of the offered substitutes: {offer.offered}")
    product = sellable_product(catalog, chosen, order.store_id)
    line = next(line for line in order.lines if line.id == offer.line_id)
    out_of_stock = line.name
    _swap(catalog, line, product)
    order.subtotal = sum(each.line_total for each in order.lines)
    order.tax = tax_on(order.subtotal, order.tax_rate)
    order.total = order.subtotal + order.tax
    now = clock()
    order.updated_at = now
    offer.status = SubstitutionStatus.ACCEPTED
    offer.chosen_product_id = product.id
    offer.resolved_at = now
    data: dict[str, Any] = {
        "substitution_id": offer.id,
        "line_id": line.id,
        "out_of_stock": out_of_stock,
        "chosen": product.name,
    }
    outbox.record(
        session, order, event_name="substitution.accepted", status=order.status, data=data, now=now
    )
    session.commit()
    logger.info("order %d: shopper took %s instead of %s", order.id, product.id, offer.product_id)
    return order


def decline_substitute(
    session: Session, customer_id: int, order_id: int, *, clock: Clock = utc_now
) -> tables.Order:
    """The shopper wants none of the substitutes: the order is cancelled; commits."""
    begin_write(session)  # the offer's answer and the cancellation commit together
    _, offer = _customer_offer(session, customer_id, order_id)
    offer.status = SubstitutionStatus.DECLINED
    offer.resolved_at = clock()
    return transition(
        session,
        order_id,
        OrderStatus.CANCELLED,
        actor=Actor(ActorKind.SYSTEM, "substitution"),
        clock=clock,
        note="the shopper declined the substitutes",
        customer_id=customer_id,
    )


def _swap(catalog: Catalog, line: tables.OrderLine, product: Product) -> None:
    """Point the line at the substitute, keeping the options it offers too."""
    kept = [option for option in line.options if option.get("group") in product.options]
    try:
        chosen = choose_options(catalog, product, options_input(kept))
    except OptionInvalid:
        chosen = choose_options(catalog, product, {})
    price = unit_price(product, chosen)
    line.product_id = product.id
    line.name = product.name
    line.category = product.category
    line.base_price = product.price or 0
    line.unit_price = price
    line.line_total = price * line.quantity
    line.options = snapshot_options(chosen)


def _customer_offer(
    session: Session, customer_id: int, order_id: int
) -> tuple[tables.Order, Substitution]:
    """The customer's locked order and its waiting offer (404s for anything else)."""
    order = _locked_order(session, order_id)
    if order is None or order.customer_id != customer_id:
        raise OrderNotFound(order_id)
    offer = open_offer(session, order_id)
    if offer is None:
        raise SubstitutionNotFound(order_id)
    return order, offer


def _locked_order(session: Session, order_id: int) -> tables.Order | None:
    """The order with its lines, locked for this transaction."""
    query = (
        select(tables.Order)
        .where(tables.Order.id == order_id)
        .options(selectinload(tables.Order.lines))
        .with_for_update()
    )
    return session.scalars(query).first()
