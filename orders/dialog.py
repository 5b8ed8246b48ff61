"""The dialogue: Request + the session's state -> Reply, the same for the in-app mic and Alexa.

A turn loads the conversation's state from the database (so any worker can take the next
turn), answers the open question if the turn answers it, otherwise acts on the intent over
the order service, then writes the state back and commits. The order service's use cases
commit their own changes as they go; the state is written by the turn's final commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from catalog.match import ProductIndex
from catalog.model import Catalog
from catalog.request import Intent, Request
from orders.db import begin_write
from orders.dialog_answers import explicit_yes, is_leaving
from orders.dialog_cart import (
    clear,
    context_reply,
    joined_note,
    note_line,
    read_cart_reply,
    remove_items,
    set_item_quantity,
)
from orders.dialog_checkout import (
    answer_confirm,
    answer_pin,
    answer_store,
    answer_time,
    start_checkout,
)
from orders.dialog_items import (
    add_items,
    answer_option,
    answer_suggestion,
    answer_which,
    ask_option,
    ask_which,
    unmatched_reply,
    wanted_from,
)
from orders.dialog_pickup import ask_store, ask_time, chosen_store, note_pickup_words
from orders.dialog_reorder import answer_reorder, order_status, start_reorder, store_info
from orders.dialog_reply import CartSummary, OrderSummary, Reply, ReplyKind, Turn
from orders.dialog_state import (
    DialogState,
    Pending,
    PendingKind,
    open_conversation,
    save_conversation,
)
from orders.dialog_substitute import answer_substitute, ask_substitute, offer_question
from orders.dialog_words import load_responses
from orders.errors import (
    CartEmpty,
    LineNotFound,
    QuantityInvalid,
    StoreNotFound,
    StoreRequired,
    VoiceCartError,
)
from orders.pricing import MAX_QUANTITY
from orders.tables import Channel

__all__ = ["CartSummary", "OrderSummary", "Reply", "ReplyKind", "handle_turn"]

logger = logging.getLogger(__name__)

MAX_MISSES = 2
"""Turns in a row without usable input before a graceful goodbye (one reprompt first)."""

Answer = Callable[[Turn, Request, Pending], Reply | None]
ANSWERS: dict[PendingKind, Answer] = {
    PendingKind.CONFIRM_ORDER: answer_confirm,
    PendingKind.PIN: answer_pin,
    PendingKind.DISAMBIGUATE: answer_which,
    PendingKind.OPTION: answer_option,
    PendingKind.PICKUP_STORE: answer_store,
    PendingKind.PICKUP_TIME: answer_time,
    PendingKind.CONFIRM_REORDER: answer_reorder,
    PendingKind.SUGGESTION: answer_suggestion,
    PendingKind.SUBSTITUTE: answer_substitute,
}
_NOT_NEW = frozenset({Intent.UNKNOWN, Intent.CONFIRM, Intent.DENY})


def handle_turn(
    request: Request | None,
    *,
    session_id: str,
    customer_id: int,
    channel: str,
    db: Session,
    catalog: Catalog,
    index: ProductIndex,
    clock: Callable[[], datetime],
    locale: str = "en",
) -> Reply:
    """Answer one turn (None = the shopper said nothing) and save the conversation's state."""
    now = clock()
    conversation = open_conversation(
        db, session_id=session_id, customer_id=customer_id, channel=Channel(channel), now=now
    )
    turn = Turn(
        db=db,
        customer_id=customer_id,
        channel=Channel(channel),
        catalog=catalog,
        index=index,
        clock=clock,
        words=load_responses(locale),
        state=conversation.state,
        session_id=session_id,
        now=now,
        text=request.text if request is not None else "",
    )
    try:
        reply = _with_offer(turn, _dispatch(turn, request))
    except VoiceCartError as error:
        logger.info("turn refused in session %s: %s", session_id, error.detail)
        reply = _error_reply(turn, error)
    if reply.end_session:
        conversation.state = DialogState()
    # A use case of this turn may have committed; write the state as a writer (orders/db.py).
    begin_write(db)
    save_conversation(conversation, now=now)
    db.commit()
    logger.debug(
        "session %s: %s -> %s", session_id, request.intent if request else None, reply.kind
    )
    return reply


