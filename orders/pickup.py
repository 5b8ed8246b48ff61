"""Pickup orders: opening hours, the promised ready time, and the order status machine.

The ready-time estimate (docs/orders.md has it with an example):
  own     = sum over the order's lines of quantity x preparation minutes of the product's
            category (the catalog's `prep_minutes`, falling back to its "default", else 0)
  ahead   = the store's pickup orders that are placed, accepted or in progress and promised
            before the cutoff: the requested time, or now + 60 minutes for "as soon as possible"
  queue   = the sum of their preparation minutes (one preparation lane per store; an order
            being prepared still counts in full, so the estimate errs on the late side)
  ready   = max(now + queue + own, requested time), rounded up to the next whole minute

Every status change goes through `transition`, which writes the new status, an OrderEvent
(from, to, who, when) and the event's notification rows (orders/outbox.py `record_change`)
with Core statements, then runs the transition hooks, all in one transaction: a status
change and its notifications commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from catalog.model import Catalog, Product, Store
from orders import outbox, tables
from orders.carts import resolve_store
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import (
    CartEmpty,
    IllegalTransition,
    OrderNotFound,
    PickupUnavailable,
    StoreClosed,
)
from orders.order_insert import insert_rows
from orders.switches import pickup_extra_minutes
from orders.tables import ACTIVE, ActorKind, Fulfilment, OrderStatus

logger = logging.getLogger(__name__)

ASAP_HORIZON = timedelta(minutes=60)
"""An ASAP order queues behind the active orders promised within this horizon."""
MAX_ADVANCE = timedelta(days=7)
"""How far ahead a pickup may be requested."""
PAST_GRACE = timedelta(minutes=1)
"""A requested time this little in the past (clock skew, a slow client) counts as now."""

_STAFF = frozenset({ActorKind.STAFF, ActorKind.SYSTEM})
_ANYONE = frozenset({ActorKind.CUSTOMER, ActorKind.STAFF, ActorKind.SYSTEM})
TRANSITIONS: dict[OrderStatus, dict[OrderStatus, frozenset[ActorKind]]] = {
    OrderStatus.PLACED: {
        OrderStatus.ACCEPTED: _STAFF,
        OrderStatus.REJECTED: _STAFF,
        OrderStatus.CANCELLED: _ANYONE,
    },
    OrderStatus.ACCEPTED: {OrderStatus.IN_PROGRESS: _STAFF, OrderStatus.CANCELLED: _STAFF},
    OrderStatus.IN_PROGRESS: {OrderStatus.READY: _STAFF, OrderStatus.CANCELLED: _STAFF},
    OrderStatus.READY: {
        OrderStatus.PICKED_UP: _STAFF,
        OrderStatus.DELIVERED: _STAFF,
        OrderStatus.CANCELLED: _STAFF,
    },
}
"""Status -> allowed next status -> who may make that change. Final statuses have no exits."""

_ENDS = {Fulfilment.PICKUP: OrderStatus.PICKED_UP, Fulfilment.DELIVERY: OrderStatus.DELIVERED}


@dataclass(frozen=True)
class Actor:
    """Who changes an order: kind plus an id ("customer" 12, "staff" "anna", "system" "timer")."""

    kind: ActorKind
    id: str

    @classmethod
    def customer(cls, customer_id: int) -> Actor:
        """The shopper who owns the order."""
        return cls(ActorKind.CUSTOMER, str(customer_id))


TransitionHook = Callable[[Session, tables.Order, tables.OrderEvent], None]
"""Called inside the transition's transaction, after the event row is added, before commit."""


@dataclass(frozen=True)
class ReadyEstimate:
    """A promised ready time and how it was reached."""

    ready_at: datetime
    own_minutes: int
    queue_minutes: int
    orders_ahead: int


def is_open(store: Store, at: datetime) -> bool:
    """Whether the store is open at this moment (in the store's own time zone)."""
    if store.hours.always_open:
        return True
    local = at.astimezone(ZoneInfo(store.timezone))
    clock = local.time().replace(tzinfo=None)
    return any(start <= clock < end for start, end in store.hours.ranges(local.weekday()))


def prep_minutes(catalog: Catalog, lines: Sequence[tuple[Product, int]]) -> int:
    """The order's own preparation minutes: quantity x minutes of each product's category."""
    return sum(catalog.prep_minutes_for(product) * quantity for product, quantity in lines)


