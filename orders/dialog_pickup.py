"""Pickup details in the dialogue: which store (the home store by default) and what time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from catalog.model import Store
from catalog.request import Request
from orders.dialog_answers import parse_pickup_time, pick_store
from orders.dialog_reply import Reply, ReplyKind, Turn
from orders.dialog_state import Pending, PendingKind
from orders.errors import PickupUnavailable, StoreClosed
from orders.pickup import check_pickup, estimate_ready, is_open, prep_minutes


@dataclass(frozen=True)
class PickupPlan:
    """Where and when: the store, the requested time (None = asap) and the estimate."""

    store: Store
    requested_at: datetime | None
    ready_at: datetime


def pickup_stores(turn: Turn) -> list[Store]:
    """The catalog's stores that take pickup orders."""
    return [store for store in turn.catalog.stores if store.pickup]


def note_pickup_words(turn: Turn, request: Request) -> None:
    """Remember a store or time said along the way ("... for pickup at 8:30 on Main Street")."""
    if request.store_query:
        store = store_from(turn, request.store_query)
        if store is not None:
            turn.state.store_id = store.id
    if request.time_query:
        time_from(turn, request.time_query)


def store_from(turn: Turn, text: str) -> Store | None:
    """The pickup store the words name, if any."""
    cart_store = turn.catalog.store(turn.current_cart().store_id or "")
    home = cart_store if cart_store is not None and cart_store.pickup else None
    return pick_store(text, pickup_stores(turn), home=home, words=turn.words)


def time_from(turn: Turn, text: str) -> bool:
    """Read a pickup time into the state; False when the words hold no time."""
    stores = pickup_stores(turn)
    store = chosen_store(turn) or (stores[0] if stores else None)
    if store is None:
        return False
    found = parse_pickup_time(text, now=turn.local(store, turn.now), words=turn.words)
    if found is None:
        return False
    turn.state.pickup_at = found.at.isoformat() if found.at is not None else None
    return True


def chosen_store(turn: Turn) -> Store | None:
    """The store chosen in this conversation, else the cart's (home) store if it does pickup,
    else the only pickup store; None when the shopper must choose."""
    for store_id in (turn.state.store_id, turn.current_cart().store_id):
        store = turn.catalog.store(store_id or "")
        if store is not None and store.pickup:
            return store
    stores = pickup_stores(turn)
    return stores[0] if len(stores) == 1 else None


def ask_store(turn: Turn, *, again: bool = False) -> Reply:
    """ "Which store would you like to pick it up from: Main Street or Harbor Avenue?" """
    turn.state.pending = Pending(PendingKind.PICKUP_STORE, tries=1 if again else 0)
    names = [turn.store_name(store) for store in pickup_stores(turn)]
    stores = turn.words.join(names, conjunction="or")
    key = "ask_store_again" if again else "ask_store"
    return turn.reply(ReplyKind.ASK_STORE, key, asks=True, stores=stores)


def ask_time(turn: Turn, *, reason: str = "", again: bool = False) -> Reply:
    """ "What time would you like to pick it up?" (after why the last time did not work)."""
    turn.state.pending = Pending(PendingKind.PICKUP_TIME, tries=1 if again else 0)
    key = "ask_time_again" if again else "ask_time"
    return turn.reply(ReplyKind.ASK_TIME, key, asks=True, reason=reason)


def requested_at(turn: Turn) -> datetime | None:
    """The pickup time asked for in this conversation (None: as soon as possible)."""
    return datetime.fromisoformat(turn.state.pickup_at) if turn.state.pickup_at else None


def plan(turn: Turn, store: Store) -> PickupPlan | Reply:
    """Check the store takes the pickup then and estimate the ready time; else ask again."""
    at = requested_at(turn)
    lines = [
        (product, line.quantity)
        for line in turn.current_cart().lines
        if (product := turn.catalog.product(line.product_id)) is not None
    ]
    try:
        check_pickup(store, requested_at=at, now=turn.now)
        estimate = estimate_ready(
            turn.db,
            store,
            own_minutes=prep_minutes(turn.catalog, lines),
            requested_at=at,
            now=turn.now,
        )
        if not is_open(store, estimate.ready_at):
            raise StoreClosed(store.id, estimate.ready_at.isoformat())
    except StoreClosed:
        turn.state.pickup_at = None
        reason = turn.words.phrase("closed_reason", store=turn.store_name(store))
        return ask_time(turn, reason=reason)
    except PickupUnavailable:
        if not store.pickup:
            turn.state.store_id = None
            return ask_store(turn)
        turn.state.pickup_at = None
        return ask_time(turn, reason=turn.words.phrase("past_reason"))
    return PickupPlan(store, at, estimate.ready_at)
