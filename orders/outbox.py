"""The transactional outbox: notification rows written with the change, claimed by dispatchers.

Writing: every status change of an order adds an OrderEvent row (orders/pickup.py `transition`,
checkout's first event). `install` listens to a session factory's flushes, and for each new
OrderEvent adds a Notification and one Delivery per channel in the same flush, so the change
and its notifications commit or roll back together, whichever code path made the change
(staff, the shopper's cancel, the dialogue). Checkout (orders/order_insert.py) and
`pickup.transition` write with Core statements, which the flush never sees, and call
`record_events` / `record_change` in the same transaction. Use cases that are not status
changes (substitution offers) call `record` themselves, inside their own transaction.

Claiming: a dispatcher claims due deliveries by setting a lease (`locked_until`). On
PostgreSQL the claim query uses FOR UPDATE SKIP LOCKED, so dispatchers in many processes
never claim the same row at the same time; on SQLite the transaction's BEGIN IMMEDIATE
serialises them. A dispatcher that dies leaves its lease to expire, then any dispatcher
claims the row again: delivery is at least once, and the notification id lets receivers
drop duplicates.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    event,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import LoaderCallableStatus, Session, sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate

from orders import tables
from orders.db import begin_write, on_sqlite
from orders.staff_tables import Delivery, DeliveryStatus, Notification, WebhookEndpoint
from orders.tables import FINAL, Fulfilment, IdentityKind, OrderStatus

logger = logging.getLogger(__name__)

STORE = "store"
"""The store's staff screens."""
APP = "app"
"""The shopper's in-app event stream."""
ALEXA = "alexa"
"""An Alexa proactive event to the shopper's linked Echo ("ready" only)."""
WEBHOOK = "webhook"
"""A signed POST to a registered endpoint (SMS gateways, store systems)."""

DELIVERIES = cast(Table, Delivery.__table__)
"""The deliveries' table, for the dispatcher's statements that need no ORM objects."""
NOTIFICATIONS = cast(Table, Notification.__table__)
"""The notifications' table, for the Core inserts of checkout and status changes."""

_INSERT_NOTIFICATION = insert(NOTIFICATIONS)
_INSERT_DELIVERIES = insert(DELIVERIES).returning(DELIVERIES.c.id)
"""With RETURNING, SQLAlchemy sends a notification's few deliveries as one multi-row INSERT;
without, psycopg's executemany runs a pipeline, whose set-up cost more than the rows."""
_ALEXA_USERS = select(tables.Identity.value).where(
    tables.Identity.customer_id == bindparam("customer_id"),
    tables.Identity.kind == IdentityKind.ALEXA_USER,
)
_ENDPOINTS = cast(Table, WebhookEndpoint.__table__).c
_WEBHOOKS = select(_ENDPOINTS.id, _ENDPOINTS.events).where(
    _ENDPOINTS.active.is_(True),
    or_(_ENDPOINTS.store_id.is_(None), _ENDPOINTS.store_id == bindparam("store_id")),
)
"""Statements of every status change, built once."""

READY_EVENT = "order.ready"
_WROTE = "voicecart.outbox.wrote"
MAX_ERROR = 2000


@dataclass(frozen=True)
class Claimed:
    """A delivery a dispatcher holds the lease on."""

    id: int
    notification_id: str
    channel: str
    target: str
    attempts: int
    """Attempts including this one."""


def event_name(status: OrderStatus) -> str:
    """The event name of a status change: "order.ready", ..."""
    return f"order.{status.value}"


