"""Alexa intents, slots and entity resolution -> our Request (what catalog.parse is for text).

Entity resolution (ER) gives catalog ids for PRODUCT, STORE, OPTION_* and the fixed types, so a
resolved slot needs no matching. A custom slot also carries words that are not in its value list
("grande oat latte with an extra shot"): when ER finds no match, the slot's words go through the
same parser as a typed utterance (catalog.parse), so Alexa and the in-app mic understand the same
phrase the same way. Each slot name has one reader (`reader_for`); the static test checks that
every slot of the generated model has one.

`Request.text` carries the words a shopper's answer is read from (the dialogue reads "the first
one", a PIN or "grande" from it); built-in intents (Yes, No, Stop...) carry no text, so that
their meaning comes from the intent alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from catalog.match import ProductIndex, match_option
from catalog.model import Amount, Catalog, OptionGroup
from catalog.parse import parse
from catalog.request import Intent, Item, OptionValue, ReorderTarget, Request
from skills.intents import STATIC_TYPES, intent_spec, option_slot_name

logger = logging.getLogger(__name__)

ER_MATCH = "ER_SUCCESS_MATCH"
CONFIRMED = "CONFIRMED"
DENIED = "DENIED"
OPTION_SLOT_PREFIX = "option_"
_ITEM_INTENTS = frozenset(
    {Intent.ADD_ITEMS, Intent.REMOVE_ITEMS, Intent.SET_QUANTITY, Intent.REORDER}
)
_VAGUE_TIMES = frozenset({"MO", "AF", "EV", "NI"})
"""AMAZON.TIME's morning/afternoon/evening/night: not a time a store can promise."""


@dataclass(frozen=True)
class Heard:
    """One filled slot: the words Alexa heard and the ids entity resolution matched, best first."""

    name: str
    value: str
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlexaIntent:
    """An IntentRequest's intent, read out of ask-sdk's model (only filled slots are kept)."""

    name: str
    slots: Mapping[str, Heard] = field(default_factory=dict)
    confirmation: str = "NONE"
    """The intent's confirmationStatus: NONE, CONFIRMED or DENIED (after Dialog.ConfirmIntent)."""


def read_intent(intent: Any) -> AlexaIntent:
    """The typed view of an ask_sdk_model Intent (untyped library objects stop here)."""
    slots: dict[str, Heard] = {}
    for name, slot in (getattr(intent, "slots", None) or {}).items():
        value = getattr(slot, "value", None)
        if isinstance(value, str) and value.strip():
            slots[name] = Heard(name, value.strip(), _resolved_ids(slot))
    status = getattr(intent, "confirmation_status", None)
    return AlexaIntent(
        name=str(getattr(intent, "name", "")),
        slots=slots,
        confirmation=str(getattr(status, "value", status or "NONE")),
    )


def _resolved_ids(slot: Any) -> tuple[str, ...]:
    """The value ids of the first authority that matched (custom or dynamic entities)."""
    resolutions = getattr(slot, "resolutions", None)
    for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
        code = getattr(getattr(authority, "status", None), "code", None)
        if str(getattr(code, "value", code)) != ER_MATCH:
            continue
        ids = [getattr(getattr(v, "value", None), "id", None) for v in authority.values or []]
        found = tuple(i for i in ids if isinstance(i, str) and i)
        if found:
            return found
    return ()


@dataclass
class Draft:
    """What the slot readers collected from one intent."""

    catalog: Catalog
    products: dict[int, Heard] = field(default_factory=dict)
    quantities: dict[int, int] = field(default_factory=dict)
    options: dict[str, Heard] = field(default_factory=dict)
    """Option slots by option group id."""
    amount: Heard | None = None
    time_query: str | None = None
    store_query: str | None = None
    fulfilment: str | None = None
    reorder: ReorderTarget | None = None
    pin: str | None = None
    request: str | None = None
    """A special request's words ("lid" of "and no lid")."""


Reader = Callable[[Draft, Heard], None]


def _product(position: int) -> Reader:
    def read(draft: Draft, heard: Heard) -> None:
        draft.products[position] = heard

    return read


def _quantity(position: int) -> Reader:
    def read(draft: Draft, heard: Heard) -> None:
        number = _number(heard.value)
        if number is not None and number > 0:
            draft.quantities[position] = number

    return read


def _number(value: str) -> int | None:
    """AMAZON.NUMBER's digits ("?" when Alexa heard a number it could not read)."""
    try:
        return int(float(value))
    except ValueError:
        return None


def _amount(draft: Draft, heard: Heard) -> None:
    draft.amount = heard


