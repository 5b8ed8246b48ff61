"""Putting spoken items in the cart: which product ("Bounty or Viva?"), missing options
("What size?"), unknown products ("Did you mean ...?"), and the answers to those questions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from catalog.match import AMBIGUITY_MARGIN, match_option
from catalog.model import Amount, Choice, OptionGroup, Product
from catalog.request import Item, OptionValue, Request
from orders.carts import CartView, PricedLine, add_to_cart, cart_store
from orders.dialog_answers import is_no, is_yes, pick_candidate, says, spoken_label
from orders.dialog_reply import Reply, ReplyKind, Turn
from orders.dialog_state import Pending, PendingKind, Picked, Wanted
from orders.dialog_tables import UnmatchedPhrase
from orders.dialog_words import LineWords
from orders.errors import OptionInvalid, ProductNotFound, ProductUnavailable, QuantityInvalid
from orders.pricing import MAX_QUANTITY

logger = logging.getLogger(__name__)

SUGGESTION_CUTOFF = 40.0
"""A weaker match than the parser accepts is still worth a "did you mean"."""
MAX_CANDIDATES = 3


def wanted_from(turn: Turn, item: Item) -> Wanted:
    """A parsed item as an item on its way into the cart (close candidates when ambiguous)."""
    options = [Picked(g, v.choice, v.amount.value) for g, v in item.options.items()]
    candidates: list[str] = []
    if item.ambiguous and item.product_id is not None:
        matches = turn.index.match(item.spoken or item.product_id, limit=MAX_CANDIDATES)
        top = matches[0].score if matches else 0.0
        candidates = [m.product_id for m in matches if top - m.score < AMBIGUITY_MARGIN]
        if item.product_id not in candidates:
            candidates = [item.product_id, *item.alternatives[:1]]
    quantity = max(1, round(item.quantity))
    return Wanted(item.product_id, quantity, options, candidates, item.spoken, item.note)


def add_items(turn: Turn, items: Sequence[Wanted]) -> Reply | None:
    """Add the items in order, stopping at the first that needs a question; None if none."""
    said: list[LineWords] = []
    defaults: list[str] = []
    for position, wanted in enumerate(items):
        queue = list(items[position + 1 :])
        question = _question(turn, wanted, queue)
        if question is not None:
            return _added_reply(turn, said, defaults).then(question) if said else question
        outcome = _add_one(turn, wanted)
        if isinstance(outcome, Reply):
            return _added_reply(turn, said, defaults).then(outcome) if said else outcome
        said.append(outcome[0])
        defaults.extend(outcome[1])
    return _added_reply(turn, said, defaults) if said else None


def _added_reply(turn: Turn, said: list[LineWords], defaults: list[str]) -> Reply:
    items = turn.words.join([turn.words.line(w) for w in said])
    short = ", ".join(turn.words.line_short(w) for w in said)
    key = "added_defaults" if defaults else "added"
    joined = turn.words.join(defaults)
    return turn.reply(ReplyKind.ADDED, key, items=items, items_short=short, defaults=joined)


def _question(turn: Turn, wanted: Wanted, queue: list[Wanted]) -> Reply | None:
    """Ask which product, or a missing required option, or None when the item is ready."""
    if len(wanted.candidates) >= 2:
        turn.state.pending = Pending(PendingKind.DISAMBIGUATE, item=wanted, queue=queue)
        return ask_which(turn, wanted, again=False)
    product = turn.catalog.product(wanted.product_id or "")
    if product is None:
        return None
    group = _missing_group(turn, product, wanted)
    if group is None:
        return None
    turn.state.pending = Pending(PendingKind.OPTION, item=wanted, group=group.id, queue=queue)
    return ask_option(turn, product, group, again=False)


def ask_which(turn: Turn, wanted: Wanted, *, again: bool) -> Reply:
    """ "Bounty or Viva?" over the pending candidates."""
    products = _products(turn, wanted.candidates)
    choices = turn.words.join(spoken_label(products), conjunction="or")
    key = "disambiguate_again" if again else "disambiguate"
    return turn.reply(ReplyKind.DISAMBIGUATE, key, asks=True, choices=choices)


def ask_option(turn: Turn, product: Product, group: OptionGroup, *, again: bool) -> Reply:
    """ "What size for the Drip Coffee? Small, medium or large." """
    names = [c.name for c in group.choices]
    key = "ask_option_again" if again else "ask_option"
    choices = turn.words.join(names, conjunction="or")
    return turn.reply(
        ReplyKind.ASK_OPTION,
        key,
        asks=True,
        group=group.name.lower(),
        product=product.name,
        choices=choices,
    )


def _missing_group(turn: Turn, product: Product, wanted: Wanted) -> OptionGroup | None:
    picked = {p.group for p in wanted.options}
    for group in turn.catalog.groups_of(product):
        if group.required and group.id not in picked and group.id not in product.defaults:
            return group
    return None


def _products(turn: Turn, ids: Sequence[str]) -> list[Product]:
    return [p for p in (turn.catalog.product(i) for i in ids) if p is not None]


def _options_input(wanted: Wanted) -> dict[str, list[OptionValue]]:
    grouped: dict[str, list[OptionValue]] = {}
    for picked in wanted.options:
        grouped.setdefault(picked.group, []).append(
            OptionValue(picked.choice, Amount(picked.amount))
        )
    return grouped


def _add_one(turn: Turn, wanted: Wanted) -> tuple[LineWords, list[str]] | Reply:
    """Add one ready item; the words said about it and the defaults to name, or an error reply."""
    product_id = wanted.product_id or ""
    try:
        view = _add_dropping_bad_options(turn, wanted)
    except ProductUnavailable:
        store = cart_store(turn.catalog, turn.current_cart().store_id)
        name = turn.catalog.product(product_id)
        return turn.reply(
            ReplyKind.UNAVAILABLE,
            product=name.name if name else product_id,
            store=turn.store_name(store) if store else "this store",
        )
    except QuantityInvalid:
        return turn.reply(ReplyKind.ERROR, "too_many", high=MAX_QUANTITY)
    except ProductNotFound:
        return turn.reply(ReplyKind.NOT_FOUND, phrase=wanted.spoken or product_id)
    line = find_line(view, wanted)
    turn.cart = view
    if line is None:
        return LineWords(product_id, wanted.quantity), []
    turn.state.last_line = line.id
    picked = {p.group for p in wanted.options}
    said = turn.said(line, keep=picked)
    defaults = [
        turn.words.option(o.choice_name, o.amount)
        for o in line.options
        if o.group not in picked and _is_required(turn, o.group)
    ]
    return replace(said, quantity=wanted.quantity), defaults


def _is_required(turn: Turn, group_id: str) -> bool:
    group = turn.catalog.group(group_id)
    return group is not None and group.required


def _add_dropping_bad_options(turn: Turn, wanted: Wanted) -> CartView:
    """Add to the cart; an option the product does not offer is dropped, not fatal."""
    for _ in range(len(wanted.options) + 1):
        try:
            return add_to_cart(
                turn.db,
                turn.customer_id,
                catalog=turn.catalog,
                product_id=wanted.product_id or "",
                quantity=wanted.quantity,
                options=_options_input(wanted),
                note=wanted.note,
                clock=turn.clock,
            )
        except OptionInvalid as error:
            kept = [p for p in wanted.options if p.group != error.group_id]
            if len(kept) == len(wanted.options):
                raise
            logger.info(
                "dropping option %s of %s: %s", error.group_id, error.product_id, error.reason
            )
            wanted.options = kept
    raise OptionInvalid(wanted.product_id or "", "", "could not be added with these options")


def find_line(view: CartView, wanted: Wanted) -> PricedLine | None:
    """The cart line of this product and request holding every picked option (newest first)."""
    picked = {(p.group, p.choice) for p in wanted.options}
    for line in reversed(view.lines):
        chosen = {(o.group, o.choice) for o in line.options}
        same = line.product_id == wanted.product_id and line.note == wanted.note
        if same and picked <= chosen:
            return line
    return None


def answer_which(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The answer to "Bounty or Viva?"; None when the turn does not answer it."""
    assert pending.item is not None
    candidates = _products(turn, pending.item.candidates)
    chosen = next(
        (p for item in request.items for p in candidates if p.id == item.product_id), None
    ) or pick_candidate(request.text, candidates, turn.words)
    if chosen is None:
        if is_no(request, turn.words):
            return _skip(turn, pending)
        return None
    pending.item.product_id = chosen.id
    pending.item.candidates = []
    turn.state.pending = None
    return add_items(turn, [pending.item, *pending.queue]) or _skip(turn, pending)