def install(
    sessions: sessionmaker[Session],
    *,
    on_commit: Callable[[frozenset[str]], None] | None = None,
) -> None:
    """Write notifications for every status change made through these sessions.

    `on_commit` runs after a transaction that wrote notifications committed, with the
    channels it wrote deliveries for (the wake-up of those channels' dispatchers, so delivery
    need not wait for their next poll).
    """
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_rollback", _forget)
    if on_commit is not None:

        def _after_commit(session: Session) -> None:
            channels = session.info.pop(_WROTE, None)
            if channels:
                on_commit(frozenset(channels))

        event.listen(sessions, "after_commit", _after_commit)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Add the notifications of the OrderEvents this flush is about to insert."""
    for item in list(session.new):
        if not isinstance(item, tables.OrderEvent):
            continue
        order = inspect(item).attrs.order.loaded_value
        if order is LoaderCallableStatus.NO_VALUE or order is None:
            with session.no_autoflush:
                order = session.get(tables.Order, item.order_id) if item.order_id else None
        if isinstance(order, tables.Order):
            change = _Change.of(item)
            record(
                session,
                order,
                event_name=change.event_name,
                status=change.status,
                data=change.data,
                now=change.at,
            )


@dataclass(frozen=True)
class _Change:
    """What a status change's notification says."""

    event_name: str
    status: OrderStatus
    data: dict[str, Any]
    at: datetime

    @classmethod
    def of(cls, item: tables.OrderEvent) -> _Change:
        """The notification content of an order event."""
        data = {
            "from": item.from_status.value if item.from_status else None,
            "actor": item.actor_kind.value,
            "note": item.note,
            "at": item.at.isoformat(),
        }
        return cls(event_name(item.to_status), item.to_status, data, item.at)


def _forget(session: Session) -> None:
    """A rolled-back transaction wrote nothing."""
    session.info.pop(_WROTE, None)


def record(
    session: Session,
    order: tables.Order,
    *,
    event_name: str,
    status: OrderStatus,
    data: dict[str, Any],
    now: datetime,
) -> Notification:
    """Add a notification and its deliveries to the session (the caller's commit writes them)."""
    with session.no_autoflush:
        targets = route(session, order, event_name)
    notification = Notification(
        order=order,  # the order may not have its id yet: the flush sets order_id
        **_notification(order, event_name=event_name, status=status, data=data, now=now),
        deliveries=[Delivery(**_delivery(channel, target, now)) for channel, target in targets],
    )
    session.add(notification)
    _wrote(session, targets)
    return notification


def record_events(session: Session, order: tables.Order) -> None:
    """Write the notifications of a new order inserted with Core (orders/order_insert.py)."""
    for item in order.events:
        record_change(session, order, item)


def record_change(session: Session, order: tables.Order, item: tables.OrderEvent) -> None:
    """Write the notification of one status change written with Core statements.

    The flush hook never sees such a change (checkout's new order, `pickup.transition`); the
    rows are inserted here, in the caller's transaction, with Core statements as well.
    """
    connection = session.connection()
    change = _Change.of(item)
    targets = route(session, order, change.event_name)
    notification = _notification(
        order,
        event_name=change.event_name,
        status=change.status,
        data=change.data,
        now=change.at,
    )
    connection.execute(_INSERT_NOTIFICATION, {"order_id": order.id, **notification})
    deliveries = [
        {"notification_id": notification["id"], **_delivery(channel, target, change.at)}
        for channel, target in targets
    ]
    connection.execute(_INSERT_DELIVERIES, deliveries).all()
    _wrote(session, targets)