def _pickup_time(draft: Draft, heard: Heard) -> None:
    draft.time_query = time_words(heard.value)


def _store(draft: Draft, heard: Heard) -> None:
    store = next((s for i in heard.ids if (s := draft.catalog.store(i)) is not None), None)
    draft.store_query = store.name if store is not None else heard.value


def _fulfilment(draft: Draft, heard: Heard) -> None:
    wanted = _static_id("FULFILMENT", heard)
    draft.fulfilment = wanted


def _reorder(draft: Draft, heard: Heard) -> None:
    wanted = _static_id("REORDER_TARGET", heard)
    draft.reorder = ReorderTarget(wanted) if wanted is not None else None


def _pin(draft: Draft, heard: Heard) -> None:
    draft.pin = heard.value


def _request(draft: Draft, heard: Heard) -> None:
    draft.request = heard.value


def _option(draft: Draft, heard: Heard) -> None:
    group = option_groups(draft.catalog).get(heard.name)
    if group is not None:
        draft.options[group.id] = heard


READERS: dict[str, Reader] = {
    "product": _product(0),
    "product_two": _product(1),
    "quantity": _quantity(0),
    "quantity_two": _quantity(1),
    "amount": _amount,
    "pickup_time": _pickup_time,
    "store": _store,
    "fulfilment": _fulfilment,
    "reorder": _reorder,
    "pin": _pin,
    "request": _request,
}


def reader_for(slot_name: str) -> Reader | None:
    """The reader of a slot: one per fixed slot name, one for every option_<group> slot."""
    if slot_name in READERS:
        return READERS[slot_name]
    return _option if slot_name.startswith(OPTION_SLOT_PREFIX) else None


def option_groups(catalog: Catalog) -> dict[str, OptionGroup]:
    """The catalog's option groups by the name of the slot that carries them."""
    return {option_slot_name(g.id): g for g in catalog.option_groups.values()}


def _static_id(type_name: str, heard: Heard) -> str | None:
    """The id of a fixed-type value: from ER, else by its spoken name or synonyms."""
    values = STATIC_TYPES[type_name]
    ids = {str(v.id) for v in values}
    for found in heard.ids:
        if found in ids:
            return found
    said = heard.value.lower()
    for value in values:
        if said == value.name or said in value.synonyms:
            return str(value.id)
    return None


def time_words(value: str) -> str | None:
    """AMAZON.TIME ("08:30", "20:30", "MO") as the words the dialogue reads a pickup time from.

    Alexa gives a 24-hour time; hours 1 to 11 may have been said without am or pm, so they are
    passed on as "at 8:30" and the dialogue takes the next 8:30 to come, as it does for the
    in-app mic. Morning, afternoon and the like are not a time: None.
    """
    text = value.strip().upper()
    if text in _VAGUE_TIMES or ":" not in text:
        return None
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes[:2].isdigit()):
        return None
    hour, minute = int(hours), int(minutes[:2])
    if hour > 23 or minute > 59:
        return None
    return f"at {hour}:{minute:02d}"


def to_request(intent: AlexaIntent, *, catalog: Catalog, index: ProductIndex) -> Request:
    """The Request an Alexa intent carries."""
    if intent.confirmation == CONFIRMED:
        return Request(Intent.CONFIRM)
    if intent.confirmation == DENIED:
        return Request(Intent.DENY)
    spec = intent_spec(intent.name)
    if spec is None:
        logger.warning("intent %s is not in the interaction model", intent.name)
        return Request(Intent.UNKNOWN)
    draft = Draft(catalog)
    for heard in intent.slots.values():
        reader = reader_for(heard.name)
        if reader is None:
            logger.warning("slot %s.%s has no reader", intent.name, heard.name)
            continue
        reader(draft, heard)
    if draft.request is not None:
        # SpecialRequestIntent's carriers all say "no ..."; the words read as the mic's would
        # ("no lid" is the last item's request, "no whip" an option of the last line).
        return parse(f"no {draft.request}", catalog, index=index)
    items: tuple[Item, ...] = ()
    unmatched: tuple[str, ...] = ()
    if spec.intent in _ITEM_INTENTS:
        items, unmatched = _items(draft, index)
    return Request(
        intent=spec.intent,
        items=items,
        text=_text(spec.intent, intent, draft),
        reorder=_reorder_target(spec.intent, draft, items),
        unmatched=unmatched,
        store_query=draft.store_query,
        time_query=draft.time_query,
        fulfilment=draft.fulfilment,
    )


def _reorder_target(intent: Intent, draft: Draft, items: tuple[Item, ...]) -> ReorderTarget | None:
    """What a ReorderIntent refers to: "my usual", "my last order", or a product."""
    if intent is not Intent.REORDER:
        return None
    if draft.reorder is not None:
        return draft.reorder
    return ReorderTarget.PRODUCT if items else ReorderTarget.LAST


