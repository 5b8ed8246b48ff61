"""Out of stock, by voice: the store's substitution offer asked in the conversation, and answered.

Staff mark a line out of stock and offer substitutes (orders.substitutes). The shopper hears it
the next time they talk, whatever they came for ("Added a latte. Sorry, Main Street is out of
the Croissant for order 12. Would you like Blueberry Muffin instead? If not, I'll cancel the
order."), once per conversation, and again whenever they ask about their order. The answer is
a name, "the first one", "the cheaper one", a yes when one substitute is offered, or a no
or "cancel", which cancels the order, as the question says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from catalog.model import Product
from catalog.request import Intent, Request
from orders import tables
from orders.dialog_answers import is_yes, opens_with, pick_candidate, spoken_label
from orders.dialog_reply import OrderSummary, Reply, ReplyKind, Turn, summarize_order
from orders.dialog_state import Pending, PendingKind, Wanted
from orders.errors import OrderNotFound, SubstitutionNotFound
from orders.substitutes import accept_substitute, decline_substitute, waiting_offer

logger = logging.getLogger(__name__)


def offer_question(turn: Turn, *, once: bool = False) -> Reply | None:
    """Ask about the shopper's waiting substitution offer; None when there is none.

    With `once`, an offer already asked in this conversation is not asked again (the shopper
    went on to something else); asking about the order asks again.
    """
    offer = waiting_offer(turn.db, turn.customer_id)
    if offer is None or (once and turn.state.offer_asked == offer.id):
        return None
    found = turn.db.execute(
        select(tables.Order.store_id, tables.OrderLine.name)
        .join(tables.OrderLine, tables.OrderLine.order_id == tables.Order.id)
        .where(tables.Order.id == offer.order_id, tables.OrderLine.id == offer.line_id)
    ).first()
    if found is None:
        return None
    missing = Wanted(offer.product_id, candidates=list(offer.offered), spoken=found.name)
    turn.state.offer_asked = offer.id
    turn.state.pending = Pending(
        PendingKind.SUBSTITUTE, item=missing, store_id=found.store_id, order_id=offer.order_id
    )
    logger.info("asking customer %d about substitution %d", turn.customer_id, offer.id)
    return ask_substitute(turn, turn.state.pending, again=False)


def ask_substitute(turn: Turn, pending: Pending, *, again: bool) -> Reply:
    """ "Sorry, Main Street is out of the Croissant for order 12. Would you like ...?" """
    assert pending.item is not None
    store = turn.catalog.store(pending.store_id or "")
    products = _offered(turn, pending)
    return turn.reply(
        ReplyKind.SUBSTITUTE_OFFER,
        "substitute_offer_again" if again else "substitute_offer",
        asks=True,
        store=turn.store_name(store) if store is not None else "the store",
        missing=pending.item.spoken,
        order_id=pending.order_id,
        choices=turn.words.join(spoken_label(products), conjunction="or"),
    )


def answer_substitute(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """A substitute taken, or the order cancelled; None when the turn answers neither."""
    products = _offered(turn, pending)
    chosen = _named(request, products) or pick_candidate(request.text, products, turn.words)
    if chosen is None and len(products) == 1 and is_yes(request, turn.words):
        chosen = products[0]
    if chosen is None and not _declines(turn, request):
        return None
    turn.state.pending = None
    order_id = pending.order_id or 0
    try:
        if chosen is None:
            order = decline_substitute(turn.db, turn.customer_id, order_id, clock=turn.clock)
            return turn.reply(
                ReplyKind.SUBSTITUTE_DECLINED, order=_summary(turn, order), order_id=order.id
            )
        order = accept_substitute(
            turn.db,
            turn.customer_id,
            order_id,
            product_id=chosen.id,
            catalog=turn.catalog,
            clock=turn.clock,
        )
    except (SubstitutionNotFound, OrderNotFound):  # answered in the app, or by staff, meanwhile
        return turn.reply(ReplyKind.NOTHING_PENDING, "substitute_gone", order_id=order_id)
    assert pending.item is not None
    return turn.reply(
        ReplyKind.SUBSTITUTE_TAKEN,
        order=_summary(turn, order),
        order_id=order.id,
        chosen=chosen.name,
        missing=pending.item.spoken,
        total=turn.money(order.total),
        total_short=turn.money_short(order.total),
    )


def _summary(turn: Turn, order: tables.Order) -> OrderSummary:
    return summarize_order(order, turn.catalog.store(order.store_id))


def _offered(turn: Turn, pending: Pending) -> list[Product]:
    ids = pending.item.candidates if pending.item is not None else []
    return [p for p in (turn.catalog.product(i) for i in ids) if p is not None]


def _named(request: Request, products: Sequence[Product]) -> Product | None:
    """The offered product the parser found in the turn ("the blueberry muffin")."""
    for item in request.items:
        for product_id in (item.product_id, *item.alternatives):
            found = next((p for p in products if p.id == product_id), None)
            if found is not None:
                return found
    return None


def _declines(turn: Turn, request: Request) -> bool:
    """A no, or a cancel said in words. "Wait", "not yet", a bare stop, goodbye or never mind
    (and Alexa's Stop and Cancel, which carry no words) leave the offer waiting: a whole order
    is not cancelled on a word that may only mean "not now"."""
    return request.intent is Intent.DENY or opens_with(request.text, turn.words.listed("decline"))