def answer_option(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The answer to "What size?"; None when the turn does not answer it."""
    assert pending.item is not None
    group = turn.catalog.group(pending.group or "")
    if group is None:
        turn.state.pending = None
        return add_items(turn, [pending.item, *pending.queue])
    choice = _choice_answer(turn, request, group)
    if choice is None:
        if is_no(request, turn.words):
            return _skip(turn, pending)
        return None
    pending.item.options.append(Picked(group.id, choice.id))
    turn.state.pending = None
    return add_items(turn, [pending.item, *pending.queue])


def _choice_answer(turn: Turn, request: Request, group: OptionGroup) -> Choice | None:
    for item in request.items:
        value = item.options.get(group.id)
        if value is not None and group.choice(value.choice) is not None:
            return group.choice(value.choice)
    for index, key in enumerate(("first", "second", "third")):
        if index < len(group.choices) and says(request.text, turn.words.ordinals.get(key, ())):
            return group.choices[index]
    return match_option(group, request.text)


def answer_suggestion(turn: Turn, request: Request, pending: Pending) -> Reply | None:
    """The answer to "Did you mean Y?"; None when the turn does not answer it."""
    assert pending.item is not None
    if is_yes(request, turn.words):
        turn.state.pending = None
        return add_items(turn, [pending.item, *pending.queue]) or _skip(turn, pending)
    if is_no(request, turn.words):
        return _skip(turn, pending)
    return None


def _skip(turn: Turn, pending: Pending) -> Reply:
    """Leave the item out and go on with the queued items."""
    turn.state.pending = None
    rest = add_items(turn, pending.queue) if pending.queue else None
    skipped = turn.reply(ReplyKind.SKIPPED)
    return skipped.then(rest) if rest is not None else skipped


def unmatched_reply(turn: Turn, request: Request) -> Reply | None:
    """ "Sorry, I couldn't find X. Did you mean Y?" for the first unmatched phrase; logs all."""
    if not request.unmatched:
        return None
    store = cart_store(turn.catalog, turn.current_cart().store_id)
    store_id = store.id if store is not None else None
    first: Reply | None = None
    for phrase in request.unmatched:
        matches = turn.index.match(
            phrase, limit=1, score_cutoff=SUGGESTION_CUTOFF, store_id=store_id
        )
        suggestion = turn.catalog.product(matches[0].product_id) if matches else None
        record_unmatched(turn, phrase, suggestion.id if suggestion else None, store_id)
        if first is not None:
            continue
        if suggestion is None:
            first = turn.reply(ReplyKind.NOT_FOUND, phrase=phrase)
            continue
        wanted = Wanted(suggestion.id, 1, spoken=phrase)
        turn.state.pending = Pending(PendingKind.SUGGESTION, item=wanted)
        first = turn.reply(
            ReplyKind.DID_YOU_MEAN, asks=True, phrase=phrase, suggestion=suggestion.name
        )
    return first


def record_unmatched(turn: Turn, phrase: str, suggestion: str | None, store_id: str | None) -> None:
    """Keep an unmatched phrase for the owner's report (committed with the turn)."""
    logger.info("unmatched phrase %r (suggested %s)", phrase, suggestion)
    turn.db.add(
        UnmatchedPhrase(
            phrase=phrase[:500],
            utterance=turn.text,
            suggestion=suggestion,
            customer_id=turn.customer_id,
            store_id=store_id,
            channel=turn.channel,
            session_id=turn.session_id,
            at=turn.now,
        )
    )
