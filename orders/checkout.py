"""Checkout: the cart becomes an order, once, and only after the shopper said yes.

Idempotency: a checkout carries a key chosen by the client. The first checkout with a key
places the order; a retry with the same key and the same request returns that order (even
when the cart is empty by then); the same key with a different request is refused
(IdempotencyConflict). Keys are per customer. Checkouts of one customer are serialised on
the customer's row. A checkout looks the key up only when it finds the cart empty (the usual
retry); with a full cart it inserts, and the unique (customer, key) constraint catches a key
used before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from catalog.model import Catalog, Product, Store
from orders import outbox, tables
from orders.cart_writes import empty_cart
from orders.carts import load_cart, lock_customer, resolve_store
from orders.clock import Clock, utc_now
from orders.errors import (
    CartEmpty,
    ConfirmationRequired,
    FieldInvalid,
    IdempotencyConflict,
)
from orders.order_insert import insert_order
from orders.pickup import Actor, new_event, plan_pickup, prep_minutes
from orders.pricing import (
    ChosenOption,
    choose_options,
    options_input,
    sellable_product,
    snapshot_options,
    tax_on,
    unit_price,
)
from orders.tables import Channel, Fulfilment, OrderStatus

logger = logging.getLogger(__name__)

MAX_KEY = 255
MAX_ADDRESS = 1000


@dataclass(frozen=True)
class CheckoutRequest:
    """What the shopper asked for at checkout; its hash is compared on idempotent retries."""

    fulfilment: Fulfilment = Fulfilment.DELIVERY
    store_id: str | None = None
    pickup_at: datetime | None = None
    address: str | None = None
    channel: Channel = Channel.APP

    def digest(self) -> str:
        """SHA-256 of the canonical request."""
        body = {
            "fulfilment": self.fulfilment.value,
            "store_id": self.store_id,
            "pickup_at": self.pickup_at.astimezone(UTC).isoformat() if self.pickup_at else None,
            "address": self.address,
            "channel": self.channel.value,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def checkout(
    session: Session,
    customer_id: int,
    request: CheckoutRequest,
    *,
    catalog: Catalog,
    idempotency_key: str,
    confirmed: bool,
    clock: Clock = utc_now,
) -> tuple[tables.Order, bool]:
    """Place the cart as an order; return it and whether it is new (False for a retry)."""
    if not confirmed:
        raise ConfirmationRequired()
    _check_request(request, idempotency_key)
    digest = request.digest()
    customer = lock_customer(session, customer_id)
    cart = load_cart(session, customer, clock=clock)
    if not cart.lines:  # a retry finds the cart its first attempt emptied
        existing = _order_by_key(session, customer_id, idempotency_key)
        if existing is None:
            raise CartEmpty()
        session.commit()  # releases the customer lock; nothing else changed
        return _replay(existing, idempotency_key, digest), False
    store = resolve_store(catalog, request.store_id or cart.store_id)
    order = _new_order(session, catalog, store=store, cart=cart, request=request, now=clock())
    order.customer_id = customer_id
    order.idempotency_key = idempotency_key
    order.request_hash = digest
    try:
        insert_order(session, order)
        outbox.record_events(session, order)
        empty_cart(session, cart)
        session.commit()
    except IntegrityError:
        # The key was used before and the cart was filled again since (or a concurrent
        # checkout got past the customer lock): the unique constraint decides, we replay.
        session.rollback()
        existing = _order_by_key(session, customer_id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, idempotency_key, digest), False
    logger.info("order %d placed by customer %d (%s)", order.id, customer_id, request.fulfilment)
    return order, True


def _check_request(request: CheckoutRequest, key: str) -> None:
    """Refuse a malformed key, an over-long address, or a pickup time on a delivery."""
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise FieldInvalid("Idempotency-Key", f"must be 1 to {MAX_KEY} printable characters")
    if request.address is not None and len(request.address) > MAX_ADDRESS:
        raise FieldInvalid("address", f"must be at most {MAX_ADDRESS} characters")
    if request.pickup_at is not None:
        if request.fulfilment is not Fulfilment.PICKUP:
            raise FieldInvalid("pickup_at", "only pickup orders take a pickup time")
        if request.pickup_at.tzinfo is None:
            raise FieldInvalid("pickup_at", "give a time zone (e.g. 2025-05-01T08:30:00-07:00)")


def _new_order(
    session: Session,
    catalog: Catalog,
    *,
    store: Store,
    cart: tables.Cart,
    request: CheckoutRequest,
    now: datetime,
) -> tables.Order:
    """The order with its line snapshots, totals, first event and (for pickup) ready time."""
    priced: list[tuple[Product, int, tuple[ChosenOption, ...], str | None]] = []
    for line in cart.lines:
        product = sellable_product(catalog, line.product_id, store.id)
        chosen = choose_options(catalog, product, options_input(line.options))
        priced.append((product, line.quantity, chosen, line.note))
    lines = [_order_line(position, *item) for position, item in enumerate(priced)]
    subtotal = sum(line.line_total for line in lines)
    tax = tax_on(subtotal, store.tax_rate)
    own = prep_minutes(catalog, [(product, quantity) for product, quantity, _, _ in priced])
    promised = None
    if request.fulfilment is Fulfilment.PICKUP:
        estimate = plan_pickup(
            session, store, own_minutes=own, requested_at=request.pickup_at, now=now
        )
        promised = estimate.ready_at
    first = new_event(None, OrderStatus.PLACED, actor=Actor.customer(cart.customer_id), at=now)
    return tables.Order(
        store_id=store.id,
        channel=request.channel,
        fulfilment=request.fulfilment,
        status=OrderStatus.PLACED,
        currency=catalog.currency,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        tax_rate=store.tax_rate,
        placed_at=now,
        requested_at=request.pickup_at,
        promised_at=promised,
        prep_minutes=own,
        address=request.address,
        updated_at=now,
        lines=lines,
        events=[first],
    )


def _order_line(
    position: int,
    product: Product,
    quantity: int,
    chosen: tuple[ChosenOption, ...],
    note: str | None,
) -> tables.OrderLine:
    """An order line with the prices and names of today, and the cart line's note."""
    price = unit_price(product, chosen)
    return tables.OrderLine(
        position=position,
        product_id=product.id,
        name=product.name,
        category=product.category,
        quantity=quantity,
        base_price=product.price or 0,
        unit_price=price,
        line_total=price * quantity,
        options=snapshot_options(chosen),
        note=note,
    )


