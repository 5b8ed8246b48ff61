"""Reorders read back before they go into the cart; order status; store hours and address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from catalog.model import Amount, Store
from catalog.request import ReorderTarget, Request
from orders import tables
from orders.carts import CartItem, add_items
from orders.dialog_answers import is_no, is_yes
from orders.dialog_items import find_line
from orders.dialog_pickup import chosen_store, store_from
from orders.dialog_reply import Reply, ReplyKind, Turn, said_options, summarize_order
from orders.dialog_state import Pending, PendingKind, Picked, Wanted
from orders.dialog_substitute import offer_question
from orders.dialog_words import LineWords
from orders.pricing import ChosenOption, options_input
from orders.queries import open_orders, order_history
from orders.reorders import bought_products, find_usual
from orders.tables import ACTIVE

HISTORY = 50
"""How many recent orders a "last time I had X" looks through."""
_NOT_COUNTED = (tables.OrderStatus.CANCELLED, tables.OrderStatus.REJECTED)


def start_reorder(turn: Turn, request: Request) -> Reply:
    """Find what to reorder and read it back: "Your usual was ... Shall I add that?"."""
    product_ids = [
        pid
        for item in request.items
        if item.product_id
        for pid in (item.product_id, *item.alternatives)
    ]
    if request.reorder is ReorderTarget.PRODUCT or product_ids:
        return _reorder_product(turn, product_ids)
    if request.reorder is ReorderTarget.USUAL:
        store = chosen_store(turn)
        zone = store.timezone if store is not None else "UTC"
        usual = find_usual(
            turn.db,
            turn.customer_id,
            store_id=store.id if store else None,
            timezone=zone,
            now=turn.now,
        )
        if usual is not None:
            return _read_back(turn, usual, usual.lines, turn.words.phrase("your_usual"))
        last = _last_order(turn)
        if last is None:
            return _nothing(turn, turn.words.phrase("your_usual_missing"))
        return _read_back(turn, last, last.lines, turn.words.phrase("no_usual_last"))
    last = _last_order(turn)
    if last is None:
        return _nothing(turn, turn.words.phrase("your_last_order_missing"))
    return _read_back(turn, last, last.lines, turn.words.phrase("your_last_order"))


def _last_order(turn: Turn) -> tables.Order | None:
    for order in order_history(turn.db, turn.customer_id, limit=HISTORY):
        if order.status not in _NOT_COUNTED:
            return order
    return None


def _reorder_product(turn: Turn, product_ids: Sequence[str]) -> Reply:
    bought = bought_products(turn.db, turn.customer_id)
    wanted = next((pid for pid in product_ids if pid in bought), None)
    name = _name(turn, product_ids[0]) if product_ids else ""
    if wanted is None:
        return _nothing(turn, turn.words.phrase("last_time_missing", product=name))
    for order in order_history(turn.db, turn.customer_id, limit=HISTORY):
        lines = [line for line in order.lines if line.product_id == wanted]
        if lines and order.status not in _NOT_COUNTED:
            what = turn.words.phrase("last_time", product=_name(turn, wanted))
            return _read_back(turn, order, lines[:1], what)
    return _nothing(turn, turn.words.phrase("last_time_missing", product=name))


def _name(turn: Turn, product_id: str) -> str:
    product = turn.catalog.product(product_id)
    return product.name if product is not None else product_id


def _nothing(turn: Turn, what: str) -> Reply:
    return turn.reply(ReplyKind.NOTHING_TO_REORDER, what=what)


def _read_back(
    turn: Turn, order: tables.Order, lines: Sequence[tables.OrderLine], what: str
) -> Reply:
    items = [
        Wanted(
            line.product_id,
            line.quantity,
            [Picked(o["group"], o["choice"], o.get("amount", "regular")) for o in line.options],
            note=line.note,
        )
        for line in lines
    ]
    turn.state.pending = Pending(PendingKind.CONFIRM_REORDER, items=items, store_id=order.store_id)
    said = [_said_order_line(turn, line) for line in lines]
    return turn.reply(
        ReplyKind.CONFIRM_REORDER,
        asks=True,
        what=what,
        items=turn.words.join([turn.words.line(w) for w in said]),
        items_short=", ".join(turn.words.line_short(w) for w in said),
    )


def _said_order_line(turn: Turn, line: tables.OrderLine) -> LineWords:
    options = [
        ChosenOption(
            str(o["group"]),
            str(o.get("group_name", o["group"])),
            str(o["choice"]),
            str(o.get("choice_name", o["choice"])),
            Amount(o.get("amount", "regular")),
            int(o.get("price_delta", 0)),
        )
        for o in line.options
    ]
    return said_options(
        turn.catalog,
        line.product_id,
        name=line.name,
        quantity=line.quantity,
        options=options,
        words=turn.words,
        note=line.note,
    )


def answer_reorder(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The answer to "Shall I add that?": yes puts the items in the cart."""
    if is_yes(request, turn.words):
        turn.state.pending = None
        items = [CartItem(w.product_id or "", w.quantity, _input(w), w.note) for w in pending.items]
        view, skipped = add_items(
            turn.db,
            turn.customer_id,
            items,
            catalog=turn.catalog,
            store_id=pending.store_id,
            clock=turn.clock,
        )
        turn.cart = view
        gone = {s.product_id for s in skipped}
        said = [
            LineWords(_name(turn, w.product_id or ""), w.quantity)
            if line is None
            else replace(turn.said(line), quantity=w.quantity)
            for w in pending.items
            if w.product_id not in gone
            for line in [find_line(view, w)]
        ]
        if view.lines:
            turn.state.last_line = max(line.id for line in view.lines)
        reply = turn.reply(
            ReplyKind.REORDERED,
            items=turn.words.join([turn.words.line(w) for w in said]),
            items_short=", ".join(turn.words.line_short(w) for w in said),
        )
        problems = [turn.words.phrase("problem", product=_name(turn, p)) for p in sorted(gone)]
        return replace(reply, speech=" ".join([reply.speech, *problems]))
    if is_no(request, turn.words):
        turn.state.pending = None
        return turn.reply(ReplyKind.SKIPPED, "reorder_skipped")
    return None


