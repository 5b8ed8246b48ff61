"""Checkout by voice: the summary, "shall I place it?", the optional PIN, and placing the order.

Only an explicit yes places the order (dialog_answers.explicit_yes); anything else keeps the
cart. The idempotency key is chosen when the summary is read and kept in the state, so a
retried "yes" (a worker that died after committing) finds the same order instead of a second.
"""

from __future__ import annotations

import logging
import uuid

from catalog.model import Store
from catalog.request import Intent, Request
from orders import tables
from orders.carts import choose_store
from orders.checkout import place_pickup_order
from orders.dialog_answers import explicit_yes, is_no, read_pin
from orders.dialog_pickup import (
    PickupPlan,
    ask_store,
    ask_time,
    chosen_store,
    note_pickup_words,
    plan,
    requested_at,
    store_from,
    time_from,
)
from orders.dialog_pin import MAX_ATTEMPTS, check_pin, pin_required
from orders.dialog_reply import Reply, ReplyKind, Turn, summarize_order
from orders.dialog_state import Pending, PendingKind
from orders.errors import (
    CartEmpty,
    IdempotencyConflict,
    PickupUnavailable,
    ProductUnavailable,
    StoreClosed,
)

logger = logging.getLogger(__name__)


def start_checkout(turn: Turn, request: Request | None = None) -> Reply:
    """Check the cart, settle store and time, and read the summary back with the question."""
    if request is not None:
        note_pickup_words(turn, request)
    cart = turn.current_cart()
    if not cart.lines:
        turn.state.pending = None
        return turn.reply(ReplyKind.CART_EMPTY, "checkout_empty")
    store = chosen_store(turn)
    if store is None:
        return ask_store(turn)
    if cart.store_id != store.id:
        turn.cart = choose_store(
            turn.db, turn.customer_id, store.id, catalog=turn.catalog, clock=turn.clock
        )
    problems = [line for line in turn.current_cart().lines if not line.available]
    if problems:
        turn.state.pending = None
        names = " ".join(turn.words.phrase("problem", product=p.name) for p in problems)
        return turn.reply(ReplyKind.ERROR, "checkout_problem", problems=names)
    planned = plan(turn, store)
    if isinstance(planned, Reply):
        return planned
    return _summary(turn, planned)


def _summary(turn: Turn, planned: PickupPlan) -> Reply:
    cart = turn.current_cart()
    turn.state.store_id = planned.store.id
    turn.state.checkout_key = uuid.uuid4().hex
    turn.state.pending = Pending(PendingKind.CONFIRM_ORDER)
    items = turn.words.join([turn.words.line(turn.said(line)) for line in cart.lines])
    asap = planned.requested_at is None
    when = turn.when(planned.store, planned.ready_at, estimate=asap)
    return turn.reply(
        ReplyKind.CONFIRM_ORDER,
        asks=True,
        items=items,
        total=turn.money(cart.total),
        total_short=turn.money_short(cart.total),
        store=turn.store_name(planned.store),
        when=when,
        when_short=turn.words.clock(turn.local(planned.store, planned.ready_at)),
    )


