"""The dialogue's state per conversation: a small typed JSON document kept in dialog_sessions."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from orders.dialog_tables import DialogSession
from orders.tables import Channel

logger = logging.getLogger(__name__)

IDLE_TIMEOUT = timedelta(minutes=10)
"""A conversation idle this long starts over (the cart itself is kept)."""
STATE_VERSION = 1


class PendingKind(StrEnum):
    """The question the dialogue asked and is waiting to hear answered."""

    CONFIRM_ORDER = "confirm_order"
    PIN = "pin"
    DISAMBIGUATE = "disambiguate"
    OPTION = "option"
    PICKUP_STORE = "pickup_store"
    PICKUP_TIME = "pickup_time"
    CONFIRM_REORDER = "confirm_reorder"
    SUGGESTION = "suggestion"
    SUBSTITUTE = "substitute"


@dataclass
class Picked:
    """One chosen option of an item on its way into the cart."""

    group: str
    choice: str
    amount: str = "regular"


@dataclass
class Wanted:
    """An item on its way into the cart: maybe without a product yet, or missing an option."""

    product_id: str | None
    quantity: int = 1
    options: list[Picked] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    spoken: str = ""
    note: str | None = None
    """The shopper's special request for the line ("no lid")."""


@dataclass
class Pending:
    """An open question: its kind, the item it is about and the items still queued after it."""

    kind: PendingKind
    item: Wanted | None = None
    group: str | None = None
    queue: list[Wanted] = field(default_factory=list)
    items: list[Wanted] = field(default_factory=list)
    """The items read back for a reorder."""
    store_id: str | None = None
    """The store of the order a reorder copies, or of the order a substitution is for."""
    order_id: int | None = None
    """The order a substitution offer is for."""
    tries: int = 0


@dataclass
class DialogState:
    """Everything one conversation remembers between turns."""

    pending: Pending | None = None
    last_line: int | None = None
    """The cart line the last turn touched ("make that two", "remove the last thing")."""
    misses: int = 0
    """Consecutive turns without usable input (silence or not understood)."""
    store_id: str | None = None
    """The pickup store chosen in this conversation."""
    pickup_at: str | None = None
    """The requested pickup time as ISO text; None means as soon as possible."""
    checkout_key: str | None = None
    """The idempotency key of the checkout being confirmed, so a retried yes orders once."""
    pin_failures: int = 0
    offer_asked: int | None = None
    """The substitution offer this conversation has asked about (asked once unprompted)."""

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON-able document."""
        return {"version": STATE_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DialogState:
        """Read a stored document; a document from another version starts a fresh state."""
        if data.get("version") != STATE_VERSION:
            return cls()
        try:
            pending = data.get("pending")
            return cls(
                pending=None if pending is None else _pending(pending),
                last_line=data.get("last_line"),
                misses=int(data.get("misses", 0)),
                store_id=data.get("store_id"),
                pickup_at=data.get("pickup_at"),
                checkout_key=data.get("checkout_key"),
                pin_failures=int(data.get("pin_failures", 0)),
                offer_asked=data.get("offer_asked"),
            )
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("unreadable dialogue state, starting over: %s", error)
            return cls()


def _wanted(data: dict[str, Any]) -> Wanted:
    return Wanted(
        product_id=data["product_id"],
        quantity=int(data["quantity"]),
        options=[Picked(**option) for option in data["options"]],
        candidates=list(data["candidates"]),
        spoken=str(data["spoken"]),
        note=data.get("note"),
    )


def _pending(data: dict[str, Any]) -> Pending:
    item = data.get("item")
    return Pending(
        kind=PendingKind(data["kind"]),
        item=None if item is None else _wanted(item),
        group=data.get("group"),
        queue=[_wanted(w) for w in data.get("queue", [])],
        items=[_wanted(w) for w in data.get("items", [])],
        store_id=data.get("store_id"),
        order_id=data.get("order_id"),
        tries=int(data.get("tries", 0)),
    )


@dataclass
class Conversation:
    """A loaded session row with its state; `fresh` when it was created or had expired."""

    row: DialogSession
    state: DialogState
    fresh: bool


def open_conversation(
    db: Session, *, session_id: str, customer_id: int, channel: Channel, now: datetime
) -> Conversation:
    """Load (locking the row) or create the session; restart it after IDLE_TIMEOUT."""
    row = db.scalars(
        select(DialogSession).where(DialogSession.id == session_id).with_for_update()
    ).first()
    if row is None:
        row = DialogSession(
            id=session_id,
            customer_id=customer_id,
            channel=channel,
            state=DialogState().to_json(),
            turns=0,
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        return Conversation(row, DialogState(), fresh=True)
    if row.customer_id != customer_id:
        logger.warning("session %s reused by another customer: starting over", session_id)
        row.customer_id = customer_id
        return Conversation(row, DialogState(), fresh=True)
    if now - row.updated_at > IDLE_TIMEOUT:
        logger.info("session %s idle since %s: starting over", session_id, row.updated_at)
        return Conversation(row, DialogState(), fresh=True)
    return Conversation(row, DialogState.from_json(row.state), fresh=row.turns == 0)


def save_conversation(conversation: Conversation, *, now: datetime) -> None:
    """Write the state back into the session row (the caller commits)."""
    conversation.row.state = conversation.state.to_json()
    conversation.row.updated_at = now
    conversation.row.turns += 1


def purge_idle_sessions(db: Session, *, now: datetime, older_than: timedelta = IDLE_TIMEOUT) -> int:
    """Delete sessions idle longer than `older_than`; return how many (the caller commits)."""
    result = db.execute(delete(DialogSession).where(DialogSession.updated_at < now - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
