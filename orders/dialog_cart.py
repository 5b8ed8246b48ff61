"""Cart turns: remove, change quantity, read back, total, clear, and the context commands
("make that two", "add another one", "actually, with oat milk instead", "and no lid",
"remove the last thing")."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from catalog.match import match_option
from catalog.model import Amount
from catalog.options import read_options
from catalog.request import Intent, Item, OptionValue, Request
from catalog.segment import clean
from catalog.segment import words as split_words
from catalog.text import normalize
from orders.carts import (
    PricedLine,
    add_to_cart,
    clear_cart,
    remove_line,
    set_note,
    set_quantity,
)
from orders.dialog_answers import read_count, says
from orders.dialog_items import add_items, wanted_from
from orders.dialog_reply import Reply, ReplyKind, Turn
from orders.errors import OptionInvalid, ProductUnavailable, QuantityInvalid
from orders.pricing import MAX_QUANTITY, options_input

logger = logging.getLogger(__name__)

_SET_THAT = re.compile(
    r"\b(?:make|change|set|update|bump|increase|reduce|lower) (?:that|it|this|them|those)"
    r"(?: to| up to| down to)? (\w+)"
)
_MORE = re.compile(r"\b(\w+) more\b")
_CHANGE_WORDS = frozenset(
    [
        "actually",
        "instead",
        "with",
        "make",
        "it",
        "that",
        "this",
        "one",
        "the",
        "please",
        "can",
        "you",
        "change",
        "to",
        "rather",
        "no",
        "sorry",
        "i",
        "mean",
        "meant",
        "want",
        "wanted",
    ]
)
_REMOVE_WORDS = re.compile(r"\b(?:remove|delete|drop|cancel|take (?:off|out|away)|get rid of)\b")


@dataclass(frozen=True)
class _Said:
    """One turn's words as the context rules read them."""

    text: str
    request: Request
    resolved: list[Item]
    last: PricedLine | None


def context_reply(turn: Turn, request: Request) -> Reply | None:
    """Handle a turn that refers to the last line or the cart as a whole; else None."""
    text = normalize(request.text)
    if not text:
        return None
    resolved = [item for item in request.items if item.product_id is not None]
    said = _Said(text, request, resolved, turn.last_line())
    rules = (_bare_options, _request, _make_that, _another, _instead, _remove_last, _how_much)
    for rule in rules:
        reply = rule(turn, said)
        if reply is not None:
            return reply
    return None


def _bare_options(turn: Turn, said: _Said) -> Reply | None:
    """Options without a product change the last line: "make that a large", "make it oat
    milk", "change the size to small", "an extra shot"."""
    last = said.last
    bare = [i for i in said.request.items if i.product_id is None and i.options]
    if last is None or said.resolved or said.request.unmatched or not bare:
        return None
    changes = _option_changes(turn, said.request, last)
    return change_options(turn, last, changes) if changes else None


def _request(turn: Turn, said: _Said) -> Reply | None:
    """ "And no lid": a request said on its own is for the last line, or for the line of the
    item it names ("no bag for the muffin")."""
    return None if said.request.note is None else note_line(turn, said.request)


def note_line(turn: Turn, request: Request) -> Reply | None:
    """Add the turn's request to the line it names, else to the line the conversation touched
    last; None when the cart has no line."""
    named = request.note_for
    last = _line_for(turn, named) if named is not None else turn.last_line()
    if named is not None and last is None:
        return turn.reply(ReplyKind.NOT_IN_CART, phrase=named.spoken or named.product_id)
    if last is None or request.note is None:
        return None
    note = joined_note(last.note, request.note)
    view = set_note(
        turn.db, turn.customer_id, last.id, note, catalog=turn.catalog, clock=turn.clock
    )
    turn.cart = view
    line = next((x for x in view.lines if x.id == last.id), None) or next(
        (
            x
            for x in view.lines
            if x.product_id == last.product_id and x.options == last.options and x.note == note
        ),
        None,
    )
    if line is None:  # not expected: the line or the one it joined is in the cart
        return read_cart_reply(turn)
    turn.state.last_line = line.id
    return turn.reply(ReplyKind.REQUEST_NOTED, item=turn.words.line(turn.said(line)))


def joined_note(note: str | None, request: str) -> str:
    """A line's note with one more request ("no lid" + "no sleeve": "no lid, no sleeve")."""
    if note is None:
        return request
    return note if request in note.split(", ") else f"{note}, {request}"


def _make_that(turn: Turn, said: _Said) -> Reply | None:
    """ "Make that two." """
    found = _SET_THAT.search(said.text)
    if said.last is None or found is None or said.resolved:
        return None
    count = read_count(found.group(0))
    return None if count is None else change_quantity(turn, said.last, count)