def _notification(
    order: tables.Order,
    *,
    event_name: str,
    status: OrderStatus,
    data: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """A new notification's columns but its order_id: a fresh id, who and what happened."""
    return {
        "id": str(uuid.uuid4()),
        "customer_id": order.customer_id,
        "store_id": order.store_id,
        "event": event_name,
        "status": status,
        "data": data,
        "created_at": now,
    }


def _delivery(channel: str, target: str, now: datetime) -> dict[str, Any]:
    """A new delivery's columns: pending, due now, never tried."""
    return {
        "channel": channel,
        "target": target,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "locked_by": "",
        "delivered_at": None,
        "last_error": "",
    }


def _wrote(session: Session, targets: list[tuple[str, str]]) -> None:
    """Remember the channels written to, for the wake-up after commit."""
    session.info.setdefault(_WROTE, set()).update(channel for channel, _ in targets)


def route(session: Session, order: tables.Order, event_name: str) -> list[tuple[str, str]]:
    """The (channel, target) pairs one event of an order goes to."""
    targets = [(APP, str(order.customer_id))]
    if order.fulfilment is Fulfilment.PICKUP:
        targets.insert(0, (STORE, order.store_id))
    if event_name == READY_EVENT:
        alexa_users = session.scalars(_ALEXA_USERS, {"customer_id": order.customer_id})
        targets.extend((ALEXA, user) for user in alexa_users)
    endpoints = session.execute(_WEBHOOKS, {"store_id": order.store_id})
    targets.extend(
        (WEBHOOK, str(endpoint))
        for endpoint, events in endpoints
        if not events or event_name in events
    )
    return targets


@cache
def _due_query(
    channels: tuple[str, ...], limit: int, *, excluding: bool = False
) -> Select[int, str, str, str, int]:
    """Pending deliveries on these channels whose next attempt is due (at :now), oldest first.

    Built once per dispatcher; `excluding` leaves out the ids in :exclude.
    """
    query = (
        select(
            Delivery.id,
            Delivery.notification_id,
            Delivery.channel,
            Delivery.target,
            Delivery.attempts,
        )
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.channel.in_(channels),
            Delivery.next_attempt_at <= bindparam("now"),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    if excluding:
        return query.where(Delivery.id.not_in(bindparam("exclude", expanding=True)))
    return query


def claim(
    session: Session,
    *,
    channels: Iterable[str],
    worker: str,
    limit: int,
    lease: timedelta,
    now: datetime,
) -> list[Claimed]:
    """Claim up to `limit` due deliveries on these channels for `lease`; commits.

    On SQLite a plain read comes first: a wake-up that finds nothing due must not take the
    database's one write lock from the request threads. (On PostgreSQL the claim itself
    takes no lock when nothing is due, and the look would cost a round trip.)
    """
    if on_sqlite(session) and not _anything_due(session, channels=channels, now=now):
        session.rollback()
        return []
    begin_write(session)
    query = _claim(_key(channels), limit)
    values = {"now": now, "lease_end": now + lease, "worker": worker}
    rows = sorted(session.connection().execute(query, values).all())  # Core: no ORM bulk update
    session.commit()
    return [Claimed(*row) for row in rows]


@cache
def _claim(channels: tuple[str, ...], limit: int) -> ReturningUpdate[int, str, str, str, int]:
    """One statement: due rows chosen, locked and leased (to :worker until :lease_end)."""
    claimable = _claimable_ids(channels, limit).with_for_update(skip_locked=True)
    deliveries = DELIVERIES.c
    return (
        update(DELIVERIES)
        .where(deliveries.id.in_(claimable.scalar_subquery()))
        .values(
            locked_until=bindparam("lease_end"),
            locked_by=bindparam("worker"),
            attempts=deliveries.attempts + 1,
        )
        .returning(
            deliveries.id,
            deliveries.notification_id,
            deliveries.channel,
            deliveries.target,
            deliveries.attempts,
        )
    )


def _key(channels: Iterable[str]) -> tuple[str, ...]:
    """Channels as the statements' cache key."""
    return tuple(sorted(set(channels)))


def _anything_due(session: Session, *, channels: Iterable[str], now: datetime) -> bool:
    """Whether any delivery on these channels is due and not leased (no lock taken)."""
    query = _claimable_ids(_key(channels), 1)
    return session.execute(query, {"now": now}).first() is not None


@cache
def _claimable_ids(channels: tuple[str, ...], limit: int) -> Select[int]:
    """The ids of due deliveries (at :now) that no dispatcher holds a lease on."""
    query = _due_query(channels, limit).with_only_columns(Delivery.id)
    unleased = or_(Delivery.locked_until.is_(None), Delivery.locked_until <= bindparam("now"))
    return query.where(unleased)


def due(
    session: Session,
    *,
    channels: Iterable[str],
    limit: int,
    now: datetime,
    exclude: Collection[int] = (),
) -> list[Claimed]:
    """Due deliveries read without a claim: for the only dispatcher of a channel (one process).

    A single-process deployment (SQLite) has no one to exclude, so its bus dispatcher skips
    the claim's write and the wait for SQLite's writer lock. If the process dies before
    recording the outcome, the rows are still pending and are delivered after the restart.
    The read stays open: the caller renders the messages in the same snapshot, then ends it.
    `exclude`: ids delivered by this dispatcher whose outcome is not written yet.
    """
    query = _due_query(_key(channels), limit, excluding=bool(exclude))
    values: dict[str, Any] = {"now": now}
    if exclude:
        values["exclude"] = list(exclude)
    rows = session.execute(query, values).all()
    return [Claimed(r.id, r.notification_id, r.channel, r.target, r.attempts + 1) for r in rows]


def mark_delivered(
    session: Session, ids: Sequence[int], *, worker: str | None, now: datetime
) -> None:
    """Record deliveries as done (only those `worker` still holds, unless None); commits."""
    if ids:
        begin_write(session)
        values = {"ids": list(ids), "now": now}
        if worker is None:
            session.connection().execute(_MARK_DELIVERED, values)
        else:
            session.connection().execute(_MARK_DELIVERED_HELD, {**values, "worker": worker})
    session.commit()


_MARK_DELIVERED = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=DeliveryStatus.DELIVERED, delivered_at=bindparam("now"), locked_until=None)
)
_MARK_DELIVERED_HELD = _MARK_DELIVERED.where(DELIVERIES.c.locked_by == bindparam("worker"))
"""Built once: the dispatchers' outcome write (the second: only rows the worker holds)."""


