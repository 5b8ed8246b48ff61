"""Parse one utterance into a Request: intent, items with quantities, units and options.

The steps: words and pauses (segment.words), fillers and stutters out (segment.clean),
self-corrections cut apart (segment.split_corrections), the intent from cue words
(intents.detect), pickup details out (logistics.extract), then item phrases split on "and",
commas and "plus" where each side names a product, each read by items.ItemReader.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from catalog import intents, logistics
from catalog.items import (
    GLUE,
    LEAD_WORDS,
    OPTION_HEADS,
    ItemReader,
    Reading,
    catalog_words,
    is_doubled,
)
from catalog.match import ProductIndex
from catalog.model import Catalog
from catalog.numbers import NUMBER_WORDS, number_words, read_quantity
from catalog.option_counts import added_units
from catalog.option_phrases import AMOUNT_WORDS
from catalog.options import find_mentions
from catalog.request import Intent, Item, ReorderTarget, Request
from catalog.segment import (
    CORRECTION_CUES,
    CORRECTION_LEADS,
    FILLERS,
    PAUSE,
    POLITE,
    clean,
    split_corrections,
    words,
    wordset,
)
from catalog.spoken_requests import bare_request, cut_request

logger = logging.getLogger(__name__)

SEPARATORS = frozenset({PAUSE, "and", "plus", "also", "then"})
"""Words that may end one item and start the next."""
ITEM_INTENTS = frozenset(
    {Intent.ADD_ITEMS, Intent.REMOVE_ITEMS, Intent.SET_QUANTITY, Intent.REORDER}
)
REPLY_WORDS = frozenset({"yes", "yeah", "yep", "no", "nope", "ok", "okay", "sure", "alright"})
REORDER_WORDS = wordset(
    "my usual last previous order orders same time again the as before thing what i had got "
    "ordered bought that it please like yesterday week from all"
)
QUESTION_WORDS = frozenset(
    {"what", "whats", "who", "whos", "why", "when", "where", "wheres", "how", "hows", "which"}
)
"""Words that open a question, which is never an order by itself."""
_SET_LEAD = frozenset({"it", "that", "this", "them", "those"})
_INDEX_CACHE_SIZE = 8
_indexes: dict[int, tuple[Catalog, ProductIndex]] = {}


def index_for(catalog: Catalog) -> ProductIndex:
    """The product index of a catalog, built once per catalog object."""
    cached = _indexes.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    if len(_indexes) >= _INDEX_CACHE_SIZE:
        _indexes.pop(next(iter(_indexes)))
    index = ProductIndex.from_catalog(catalog)
    _indexes[id(catalog)] = (catalog, index)
    return index


def parse(
    text: str,
    catalog: Catalog,
    *,
    history: Mapping[str, int] | None = None,
    index: ProductIndex | None = None,
) -> Request:
    """The Request one utterance carries; unknown words never become a product."""
    reader = ItemReader(catalog, index or index_for(catalog), history=history)
    phrases = functools.partial(_option_phrases, reader)
    chunks = split_corrections(clean(words(text), phrases=phrases), numbers=NUMBER_WORDS)
    if not chunks:
        return Request(Intent.UNKNOWN, text=text)
    cue = _intent(chunks)
    bare = _bare_request(reader, chunks, cue, text)
    if bare is not None:
        return bare
    said = logistics.extract(cue.rest)
    request = Request(
        cue.intent,
        text=text,
        reorder=cue.reorder,
        fulfilment=said.fulfilment,
        time_query=said.time_query,
        store_query=said.store_query,
    )
    if cue.intent not in ITEM_INTENTS:
        return request
    readings = _readings(reader, list(said.rest), chunks[1:], cue.intent)
    explicit = cue.explicit or intents.strip_add_cues(said.rest) != list(said.rest)
    return _with_items(request, readings, explicit=explicit)


def _option_phrases(reader: ItemReader, tokens: Sequence[str]) -> dict[int, int]:
    """Where option phrases start and end, so "medium, medium roast" keeps both mediums."""
    return {m.start: m.end for m in find_mentions(tokens, reader.groups)}


def _intent(chunks: Sequence[Sequence[str]]) -> intents.Cue:
    """The first chunk's intent, unless a correction says something else ("never mind")."""
    first = intents.detect(chunks[0])
    for chunk in chunks[1:]:
        later = intents.detect(chunk)
        if later.explicit and later.intent is not Intent.ADD_ITEMS:
            return later
    return first