def check_pickup(store: Store, *, requested_at: datetime | None, now: datetime) -> None:
    """Refuse a pickup the store cannot take: no pickup, past or far-off time, closed then."""
    if not store.pickup:
        raise PickupUnavailable(store.id, "this store does not take pickup orders")
    if requested_at is not None:
        if requested_at < now - PAST_GRACE:
            raise PickupUnavailable(store.id, f"{requested_at.isoformat()} is in the past")
        if requested_at > now + MAX_ADVANCE:
            raise PickupUnavailable(
                store.id, f"pickups can be booked up to {MAX_ADVANCE.days} days ahead"
            )
    at = requested_at if requested_at is not None and requested_at > now else now
    if not is_open(store, at):
        raise StoreClosed(store.id, _local(store, at))


_ORDER_TABLE = cast(Table, tables.Order.__table__)
_ORDERS = _ORDER_TABLE.c
_QUEUE_AHEAD = select(func.coalesce(func.sum(_ORDERS.prep_minutes), 0), func.count()).where(
    _ORDERS.store_id == bindparam("store_id"),
    _ORDERS.fulfilment == Fulfilment.PICKUP,
    _ORDERS.status.in_(ACTIVE),
    _ORDERS.promised_at < bindparam("cutoff"),
)
"""Built once, of table columns (no ORM step): the preparation minutes and count of a
store's active orders promised before a cutoff."""


def estimate_ready(
    session: Session,
    store: Store,
    *,
    own_minutes: int,
    requested_at: datetime | None,
    now: datetime,
) -> ReadyEstimate:
    """The promised ready time for a new pickup order at this store (rule in the module doc)."""
    cutoff = requested_at if requested_at is not None else now + ASAP_HORIZON
    queue, ahead = session.execute(_QUEUE_AHEAD, {"store_id": store.id, "cutoff": cutoff}).one()
    ready = now + timedelta(minutes=int(queue) + own_minutes)
    if requested_at is not None and requested_at > ready:
        ready = requested_at
    ready = _round_up_to_minute(ready)
    return ReadyEstimate(ready, own_minutes, int(queue), int(ahead))


def plan_pickup(
    session: Session,
    store: Store,
    *,
    own_minutes: int,
    requested_at: datetime | None,
    now: datetime,
    lock: bool = True,
) -> ReadyEstimate:
    """Check the pickup, queue behind the store's orders, and check it is ready before closing.

    With `lock`, the store's row is locked so that concurrent pickup orders at one store
    queue one after another (PostgreSQL; SQLite serialises write transactions anyway).
    """
    check_pickup(store, requested_at=requested_at, now=now)
    own_minutes += pickup_extra_minutes(session, store, lock_store=lock)  # manager's switches
    estimate = estimate_ready(
        session, store, own_minutes=own_minutes, requested_at=requested_at, now=now
    )
    if not is_open(store, estimate.ready_at):
        raise StoreClosed(
            store.id, f"{_local(store, estimate.ready_at)} (when the order would be ready)"
        )
    return estimate


def quote_pickup(
    session: Session,
    customer_id: int,
    *,
    catalog: Catalog,
    store_id: str | None,
    pickup_at: datetime | None,
    clock: Clock = utc_now,
) -> tuple[Store, ReadyEstimate]:
    """When the current cart would be ready for pickup; places nothing (for "ready at 8:12?")."""
    query = (
        select(tables.Cart)
        .where(tables.Cart.customer_id == customer_id)
        .options(selectinload(tables.Cart.lines))
    )
    cart = session.scalars(query).first()
    if cart is None or not cart.lines:
        raise CartEmpty()
    store = resolve_store(catalog, store_id or cart.store_id)
    products = [(catalog.product(line.product_id), line.quantity) for line in cart.lines]
    own = prep_minutes(catalog, [(p, q) for p, q in products if p is not None])
    estimate = plan_pickup(
        session, store, own_minutes=own, requested_at=pickup_at, now=clock(), lock=False
    )
    return store, estimate


def new_event(
    from_status: OrderStatus | None,
    to: OrderStatus,
    *,
    actor: Actor,
    at: datetime,
    note: str = "",
) -> tables.OrderEvent:
    """The event row of a status change (an order's first event goes from None to placed)."""
    return tables.OrderEvent(
        from_status=from_status,
        to_status=to,
        actor_kind=actor.kind,
        actor_id=actor.id,
        at=at,
        note=note,
    )


def check_transition(order: tables.Order, to: OrderStatus, actor: Actor) -> None:
    """Refuse a change the status machine or the actor's role does not allow."""
    allowed = TRANSITIONS.get(order.status, {})
    if to not in allowed:
        raise IllegalTransition(order.id, order.status.value, to.value)
    if actor.kind not in allowed[to]:
        raise IllegalTransition(
            order.id, order.status.value, to.value, f"not allowed for {actor.kind}"
        )
    if to in _ENDS.values() and _ENDS[order.fulfilment] is not to:
        raise IllegalTransition(
            order.id, order.status.value, to.value, f"a {order.fulfilment} order"
        )