def _text(intent: Intent, alexa: AlexaIntent, draft: Draft) -> str:
    """The words the dialogue reads answers from (see the module docstring)."""
    if draft.pin is not None:
        return draft.pin
    if intent not in _ITEM_INTENTS:
        return ""
    words = [alexa.slots[name].value for name in _TEXT_ORDER if name in alexa.slots]
    words += [heard.value for heard in draft.options.values()]
    return " ".join(words)


_TEXT_ORDER = ("quantity", "product", "quantity_two", "product_two", "amount")


def _items(draft: Draft, index: ProductIndex) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """The items of the product slots (the option slots go with the first product)."""
    items: list[Item] = []
    unmatched: list[str] = []
    for position in sorted(draft.products):
        found, missing = _resolve(draft, position, index)
        items += found
        unmatched += missing
    if not draft.products:
        options = _options(draft)
        if options:
            # An answer to "what size?": options without a product.
            spoken = " ".join(h.value for h in draft.options.values())
            items.append(Item(None, options=options, spoken=spoken))
    return tuple(items), tuple(unmatched)


def _resolve(draft: Draft, position: int, index: ProductIndex) -> tuple[list[Item], list[str]]:
    """One product slot: by entity resolution, else (and for option words ER left unresolved)
    by parsing the slot's words as the in-app mic would."""
    heard = draft.products[position]
    catalog = draft.catalog
    quantity = draft.quantities.get(position)
    options = _options(draft) if position == 0 else {}
    ids = [i for i in heard.ids if catalog.product(i) is not None]
    found: list[Item] = []
    unmatched: list[str] = []
    if not ids or (position == 0 and _unresolved(draft)):
        parsed = parse(
            _phrase(draft, heard) if position == 0 else heard.value, catalog, index=index
        )
        found = [item for item in parsed.items if item.product_id is not None]
        unmatched = list(parsed.unmatched)
    if ids:
        said = next((i.options for i in found if i.product_id == ids[0]), {})
        item = Item(
            ids[0],
            quantity or 1,
            options={**said, **options},
            alternatives=tuple(ids[1:]),
            ambiguous=len(ids) > 1,
            spoken=heard.value,
        )
        return [item], []
    if not found:
        return [], unmatched or [heard.value]
    first = replace(
        found[0],
        quantity=quantity or found[0].quantity,
        options={**found[0].options, **options},
    )
    return [first, *found[1:]], unmatched


def _unresolved(draft: Draft) -> list[Heard]:
    """Option slots that neither ER nor the option matcher could map to a choice."""
    groups = option_groups(draft.catalog)
    return [h for h in draft.options.values() if _choice_id(groups[h.name], h) is None]


def _phrase(draft: Draft, heard: Heard) -> str:
    """The product's words with the unresolved option words (and the amount), for the parser."""
    extras = [h.value for h in _unresolved(draft)]
    if draft.amount is not None and extras:
        extras[-1] = f"{draft.amount.value} {extras[-1]}"
    return heard.value + (" with " + " and ".join(extras) if extras else "")


def _options(draft: Draft) -> dict[str, OptionValue]:
    """The option slots resolved to a choice; the amount goes on the option it belongs to
    (unless an unresolved option took it to the parser)."""
    groups = option_groups(draft.catalog)
    chosen: dict[str, OptionValue] = {}
    for heard in draft.options.values():
        group = groups[heard.name]
        choice = _choice_id(group, heard)
        if choice is not None:
            chosen[group.id] = OptionValue(choice)
    amount = _amount_of(draft)
    if amount is not None and chosen and not _unresolved(draft):
        target = _amount_target(draft.catalog, chosen)
        chosen[target] = OptionValue(chosen[target].choice, amount)
    return chosen


def _choice_id(group: OptionGroup, heard: Heard) -> str | None:
    for found in heard.ids:
        if group.choice(found) is not None:
            return found
    choice = match_option(group, heard.value)
    return choice.id if choice is not None else None


def _amount_of(draft: Draft) -> Amount | None:
    if draft.amount is None:
        return None
    wanted = _static_id("AMOUNT", draft.amount)
    return Amount(wanted) if wanted is not None else None


def _amount_target(catalog: Catalog, chosen: Mapping[str, OptionValue]) -> str:
    """The option an amount goes with: the (last) one whose group takes amounts."""
    takes = [g for g in chosen if (group := catalog.group(g)) is not None and group.amounts]
    return (takes or list(chosen))[-1]