def mark_failed(
    session: Session,
    delivery_id: int,
    *,
    worker: str | None,
    attempts: int,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Schedule a retry at `retry_at`, or (None) move the delivery to the dead letters; commits."""
    begin_write(session)
    values: dict[str, Any] = {
        "locked_until": None,
        "attempts": attempts,
        "last_error": error[:MAX_ERROR],
    }
    if retry_at is None:
        values["status"] = DeliveryStatus.DEAD
    else:
        values["next_attempt_at"] = retry_at
    query = update(Delivery).where(Delivery.id == delivery_id)
    if worker is not None:
        query = query.where(Delivery.locked_by == worker)
    session.execute(query.values(**values))
    session.commit()


def dead_letters(session: Session, *, limit: int = 100) -> list[Delivery]:
    """Deliveries given up on, newest first."""
    query = (
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.DEAD)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def redeliver(session: Session, delivery_id: int, *, now: datetime) -> bool:
    """Put a dead delivery back in the queue with fresh attempts; commits; False if not dead."""
    begin_write(session)
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.DEAD)
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, last_error="")
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def replay(
    session: Session,
    *,
    customer_id: int,
    after: str | None,
    grace: timedelta = timedelta(seconds=30),
    limit: int = 200,
) -> list[Notification]:
    """The customer's notifications a (re)connecting stream should get first, oldest first.

    With `after` (the stream's Last-Event-ID): what came since. Ids are random, so "since"
    means created no earlier than `grace` before that notification (a transaction that
    committed late is still found). Without it, or with an id that is not the customer's:
    everything about the customer's orders that are still open (a "ready" the shopper has
    not picked up yet). The client drops the ids it already has.
    """
    last = session.get(Notification, after) if after else None
    query = select(Notification).where(Notification.customer_id == customer_id)
    if last is not None and last.customer_id == customer_id:
        query = query.where(
            Notification.created_at >= last.created_at - grace, Notification.id != last.id
        )
    else:
        still_open = select(tables.Order.id).where(
            tables.Order.customer_id == customer_id, tables.Order.status.not_in(FINAL)
        )
        query = query.where(Notification.order_id.in_(still_open))
    return list(session.scalars(query.order_by(Notification.created_at).limit(limit)))


def prune(session: Session, *, before: datetime) -> int:
    """Delete notifications created before `before` that have nothing pending; commits."""
    begin_write(session)
    pending = select(Delivery.notification_id).where(Delivery.status == DeliveryStatus.PENDING)
    result = session.execute(
        delete(Notification).where(
            Notification.created_at < before, Notification.id.not_in(pending)
        )
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