def _another(turn: Turn, said: _Said) -> Reply | None:
    """ "Add another one", "two more"."""
    if said.last is None or said.resolved:
        return None
    more = _MORE.search(said.text)
    extra = read_count(more.group(1)) if more else None
    if extra is None and not says(said.text, turn.words.listed("another")):
        return None
    return change_quantity(turn, said.last, said.last.quantity + (extra or 1))


def _instead(turn: Turn, said: _Said) -> Reply | None:
    """ "Actually, a mocha instead" replaces the line; "with oat milk instead" changes it."""
    words = said.text.split()
    last = said.last
    if last is None or not (
        "instead" in words or words[0] == "with" or words[:2] == ["actually", "with"]
    ):
        return None
    other = next((i for i in said.resolved if i.product_id != last.product_id), None)
    if other is not None and "with" not in words:
        remove_line(turn.db, turn.customer_id, last.id, catalog=turn.catalog, clock=turn.clock)
        turn.cart = None
        wanted = wanted_from(turn, other)
        wanted.quantity = last.quantity
        return add_items(turn, [wanted]) or read_cart_reply(turn)
    changes = _option_changes(turn, said.request, last)
    if not changes:
        return None
    return change_options(turn, last, changes)


def _remove_last(turn: Turn, said: _Said) -> Reply | None:
    """ "Remove the last thing", "take that off" (a bare "cancel that" is a goodbye)."""
    if said.request.intent is Intent.CANCEL:
        return None
    removing = said.request.intent is Intent.REMOVE_ITEMS or _REMOVE_WORDS.search(said.text)
    if not removing or said.resolved or not says(said.text, turn.words.listed("last_thing")):
        return None
    return _remove(turn, said.last)


def _how_much(turn: Turn, said: _Said) -> Reply | None:
    """ "How much is that?" """
    if said.request.intent not in (Intent.UNKNOWN, Intent.READ_CART):
        return None
    return read_total(turn) if says(said.text, turn.words.listed("how_much")) else None


def _option_changes(turn: Turn, request: Request, line: PricedLine) -> dict[str, OptionValue]:
    product = turn.catalog.product(line.product_id)
    if product is None:
        return {}
    changes: dict[str, OptionValue] = {}
    offered = {g.id: g for g in turn.catalog.groups_of(product)}
    for item in request.items:
        changes.update({g: v for g, v in item.options.items() if g in offered})
    # Read again against the line, so "an extra shot" counts from the shots it has.
    current = {**product.defaults, **{o.group: o.choice for o in line.options}}
    changes.update(
        read_options(clean(split_words(request.text)), tuple(offered.values()), defaults=current)
    )
    if changes:
        return changes
    # Last resort, for words the parser could not place: a loose match per group. Only when
    # nothing was read above: "add a shot" must not also match the size "Short".
    words = " ".join(w for w in normalize(request.text).split() if w not in _CHANGE_WORDS)
    if words:
        for group in offered.values():
            choice = match_option(group, words)
            if choice is not None and group.id not in changes:
                changes[group.id] = OptionValue(choice.id)
    return changes


def change_options(turn: Turn, line: PricedLine, changes: dict[str, OptionValue]) -> Reply:
    """Re-add the line with some options replaced, then drop the old line."""
    options = options_input(
        [{"group": o.group, "choice": o.choice, "amount": o.amount.value} for o in line.options]
    )
    current = {(o.group, o.choice, o.amount) for o in line.options}
    if all((g, v.choice, v.amount) in current for g, v in changes.items()):
        turn.state.last_line = line.id
        return turn.reply(ReplyKind.OPTIONS_CHANGED, item=turn.words.line(turn.said(line)))
    for group, value in changes.items():
        options[group] = [value]
    try:
        view = add_to_cart(
            turn.db,
            turn.customer_id,
            catalog=turn.catalog,
            product_id=line.product_id,
            quantity=line.quantity,
            options=options,
            note=line.note,
            clock=turn.clock,
        )
    except (OptionInvalid, ProductUnavailable, QuantityInvalid) as error:
        logger.info("options of line %d not changed: %s", line.id, error.detail)
        return turn.reply(ReplyKind.ERROR, "error_generic", asks=True)
    view = remove_line(turn.db, turn.customer_id, line.id, catalog=turn.catalog, clock=turn.clock)
    new = _line_with(view.lines, line, changes)
    turn.cart = view
    if new is None:
        return read_cart_reply(turn)
    turn.state.last_line = new.id
    item = turn.words.line(turn.said(new, keep=changes.keys()))
    return turn.reply(ReplyKind.OPTIONS_CHANGED, item=item)