def _readings(
    reader: ItemReader, first: list[str], corrections: Sequence[Sequence[str]], intent: Intent
) -> list[Reading]:
    """Item readings of the first chunk, with each correction applied in turn."""
    readings = _read_content(reader, first, intent)
    for chunk in corrections:
        rest = list(logistics.extract(intents.strip_add_cues(chunk)).rest)
        readings = _correct(readings, _read_content(reader, rest, Intent.ADD_ITEMS))
    return readings


def _read_content(reader: ItemReader, tokens: list[str], intent: Intent) -> list[Reading]:
    """Readings of the words left after the cue, by intent."""
    tokens = _strip_replies(intents.strip_add_cues(added_units(tokens, reader.groups)))
    if intent is Intent.REORDER:
        tokens = [t for t in tokens if t not in REORDER_WORDS]
    if intent is Intent.SET_QUANTITY:
        return _read_set_quantity(reader, tokens)
    groups = _item_groups(reader, tokens)
    if intent is Intent.ADD_ITEMS:
        return [_read_with_request(reader, group) for group in groups]
    return [reader.read(group, guess=True) for group in groups]


def _read_with_request(reader: ItemReader, group: list[str]) -> Reading:
    """An item phrase whose trailing special request ("with no lid") becomes its note."""
    rest, note = cut_request(
        group,
        groups=reader.groups,
        product_words=catalog_words(reader.catalog),
        names_product=functools.partial(_names_product, reader),
    )
    if note is not None:
        reading = reader.read(rest, guess=True)
        if reading.item is not None and reading.item.product_id is not None:
            return replace(reading, item=replace(reading.item, note=note))
    return reader.read(group, guess=True)


def _bare_request(
    reader: ItemReader, chunks: Sequence[Sequence[str]], cue: intents.Cue, text: str
) -> Request | None:
    """A turn that says only a request ("and no lid", "no bag for the muffin"), else None."""
    if len(chunks) != 1 or cue.intent is not Intent.ADD_ITEMS or cue.explicit:
        return None
    bare = bare_request(
        cue.rest,
        groups=reader.groups,
        names_product=functools.partial(_names_product, reader),
    )
    if bare is None:
        return None
    target = reader.read(list(bare.target)).item if bare.target else None
    if bare.target and (target is None or target.product_id is None):
        return None
    return Request(Intent.ADD_ITEMS, text=text, note=bare.note, note_for=target)


def _names_product(reader: ItemReader, tokens: Sequence[str]) -> bool:
    """Whether the words surely name one product ("mocha"; not "lid", nor "bag" of many)."""
    item = reader.read(tokens).item
    return item is not None and item.product_id is not None and not item.ambiguous


def _strip_replies(tokens: list[str]) -> list[str]:
    """Drop a leading "yes," / "no," / "okay" before the items."""
    while tokens and (tokens[0] in REPLY_WORDS or tokens[0] == PAUSE):
        nxt = tokens[1] if len(tokens) > 1 else ""
        if tokens[0] in {"no", "nope"} and nxt not in {PAUSE, "a", "an", "the"}:
            break
        tokens = tokens[1:]
    return tokens


def _read_set_quantity(reader: ItemReader, tokens: list[str]) -> list[Reading]:
    """ "make it three", "change the oat milk to 3", "make the eggs two dozen"."""
    while tokens and (tokens[0] in _SET_LEAD or tokens[0] == PAUSE):
        tokens = tokens[1:]
    for start in range(len(tokens)):
        quantity = read_quantity(tokens, start)
        if quantity is None or quantity.end != len(tokens) or tokens[start] in {"a", "an"}:
            continue
        left = tokens[:start]
        while left and left[-1] in {"to", "at", PAUSE, *_SET_LEAD}:
            left = left[:-1]
        product = reader.read(left, guess=True) if left else Reading(None)
        item = product.item or Item(product_id=None, spoken=" ".join(left))
        item = replace(item, quantity=quantity.value, unit=quantity.unit or item.unit)
        return [Reading(item, unmatched=product.unmatched, counted=True)]
    return [reader.read(tokens)]


def _item_groups(reader: ItemReader, tokens: list[str]) -> list[list[str]]:
    """Split the words into one group per item: on "and", commas, "plus", "also"."""
    groups: list[list[str]] = []
    for sep, piece in _pieces(reader, tokens):
        if not groups:
            groups.append(piece)
            continue
        if not [t for t in piece if t not in GLUE] or _continues(reader, groups[-1], sep, piece):
            groups[-1] = [*groups[-1], sep, *piece]
        else:
            groups.append(piece)
    return [g for g in groups if any(t not in GLUE for t in g)]