def _input(wanted: Wanted) -> dict[str, list[Any]]:
    return options_input(
        [{"group": p.group, "choice": p.choice, "amount": p.amount} for p in wanted.options]
    )


def order_status(turn: Turn) -> Reply:
    """ "Order 12 is being made. It should be ready at Main Street at 8:42 AM.", then the
    store's waiting substitution question, if there is one."""
    active = open_orders(turn.db, turn.customer_id)
    orders = active[-1:] or order_history(turn.db, turn.customer_id, limit=1)
    if not orders:
        return turn.reply(ReplyKind.NO_ORDERS)
    order = orders[-1]
    store = turn.catalog.store(order.store_id)
    when = ""
    if order.status in ACTIVE and order.promised_at is not None and store is not None:
        when = turn.words.phrase(
            "ready_at", store=turn.store_name(store), when=turn.when(store, order.promised_at)
        )
    status = turn.words.statuses.get(order.status.value, order.status.value)
    reply = turn.reply(
        ReplyKind.ORDER_STATUS,
        order=summarize_order(order, store),
        order_id=order.id,
        status=status,
        when=when,
    )
    question = offer_question(turn)
    return reply if question is None else reply.then(question)


def store_info(turn: Turn, request: Request) -> Reply:
    """Where the store is and today's hours."""
    store = store_from(turn, request.store_query) if request.store_query else None
    store = store or chosen_store(turn) or turn.catalog.stores[0]
    hours = _hours_today(turn, store)
    return turn.reply(
        ReplyKind.STORE_INFO,
        store=turn.store_name(store),
        address=store.address or store.name,
        hours=hours,
        hours_short=hours,
    )


def _hours_today(turn: Turn, store: Store) -> str:
    if store.hours.always_open:
        return turn.words.phrase("always_open")
    local = turn.local(store, turn.now)
    ranges = store.hours.ranges(local.weekday())
    if not ranges:
        return turn.words.phrase("closed_today")
    opening = local.replace(hour=ranges[0][0].hour, minute=ranges[0][0].minute)
    closing = local.replace(hour=ranges[-1][1].hour % 24, minute=ranges[-1][1].minute)
    return turn.words.phrase(
        "open_today", open=turn.words.clock(opening), close=turn.words.clock(closing)
    )