def _line_with(
    lines: tuple[PricedLine, ...], old: PricedLine, changes: dict[str, OptionValue]
) -> PricedLine | None:
    """The line that replaced `old`: its product and request, with the changed options."""
    wanted = {(g, v.choice) for g, v in changes.items() if v.amount is not Amount.NONE}
    for line in sorted(lines, key=lambda x: -x.id):
        chosen = {(o.group, o.choice) for o in line.options}
        same = line.product_id == old.product_id and line.note == old.note
        if same and line.id != old.id and wanted <= chosen:
            return line
    return None


def change_quantity(turn: Turn, line: PricedLine, quantity: int) -> Reply:
    """Set a line's quantity (0 removes it)."""
    if quantity > MAX_QUANTITY:
        return turn.reply(ReplyKind.ERROR, "too_many", high=MAX_QUANTITY)
    if quantity <= 0:
        return _remove(turn, line)
    view = set_quantity(
        turn.db, turn.customer_id, line.id, quantity, catalog=turn.catalog, clock=turn.clock
    )
    turn.cart = view
    turn.state.last_line = line.id
    updated = next((x for x in view.lines if x.id == line.id), line)
    return turn.reply(ReplyKind.QUANTITY_SET, item=turn.words.line(turn.said(updated)))


def _remove(turn: Turn, line: PricedLine | None) -> Reply:
    if line is None:
        return turn.reply(ReplyKind.CART_EMPTY, "nothing_to_change")
    view = remove_line(turn.db, turn.customer_id, line.id, catalog=turn.catalog, clock=turn.clock)
    turn.cart = view
    turn.state.last_line = None
    return turn.reply(ReplyKind.REMOVED, item=turn.words.line(turn.said(line)))


def _line_for(turn: Turn, item: Item) -> PricedLine | None:
    """The newest cart line of the item's product (or of one of its alternatives)."""
    lines = turn.current_cart().lines
    for product_id in (item.product_id, *item.alternatives):
        found = [line for line in lines if line.product_id == product_id]
        if found:
            return max(found, key=lambda line: line.id)
    return None


def remove_items(turn: Turn, request: Request) -> Reply:
    """Remove the named items; "remove it" removes the last line."""
    items = [item for item in request.items if item.product_id is not None]
    if not items:
        if request.unmatched:
            return turn.reply(ReplyKind.NOT_IN_CART, phrase=request.unmatched[0])
        return _remove(turn, turn.last_line())
    reply: Reply | None = None
    for item in items:
        line = _line_for(turn, item)
        step = (
            turn.reply(ReplyKind.NOT_IN_CART, phrase=item.spoken or item.product_id)
            if line is None
            else _remove(turn, line)
        )
        reply = step if reply is None else reply.then(step)
    assert reply is not None
    return reply


def set_item_quantity(turn: Turn, request: Request) -> Reply:
    """ "Make the latte three": the named line (or the last one) gets the new quantity."""
    count = read_count(request.text)
    item = next((i for i in request.items if i.product_id is not None), None)
    line = _line_for(turn, item) if item is not None else turn.last_line()
    if line is None:
        if item is not None:
            return turn.reply(ReplyKind.NOT_IN_CART, phrase=item.spoken or item.product_id)
        return turn.reply(ReplyKind.CART_EMPTY, "nothing_to_change")
    if count is None and item is not None:
        count = round(item.quantity)
    if count is None:
        return turn.reply(ReplyKind.REPROMPT, "reprompt", asks=True)
    return change_quantity(turn, line, count)


def read_cart_reply(turn: Turn) -> Reply:
    """ "You have 2 lattes and a croissant. That's 12 dollars and 40 cents with tax." """
    cart = turn.current_cart()
    if not cart.lines:
        return turn.reply(ReplyKind.CART_EMPTY)
    ok = [line for line in cart.lines if line.available]
    problems = [line for line in cart.lines if not line.available]
    items = turn.words.join([turn.words.line(turn.said(line)) for line in ok])
    return turn.reply(
        ReplyKind.CART,
        "cart_problem" if problems else "cart",
        items=items or turn.words.join([line.name for line in cart.lines]),
        count=cart.item_count,
        total=turn.money(cart.total),
        total_short=turn.money_short(cart.total),
        problems=" ".join(turn.words.phrase("problem", product=p.name) for p in problems),
    )


def read_total(turn: Turn) -> Reply:
    """ "That comes to 12 dollars and 40 cents with tax." """
    cart = turn.current_cart()
    if not cart.lines:
        return turn.reply(ReplyKind.CART_EMPTY)
    return turn.reply(
        ReplyKind.TOTAL, total=turn.money(cart.total), total_short=turn.money_short(cart.total)
    )


def clear(turn: Turn) -> Reply:
    """Empty the cart."""
    turn.cart = clear_cart(turn.db, turn.customer_id, catalog=turn.catalog, clock=turn.clock)
    turn.state.last_line = None
    return turn.reply(ReplyKind.CLEARED)