def _pieces(reader: ItemReader, tokens: list[str]) -> list[tuple[str, list[str]]]:
    """(separator before, words) pieces; separators inside an option ("half and half") stay."""
    inside = {
        i for m in find_mentions(tokens, reader.groups) for i in range(m.start + 1, m.end - 1)
    }
    pieces: list[tuple[str, list[str]]] = [("", [])]
    for i, token in enumerate(tokens):
        if token in SEPARATORS and i not in inside and not is_doubled(tokens, i - 1):
            pieces.append((token, []))
        else:
            pieces[-1][1].append(token)
    return [(sep, piece) for sep, piece in pieces if piece]


def _continues(reader: ItemReader, group: list[str], sep: str, piece: list[str]) -> bool:
    """Whether piece belongs to the item before it (options, or a name with "and" in it)."""
    before = reader.read(group)
    if before.unmatched is None and (before.item is None or before.item.product_id is None):
        return True
    alone = reader.read(piece)
    if alone.item is not None and alone.item.product_id is None and alone.unmatched is None:
        return True
    if alone.counted and alone.item is not None and alone.item.product_id is not None:
        return False
    if reader.only_options(piece, None) or piece[0] in OPTION_HEADS:
        return True
    return sep == "and" and not alone.counted and _one_name(reader, group, piece, alone)


def _one_name(reader: ItemReader, group: list[str], piece: list[str], alone: Reading) -> bool:
    """Whether "X and Y" is one name ("salt and vinegar chips"): Y alone is no sure product."""
    if not alone.sure and piece[0] not in LEAD_WORDS:
        return True
    joined = reader.read([*group, "and", *piece])
    return (
        joined.item is not None
        and joined.item.product_id is not None
        and reader.names_all(joined.item.product_id, joined.said)
    )


def _correct(readings: list[Reading], fixes: list[Reading]) -> list[Reading]:
    """Apply a correction: a new product replaces the last item; bare options amend it."""
    if not fixes:
        return readings
    if not readings:
        return fixes
    last, first = readings[-1], fixes[0]
    named = first.unmatched is not None or (
        first.item is not None and first.item.product_id is not None
    )
    if named or last.item is None or first.item is None:
        fixed = first
        if first.item is not None and last.item is not None and not first.counted:
            fixed = replace(
                first,
                item=replace(first.item, quantity=last.item.quantity, unit=last.item.unit),
                counted=last.counted,
            )
        return [*readings[:-1], fixed, *fixes[1:]]
    amended = replace(last.item, options={**last.item.options, **first.item.options})
    if first.counted:
        unit = first.item.unit or last.item.unit
        amended = replace(amended, quantity=first.item.quantity, unit=unit)
    return [*readings[:-1], replace(last, item=amended), *fixes[1:]]


def _with_items(request: Request, readings: Sequence[Reading], *, explicit: bool) -> Request:
    """Fill in items and unmatched phrases; settle unknown and reorder targets."""
    items = tuple(r.item for r in readings if r.item is not None)
    unmatched = tuple(r.unmatched for r in readings if r.unmatched)
    if request.intent is Intent.REORDER:
        named = tuple(i for i in items if i.product_id is not None)
        if named:
            return replace(request, items=named, reorder=ReorderTarget.PRODUCT)
        return replace(request, unmatched=unmatched)
    if not explicit and not _looks_like_order(request.text, readings):
        return replace(request, intent=Intent.UNKNOWN)
    return replace(request, items=items, unmatched=unmatched)


def _looks_like_order(text: str, readings: Sequence[Reading]) -> bool:
    """Without a cue word: a question is no order; an order names a product surely, or counts.

    "what's the weather like" is not an order even when "weather" sounds like "water".
    """
    first = next((w for w in words(text) if w not in FILLERS and w != PAUSE), "")
    if first in QUESTION_WORDS:
        return False
    return any(r.sure or r.counted or r.mentions for r in readings)


def _command_words() -> frozenset[str]:
    """Every cue, amount, number and filler word the parser knows."""
    phrases = (*POLITE, *CORRECTION_CUES, *CORRECTION_LEADS)
    return (
        frozenset({"checkout", "reorder"})
        | intents.cue_words()
        | AMOUNT_WORDS
        | number_words()
        | FILLERS
        | REPLY_WORDS
        | frozenset(w for phrase in phrases for w in phrase)
    )


COMMAND_WORDS: frozenset[str] = _command_words()
"""Words the parser understands beyond the catalog, for speech-engine vocabularies."""
