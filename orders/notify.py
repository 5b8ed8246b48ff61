"""Notifications: the Channel protocol, the messages channels send, and the outbox dispatcher.

Channels are whatever the process wires in (server/live.py): the store's staff screens and the
shopper's in-app stream publish on the event bus, Alexa sends a proactive event, webhooks POST
a signed body. This module knows none of them; it claims due deliveries (orders/outbox.py),
renders each notification once from the database, hands it to the channel, and records the
outcome: delivered, retry later (exponential backoff with jitter), or dead.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from orders import outbox, tables
from orders.clock import Clock, utc_now
from orders.db import end_read
from orders.order_rows import ORDER_COLUMNS, TicketOrder, with_lines
from orders.outcome_writer import OutcomeWriter
from orders.queue import tickets
from orders.tables import OrderStatus

logger = logging.getLogger(__name__)


class Result(StrEnum):
    """What became of one delivery attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    """Permanently refused: retrying cannot help (the delivery goes to the dead letters)."""


@dataclass(frozen=True)
class Outcome:
    """A channel's answer for one delivery; `retry_after` (seconds) overrides the backoff."""

    result: Result
    error: str = ""
    retry_after: float | None = None

    @classmethod
    def delivered(cls) -> Outcome:
        """The channel has it."""
        return cls(Result.DELIVERED)

    @classmethod
    def retry(cls, error: str, *, after: float | None = None) -> Outcome:
        """Try again later."""
        return cls(Result.RETRY, error, after)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        """Give up."""
        return cls(Result.FAILED, error)


@dataclass(frozen=True)
class Message:
    """One notification rendered for every channel: ids, the shopper's words, the ticket."""

    id: str
    event: str
    status: str
    created_at: datetime
    order_id: int
    customer_id: int
    store_id: str
    store_name: str
    text: str
    """What the shopper reads or hears: "Your grande oat latte is ready at Main St"."""
    ticket: dict[str, Any]
    """The order as the staff screen shows it (orders/queue.py)."""
    data: dict[str, Any] = field(default_factory=dict)

    def shopper_json(self) -> dict[str, Any]:
        """What the shopper's stream carries."""
        return {
            "id": self.id,
            "event": self.event,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "order_id": self.order_id,
            "store_id": self.store_id,
            "store_name": self.store_name,
            "text": self.text,
            "data": self.data,
        }

    def staff_json(self) -> dict[str, Any]:
        """What the staff screens receive: the event and the ticket as it is now."""
        return {
            "id": self.id,
            "event": self.event,
            "created_at": self.created_at.isoformat(),
            "ticket": self.ticket,
            "data": self.data,
        }


@dataclass(frozen=True)
class Outgoing:
    """One claimed delivery with its message."""

    delivery_id: int
    channel: str
    target: str
    attempts: int
    message: Message