def _dispatch(turn: Turn, request: Request | None) -> Reply:
    if request is None:
        return _miss(turn, silence=True)
    pending = turn.state.pending
    if pending is not None and _leaves(turn, request):
        return _handled(turn, _leave(turn, request, pending))
    if pending is not None:
        answered = _note_pending(turn, request, pending) or ANSWERS[pending.kind](
            turn, request, pending
        )
        if answered is not None:
            return _handled(turn, answered)
        if not _is_new_request(request):
            return _miss(turn, silence=False)
        logger.info("question %s left for a new request (%s)", pending.kind, request.intent)
        turn.state.pending = None
    reply = _handle(turn, request)
    return _miss(turn, silence=False) if reply is None else _handled(turn, reply)


def _with_offer(turn: Turn, reply: Reply) -> Reply:
    """The reply, then the store's waiting substitution question (once per conversation),
    unless the turn ends the conversation or asked a question of its own."""
    if reply.end_session or turn.state.pending is not None:
        return reply
    question = offer_question(turn, once=True)
    return reply if question is None else reply.then(question)


def _handled(turn: Turn, reply: Reply) -> Reply:
    turn.state.misses = 0
    return reply


def _leaves(turn: Turn, request: Request) -> bool:
    """Whether the shopper is done talking ("stop", "no, that's all"), and says no yes."""
    return is_leaving(request, turn.words) and not explicit_yes(request, turn.words)


def _leave(turn: Turn, request: Request, pending: Pending | None) -> Reply:
    """A goodbye that keeps the cart; a cancel still answers the open question first
    ("OK, I left it out", "OK, I haven't placed it"), as its no."""
    answered = None
    if pending is not None and request.intent is Intent.CANCEL:
        answered = ANSWERS[pending.kind](turn, request, pending)
    if answered is None:
        return turn.reply(ReplyKind.GOODBYE, end=True)
    if answered.end_session:
        return answered
    bye = turn.reply(ReplyKind.GOODBYE, "goodbye_short", end=True)
    return replace(answered.then(bye), kind=answered.kind)