def answer_confirm(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The answer to "shall I place it?"; None when the turn is about something else."""
    if explicit_yes(request, turn.words):
        if pin_required(turn.db, turn.customer_id, turn.current_cart().total):
            turn.state.pending = Pending(PendingKind.PIN)
            return turn.reply(ReplyKind.ASK_PIN, asks=True)
        return place(turn)
    if is_no(request, turn.words):
        return _not_placed(turn)
    if request.store_query or request.time_query or _changes_pickup(turn, request):
        return start_checkout(turn, request)
    if request.intent in (Intent.CONFIRM, Intent.UNKNOWN, Intent.CHECKOUT) and not request.items:
        pending.tries += 1
        return turn.reply(ReplyKind.CONFIRM_ORDER, "confirm_order_again", asks=True)
    return None


def _changes_pickup(turn: Turn, request: Request) -> bool:
    """ "Make it the one on Harbor Avenue" or "at 9 instead" while the summary is pending."""
    if request.intent not in (Intent.UNKNOWN, Intent.ADD_ITEMS) or any(
        item.product_id for item in request.items
    ):
        return False
    store = store_from(turn, request.text)
    if store is not None:
        turn.state.store_id = store.id
        return True
    return time_from(turn, request.text)


def answer_store(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The answer to "which store?"."""
    store = store_from(turn, request.store_query or request.text)
    if store is None:
        return None
    turn.state.store_id = store.id
    return start_checkout(turn, request)


def answer_time(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The answer to "what time?"."""
    if not time_from(turn, request.time_query or request.text):
        return None
    turn.state.pending = None
    return start_checkout(turn)


def answer_pin(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The spoken PIN (never logged); three wrong ones end the checkout, keeping the cart."""
    if is_no(request, turn.words):
        return _not_placed(turn)
    pin = read_pin(request.text)
    if pin is None:
        return None
    if check_pin(turn.db, turn.customer_id, pin):
        turn.state.pin_failures = 0
        return place(turn)
    turn.state.pin_failures += 1
    logger.warning("wrong voice PIN for customer %d", turn.customer_id)
    if turn.state.pin_failures >= MAX_ATTEMPTS:
        turn.state.pin_failures = 0
        turn.state.pending = None
        return turn.reply(ReplyKind.NOT_PLACED, "pin_locked")
    return turn.reply(ReplyKind.PIN_WRONG, asks=True)


def _not_placed(turn: Turn) -> Reply:
    turn.state.pending = None
    turn.state.checkout_key = None
    return turn.reply(ReplyKind.NOT_PLACED)


def place(turn: Turn) -> Reply:
    """Place the pickup order with the key chosen at the summary; say when it will be ready."""
    store = chosen_store(turn)
    if store is None:
        return ask_store(turn)
    key = turn.state.checkout_key or uuid.uuid4().hex
    # The service raises these before it changes anything, so the turn's transaction goes on
    # (and saves the state) without a rollback.
    try:
        order, new = place_pickup_order(
            turn.db,
            turn.customer_id,
            catalog=turn.catalog,
            store_id=store.id,
            pickup_at=requested_at(turn),
            idempotency_key=key,
            confirmed=True,
            channel=turn.channel,
            clock=turn.clock,
        )
    except StoreClosed:
        turn.state.pickup_at = None
        reason = turn.words.phrase("closed_reason", store=turn.store_name(store))
        return ask_time(turn, reason=reason)
    except PickupUnavailable as error:
        logger.info("pickup refused at %s: %s", store.id, error.reason)
        turn.state.pending = None
        return turn.reply(ReplyKind.ERROR, "no_pickup", store=turn.store_name(store))
    except CartEmpty:
        turn.state.pending = None
        return turn.reply(ReplyKind.CART_EMPTY, "checkout_empty")
    except (ProductUnavailable, IdempotencyConflict):
        turn.cart = None
        return start_checkout(turn)
    logger.info("dialogue placed order %d (new: %s) in session %s", order.id, new, turn.session_id)
    return _placed(turn, store, order)


def _placed(turn: Turn, store: Store, order: tables.Order) -> Reply:
    """Forget the finished checkout and say the order number and ready time."""
    turn.state.pending = None
    turn.state.checkout_key = None
    turn.state.pickup_at = None
    turn.state.last_line = None
    turn.cart = None
    promised = order.promised_at or turn.now
    return turn.reply(
        ReplyKind.PLACED,
        end=True,
        cart=turn.current_cart(),
        order=summarize_order(order, store),
        order_id=order.id,
        store=turn.store_name(store),
        when=turn.when(store, promised),
        when_short=turn.words.clock(turn.local(store, promised)),
    )