class Channel(Protocol):
    """A way to reach someone; `name` matches the deliveries' channel column."""

    name: str

    def deliver(self, item: Outgoing) -> Outcome:
        """Send one message; never raise for a failed send, answer with an Outcome."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, then the dead letters."""

    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=10)
    max_attempts: int = 10
    jitter: float = 0.2

    def delay(self, attempts: int, *, rng: random.Random | None = None) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt."""
        plain: timedelta = min(self.base * (2 ** max(0, attempts - 1)), self.cap)
        spread = 1.0 + (rng or random.Random()).uniform(-self.jitter, self.jitter)
        return plain * spread


def render(session: Session, notification_ids: Sequence[str]) -> dict[str, Message]:
    """The messages of these notifications, from the database as it is now (plain rows).

    Three reads a round: the notifications with their orders, customers' names and stores in
    one; the orders' lines; the substitution offers.
    """
    found = session.execute(_RENDER, {"ids": list(notification_ids)}).all()
    rows = [NotificationRow(*row[:_ORDER_AT]) for row in found]
    orders = with_lines(
        session, [dict(zip(ORDER_COLUMNS, row[_ORDER_AT:_NAME_AT], strict=True)) for row in found]
    )
    names = {row.customer_id: row.customer_name or "" for row in found}
    places = {row.store_id: (row.store_name, row.store_zone) for row in found if row.store_name}
    tickets_ = tickets(session, list(orders.values()), names=names)
    by_order = {ticket["order_id"]: ticket for ticket in tickets_}
    return {
        row.id: _message(
            row, places.get(row.store_id), orders[row.order_id], by_order[row.order_id]
        )
        for row in rows
    }


@dataclass(frozen=True)
class NotificationRow:
    """A notification read as a plain row."""

    id: str
    event: str
    status: OrderStatus
    created_at: datetime
    order_id: int
    customer_id: int
    store_id: str
    data: dict[str, Any]


_NOTIFICATION_COLUMNS = list(NotificationRow.__dataclass_fields__)
_STORES = tables.Store.__table__.c
_ORDERS = tables.Order.__table__.c
_CUSTOMERS = tables.Customer.__table__.c
_ORDER_AT = len(_NOTIFICATION_COLUMNS)
_NAME_AT = _ORDER_AT + len(ORDER_COLUMNS)
_RENDER = (
    select(
        *(outbox.NOTIFICATIONS.c[name] for name in _NOTIFICATION_COLUMNS),
        *(_ORDERS[name].label(f"order_{name}") for name in ORDER_COLUMNS),
        _CUSTOMERS.name.label("customer_name"),
        _STORES.name.label("store_name"),
        _STORES.timezone.label("store_zone"),
    )
    .select_from(
        outbox.NOTIFICATIONS.join(
            tables.Order.__table__, _ORDERS.id == outbox.NOTIFICATIONS.c.order_id
        )
        .outerjoin(tables.Customer.__table__, _CUSTOMERS.id == _ORDERS.customer_id)
        .outerjoin(tables.Store.__table__, _STORES.id == outbox.NOTIFICATIONS.c.store_id)
    )
    .where(outbox.NOTIFICATIONS.c.id.in_(bindparam("ids", expanding=True)))
)
"""Built once: every dispatcher round renders with it (a notification whose order is gone
is not found, and its delivery fails for good)."""


def _message(
    row: NotificationRow,
    place: tuple[str, str] | None,
    order: TicketOrder,
    ticket: dict[str, Any],
) -> Message:
    """One notification's message; `place` is the store's name and time zone."""
    store_name, zone = place if place is not None else (row.store_id, "UTC")
    return Message(
        id=row.id,
        event=row.event,
        status=row.status.value,
        created_at=row.created_at,
        order_id=row.order_id,
        customer_id=row.customer_id,
        store_id=row.store_id,
        store_name=store_name,
        text=shopper_text(row, order, store_name, zone),
        ticket=ticket,
        data=row.data,
    )


def describe(order: TicketOrder) -> str:
    """The order in a few words: "grande oat latte", "2 croissants", "your 3 items"."""
    if len(order.lines) != 1:
        count = sum(line.quantity for line in order.lines)
        return f"{count} items"
    line = order.lines[0]
    groups: list[str] = []
    words: list[str] = []
    for option in line.options:
        group = str(option.get("group", ""))
        if group in groups or option.get("amount") == "none" or len(groups) == 2:
            continue
        groups.append(group)
        words.append(str(option.get("choice_name", option.get("choice", ""))).lower())
    words.append(line.name.lower())
    phrase = " ".join(words)
    return phrase if line.quantity == 1 else f"{line.quantity} × {phrase}"


def shopper_text(row: NotificationRow, order: TicketOrder, store_name: str, zone: str) -> str:
    """What the shopper is told about this event."""
    what = describe(order)
    data = row.data
    if row.event == "substitution.offered":
        names = " or ".join(str(p["name"]) for p in data.get("offered", []))
        return f"{store_name} is out of {data.get('out_of_stock', 'an item')}. {names} instead?"
    if row.event == "substitution.accepted":
        return f"OK: {data.get('chosen', 'the substitute')} instead of {data.get('out_of_stock')}."
    texts = {
        "order.placed": f"Order received: your {what} at {store_name}",
        "order.accepted": f"{store_name} accepted your order",
        "order.in_progress": f"{store_name} is making your {what}",
        "order.ready": f"Your {what} is ready at {store_name}",
        "order.picked_up": "Picked up. Enjoy!",
        "order.delivered": f"Your {what} was delivered",
        "order.cancelled": f"Your order at {store_name} was cancelled",
        "order.rejected": f"{store_name} could not take your order",
    }
    text = texts.get(row.event, f"Your order is now {row.status.value.replace('_', ' ')}")
    if row.event == "order.placed" and order.promised_at is not None:
        local = order.promised_at.astimezone(ZoneInfo(zone))
        text += f", ready at {local.strftime('%H:%M')}"
    return text


class Dispatcher:
    """Claims due deliveries of its channels, delivers them, records the outcomes.

    Safe to run in every process at once (see orders/outbox.py); `exclusive` says it is the
    only dispatcher of its channels anywhere (one process on SQLite), so it reads due rows
    without claiming them (`outbox.due`). `serve` loops until stopped,
    waking on `wake()` (the process just committed a notification) or every `poll` seconds.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Sequence[Channel],
        *,
        worker: str,
        clock: Clock = utc_now,
        lease: timedelta = timedelta(seconds=30),
        batch: int = 200,
        policy: RetryPolicy | None = None,
        parallel: int = 1,
        exclusive: bool = False,
        gather: float = 0.0,
    ) -> None:
        self._sessions = sessions
        self._exclusive = exclusive
        self._channels = {channel.name: channel for channel in channels}
        self.worker = worker
        self._clock = clock
        self._lease = lease
        self._batch = batch
        self._policy = policy or RetryPolicy()
        self._pool = ThreadPoolExecutor(parallel) if parallel > 1 else None
        self._wake = threading.Event()
        self._gather = gather

    @property
    def channels(self) -> list[str]:
        """The channel names this dispatcher serves."""
        return sorted(self._channels)

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wake.set()

    def run_once(self) -> int:
        """Claim one batch, deliver it, record the outcomes; returns how many were claimed."""
        results = self._round(exclude=())
        if results:
            self._record(results)
        return len(results)

    def serve(self, stop: threading.Event, *, poll: float = 1.0) -> None:
        """Deliver until `stop` is set; a failing round is logged and retried after `poll`.

        Outcomes are written behind the rounds (orders/outcome_writer.py): the next round
        starts while the last one's outcomes wait for the write lock. After a round that
        delivered something the next one waits `gather` seconds, so that under load one
        round (one read, one render) carries several orders; the first delivery after a
        quiet spell goes out at once.
        """
        writer: OutcomeWriter[Outcome] = OutcomeWriter(self._record, name=self.worker)
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    results = self._round(exclude=writer.in_flight())
                except Exception:  # the loop must outlive a lost database connection
                    logger.exception("dispatcher %s: round failed", self.worker)
                    results = []
                writer.submit(results)
                if results and len(results) < self._batch:
                    stop.wait(self._gather)  # let the next orders gather into one round
                if len(results) < self._batch:
                    self._wake.wait(poll)
        finally:
            writer.close()

    def _round(self, *, exclude: Collection[int]) -> list[tuple[outbox.Claimed, Outcome]]:
        """Claim (or, alone, read) one batch and deliver it; the outcomes are not written."""
        with self._sessions() as session:
            if self._exclusive:
                claimed = outbox.due(
                    session,
                    channels=self._channels,
                    limit=self._batch,
                    now=self._clock(),
                    exclude=exclude,
                )
            else:
                claimed = outbox.claim(
                    session,
                    channels=self._channels,
                    worker=self.worker,
                    limit=self._batch,
                    lease=self._lease,
                    now=self._clock(),
                )
            ids = sorted({c.notification_id for c in claimed})
            messages = render(session, ids) if claimed else {}
            end_read(session)
        # Leaving the session ended the read: nothing is held while the channels deliver.
        items = [(c, messages.get(c.notification_id)) for c in claimed]
        return list(zip(claimed, self._deliver_all(items), strict=True))

    def close(self) -> None:
        """Stop the delivery threads (after `serve` returned)."""
        self._wake.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _deliver_all(self, items: list[tuple[outbox.Claimed, Message | None]]) -> list[Outcome]:
        """Deliver each item, in parallel when the dispatcher has a pool."""
        if self._pool is None:
            return [self._deliver(claimed, message) for claimed, message in items]
        return list(self._pool.map(lambda item: self._deliver(*item), items))

    def _deliver(self, claimed: outbox.Claimed, message: Message | None) -> Outcome:
        """One delivery; a channel that raises counts as a retryable failure."""
        if message is None:
            return Outcome.failed("the notification or its order no longer exists")
        item = Outgoing(claimed.id, claimed.channel, claimed.target, claimed.attempts, message)
        try:
            return self._channels[claimed.channel].deliver(item)
        except Exception as error:  # a channel bug must not kill the dispatcher
            logger.exception("channel %s raised on delivery %d", claimed.channel, claimed.id)
            return Outcome.retry(f"{type(error).__name__}: {error}")

    def _record(self, results: list[tuple[outbox.Claimed, Outcome]]) -> None:
        """Write the outcomes: one update for the delivered, one per failure."""
        now = self._clock()
        done = [claimed.id for claimed, outcome in results if outcome.result is Result.DELIVERED]
        worker = None if self._exclusive else self.worker
        with self._sessions() as session:
            outbox.mark_delivered(session, done, worker=worker, now=now)
            for claimed, outcome in results:
                if outcome.result is not Result.DELIVERED:
                    retry_at = self._retry_at(claimed, outcome, now)
                    outbox.mark_failed(
                        session,
                        claimed.id,
                        worker=worker,
                        attempts=claimed.attempts,
                        error=outcome.error,
                        retry_at=retry_at,
                    )
                    _log_failure(claimed, outcome, retry_at)

    def _retry_at(
        self, claimed: outbox.Claimed, outcome: Outcome, now: datetime
    ) -> datetime | None:
        """When to try again, or None for the dead letters."""
        if outcome.result is Result.FAILED or claimed.attempts >= self._policy.max_attempts:
            return None
        delay = self._policy.delay(claimed.attempts)
        if outcome.retry_after is not None:
            delay = max(delay, timedelta(seconds=outcome.retry_after))
        return now + delay


def _log_failure(claimed: outbox.Claimed, outcome: Outcome, retry_at: datetime | None) -> None:
    """One log line per failed delivery."""
    if retry_at is None:
        logger.error(
            "delivery %d (%s -> %s) is dead after %d attempts: %s",
            claimed.id,
            claimed.channel,
            claimed.target,
            claimed.attempts,
            outcome.error,
        )
    else:
        logger.warning(
            "delivery %d (%s -> %s) failed, retry at %s: %s",
            claimed.id,
            claimed.channel,
            claimed.target,
            retry_at.isoformat(),
            outcome.error,
        )