def _order_by_key(session: Session, customer_id: int, key: str) -> tables.Order | None:
    """The customer's order placed with this idempotency key, with lines and events."""
    query = (
        select(tables.Order)
        .where(tables.Order.customer_id == customer_id, tables.Order.idempotency_key == key)
        .options(selectinload(tables.Order.lines), selectinload(tables.Order.events))
    )
    return session.scalars(query).first()


def _replay(order: tables.Order, key: str, digest: str) -> tables.Order:
    """The earlier order for a retry, or IdempotencyConflict when the request differs."""
    if order.request_hash != digest:
        raise IdempotencyConflict(key, order.id)
    return order


def place_pickup_order(
    session: Session,
    customer_id: int,
    *,
    catalog: Catalog,
    store_id: str | None,
    pickup_at: datetime | None,
    idempotency_key: str,
    confirmed: bool,
    channel: Channel = Channel.APP,
    clock: Clock = utc_now,
) -> tuple[tables.Order, bool]:
    """Checkout for pickup at a store, at a time or as soon as possible."""
    request = CheckoutRequest(
        fulfilment=Fulfilment.PICKUP, store_id=store_id, pickup_at=pickup_at, channel=channel
    )
    return checkout(
        session,
        customer_id,
        request,
        catalog=catalog,
        idempotency_key=idempotency_key,
        confirmed=confirmed,
        clock=clock,
    )