_SET_STATUS = update(_ORDER_TABLE).where(_ORDERS.id == bindparam("order_id"))
_LOCK_ORDER = select(tables.Order).where(tables.Order.id == bindparam("order_id")).with_for_update()
_LINES = (
    select(tables.OrderLine)
    .where(tables.OrderLine.order_id == bindparam("order_id"))
    .order_by(tables.OrderLine.position)
)
_EVENTS = (
    select(tables.OrderEvent)
    .where(tables.OrderEvent.order_id == bindparam("order_id"))
    .order_by(tables.OrderEvent.id)
)
"""Built once: every status change locks its order, then reads its lines (and events).

Separate statements after the lock, so that they see what a transaction the lock waited for
wrote; plain ones, since a loader option (selectinload) cost more to set up each time than
the rows. The events only for a caller that shows the order's history (a staff button press
does not: one statement less on the busiest change).
"""


def _lock_order(session: Session, order_id: int, *, history: bool) -> tables.Order | None:
    """The order, locked for this transaction, with its lines (and events) loaded."""
    key = {"order_id": order_id}
    order = session.scalars(_LOCK_ORDER, key).first()
    if order is None:
        return None
    set_committed_value(order, "lines", list(session.scalars(_LINES, key)))
    if history:
        set_committed_value(order, "events", list(session.scalars(_EVENTS, key)))
    return order


def transition(
    session: Session,
    order_id: int,
    to: OrderStatus,
    *,
    actor: Actor,
    clock: Clock = utc_now,
    note: str = "",
    customer_id: int | None = None,
    store_ids: Collection[str] | None = None,
    hooks: Sequence[TransitionHook] = (),
    history: bool = True,
) -> tables.Order:
    """Change an order's status: lock, check, record the event, run the hooks, commit.

    With `customer_id`, only that customer's order is found, and with `store_ids` only an
    order of those stores (any other is OrderNotFound, as if it did not exist). Without
    `history`, the returned order's events are not loaded (unless the session had them).
    """
    begin_write(session)
    order = _lock_order(session, order_id, history=history)
    if (
        order is None
        or (customer_id is not None and order.customer_id != customer_id)
        or (store_ids is not None and order.store_id not in store_ids)
    ):
        raise OrderNotFound(order_id)
    check_transition(order, to, actor)
    event = new_event(order.status, to, actor=actor, at=clock(), note=note)
    _write_change(session, order, event)
    for hook in hooks:
        hook(session, order, event)
    session.commit()
    logger.info(
        "order %d: %s -> %s by %s %s", order.id, event.from_status, to, actor.kind, actor.id
    )
    return order


def _write_change(session: Session, order: tables.Order, event: tables.OrderEvent) -> None:
    """The new status, its event row and its notifications, with Core statements.

    The ORM's flush cost more than the rows (a status change is every staff button press).
    The session's objects get the written values as their committed state, and the event
    joins the session as a persistent row, so nothing is written twice at commit.
    """
    connection = session.connection()
    connection.execute(
        _SET_STATUS, {"order_id": order.id, "status": event.to_status, "updated_at": event.at}
    )
    event.order_id = order.id
    insert_rows(connection, tables.OrderEvent, [event])
    make_transient_to_detached(event)
    session.add(event)
    set_committed_value(event, "order", order)
    if "events" not in inspect(order).unloaded:
        set_committed_value(order, "events", [*order.events, event])
    set_committed_value(order, "status", event.to_status)
    set_committed_value(order, "updated_at", event.at)
    outbox.record_change(session, order, event)


def cancel_order(
    session: Session,
    customer_id: int,
    order_id: int,
    *,
    clock: Clock = utc_now,
    hooks: Sequence[TransitionHook] = (),
) -> tables.Order:
    """The shopper cancels their own order; allowed only while it is still just placed."""
    return transition(
        session,
        order_id,
        OrderStatus.CANCELLED,
        actor=Actor.customer(customer_id),
        clock=clock,
        note="cancelled by the shopper",
        customer_id=customer_id,
        hooks=hooks,
    )


def _round_up_to_minute(at: datetime) -> datetime:
    """The next whole minute (unchanged if already whole)."""
    whole = at.replace(second=0, microsecond=0)
    return whole if whole == at else whole + timedelta(minutes=1)


def _local(store: Store, at: datetime) -> str:
    """A time as the store's local wall clock, for messages."""
    return at.astimezone(ZoneInfo(store.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")