def _note_pending(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """ "No lid" while asked which product or what size: the request goes with that item,
    and the question stands. At the order's summary it goes with the line it names or the last
    one, and the summary is read again."""
    if request.note is not None and pending.kind is PendingKind.CONFIRM_ORDER:
        noted = note_line(turn, request)
        return None if noted is None else noted.then(start_checkout(turn))
    item = pending.item
    if request.note is None or request.note_for is not None or item is None:
        return None
    question = _item_question(turn, pending, again=False)
    if question is not None:
        item.note = joined_note(item.note, request.note)
    return question


def _is_new_request(request: Request) -> bool:
    """Whether a turn that did not answer the question asks for something else instead."""
    if request.intent is Intent.ADD_ITEMS:
        named = any(item.product_id for item in request.items)
        return named or bool(request.unmatched) or request.note is not None
    return request.intent not in _NOT_NEW


def _handle(turn: Turn, request: Request) -> Reply | None:
    """Act on the request's intent; None when the turn is not understood."""
    note_pickup_words(turn, request)
    context = context_reply(turn, request)
    if context is not None:
        return context
    intent = request.intent
    if _leaves(turn, request) and (intent is not Intent.CHECKOUT or not turn.current_cart().lines):
        return _leave(turn, request, None)
    if intent is Intent.ADD_ITEMS or intent is Intent.UNKNOWN:
        return _add(turn, request)
    simple: dict[Intent, Callable[[], Reply]] = {
        Intent.REMOVE_ITEMS: lambda: remove_items(turn, request),
        Intent.SET_QUANTITY: lambda: set_item_quantity(turn, request),
        Intent.READ_CART: lambda: read_cart_reply(turn),
        Intent.CLEAR_CART: lambda: clear(turn),
        Intent.CHECKOUT: lambda: start_checkout(turn, request),
        Intent.REORDER: lambda: start_reorder(turn, request),
        Intent.ORDER_STATUS: lambda: order_status(turn),
        Intent.STORE_INFO: lambda: store_info(turn, request),
        Intent.CONFIRM: lambda: turn.reply(ReplyKind.NOTHING_PENDING, asks=True),
        Intent.DENY: lambda: turn.reply(ReplyKind.NOTHING_PENDING, asks=True),
        Intent.CANCEL: lambda: turn.reply(ReplyKind.GOODBYE, end=True),
        Intent.HELP: lambda: turn.reply(ReplyKind.HELP, asks=True),
    }
    return simple[intent]()


def _add(turn: Turn, request: Request) -> Reply | None:
    """Add the resolved items, then say what was not found (and log it for the owner)."""
    wanted = [wanted_from(turn, item) for item in request.items if item.product_id]
    added = add_items(turn, wanted) if wanted else None
    missing = None if turn.state.pending is not None else unmatched_reply(turn, request)
    if added is not None and missing is not None:
        return added.then(missing)
    if added is not None or missing is not None:
        return added or missing
    if request.store_query or request.time_query:
        return start_checkout(turn) if turn.current_cart().lines else None
    return None


def _miss(turn: Turn, *, silence: bool) -> Reply:
    """Silence or words not understood: reprompt (re-asking an open question), then goodbye."""
    turn.state.misses += 1
    if turn.state.misses >= MAX_MISSES:
        return turn.reply(ReplyKind.GOODBYE, "goodbye" if silence else "goodbye_unclear", end=True)
    pending = turn.state.pending
    if pending is not None:
        return _reask(turn, pending)
    return turn.reply(ReplyKind.REPROMPT, "reprompt_silence" if silence else "reprompt", asks=True)


def _reask(turn: Turn, pending: Pending) -> Reply:
    """The open question again, in its "sorry, ..." form."""
    pending.tries += 1
    question = _item_question(turn, pending, again=True)
    if question is not None:
        return question
    item = pending.item
    product = turn.catalog.product(item.product_id or "") if item is not None else None
    if pending.kind is PendingKind.SUGGESTION and product is not None:
        return turn.reply(
            ReplyKind.DID_YOU_MEAN, "did_you_mean_again", asks=True, suggestion=product.name
        )
    simple: dict[PendingKind, Callable[[], Reply]] = {
        PendingKind.PICKUP_STORE: lambda: ask_store(turn, again=True),
        PendingKind.PICKUP_TIME: lambda: ask_time(turn, again=True),
        PendingKind.PIN: lambda: turn.reply(ReplyKind.ASK_PIN, asks=True),
        PendingKind.CONFIRM_ORDER: lambda: turn.reply(
            ReplyKind.CONFIRM_ORDER, "confirm_order_again", asks=True
        ),
        PendingKind.CONFIRM_REORDER: lambda: turn.reply(
            ReplyKind.CONFIRM_REORDER, "confirm_reorder_again", asks=True
        ),
        PendingKind.SUBSTITUTE: lambda: ask_substitute(turn, pending, again=True),
    }
    ask = simple.get(pending.kind)
    if ask is None:
        turn.state.pending = None
        return turn.reply(ReplyKind.REPROMPT, "question_dropped", asks=True)
    return ask()


def _item_question(turn: Turn, pending: Pending, *, again: bool) -> Reply | None:
    """ "Blueberry or chocolate chip?" or "What size?" about the pending item; None when the
    open question is about no item's product or options."""
    item = pending.item
    product = turn.catalog.product(item.product_id or "") if item is not None else None
    group = turn.catalog.group(pending.group or "")
    if pending.kind is PendingKind.DISAMBIGUATE and item is not None:
        return ask_which(turn, item, again=again)
    if pending.kind is PendingKind.OPTION and product is not None and group is not None:
        return ask_option(turn, product, group, again=again)
    return None


def _error_reply(turn: Turn, error: VoiceCartError) -> Reply:
    """A refusal from the order service, as something the shopper can act on."""
    if isinstance(error, StoreNotFound | StoreRequired) and chosen_store(turn) is None:
        return ask_store(turn)
    if isinstance(error, QuantityInvalid):
        return turn.reply(ReplyKind.ERROR, "too_many", high=MAX_QUANTITY)
    if isinstance(error, CartEmpty):
        return turn.reply(ReplyKind.CART_EMPTY, "checkout_empty")
    if isinstance(error, LineNotFound):
        turn.state.last_line = None
        return turn.reply(ReplyKind.ERROR, "nothing_to_change")
    turn.state.pending = None
    return turn.reply(ReplyKind.ERROR, "error_generic", asks=True)
