"""A line's special request at the end of an item phrase: "a grande latte with no lid".

The catalog's options already read what they can say ("no whip", "without foam" where foam is
an option). A request they cannot say ("no lid", "without a sleeve") used to be dropped without
a word, or to spoil the product match ("latte lid"). It is cut off the end of the phrase when:

- it opens with a removal cue ("no", "with no", "without", "hold the", "skip the");
- the cue comes after a word of some product's name, so the request follows its item, and
  a "no" at the start ("no, a mocha") stays a reply or a correction;
- its words are few (at most MAX_REQUEST_WORDS), name no option and hold no number, and do
  not name a product surely: such words the parser reads as before ("a latte no two lattes",
  "a latte no mocha").

The rest of the phrase is read as before; the request becomes the line's note.

A request said in a turn of its own ("and no lid", "without ice please") is for the item just
ordered, or for the item it names ("no lid on the latte"): `bare_request` reads it, on the same
conditions, when the turn says nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from catalog.model import OptionGroup
from catalog.numbers import read_quantity
from catalog.options import find_mentions
from catalog.segment import PAUSE, wordset
from catalog.text import stem

REQUEST_CUES: tuple[tuple[str, ...], ...] = (
    ("leave", "out", "the"),
    ("with", "no"),
    ("without", "the"),
    ("without", "a"),
    ("without", "any"),
    ("hold", "the"),
    ("skip", "the"),
    ("without",),
    ("no",),
)
"""Words that open a request, longest first."""
MAX_REQUEST_WORDS = 4
"""At most this many words after the cue ("no lid", "without the cardboard sleeve")."""
_SAID_CUE: dict[tuple[str, ...], str] = {("with", "no"): "no"}
"""How a cue is written in the note ("with no lid" is "no lid")."""
BARE_LEADS = frozenset({"and", "also", "plus", "but", "oh", PAUSE})
"""Words that may open a request said on its own ("and no lid")."""
VAGUE_WORDS = wordset(
    "i im me my you it its that thats this those them one ones all more nothing else thing "
    "things good fine ok okay way problem problems worries idea sorry not now just need want "
    "do dont did didnt is was be the a an any yes yeah yep no nope sure alright wait stop"
)
"""Words that say no request: "no, that's all", "no more", "no I don't"."""
TARGET_CUES = frozenset({"on", "for", "in"})
"""Words after a request that name the item it is for ("no lid on the latte")."""
_TARGET_LEADS = frozenset({"the", "my", "that", "this", "a", "an", "it", "one", "them", "those"})
"""Words before the item's name, or all that names it ("no lid on it": the last item)."""


@dataclass(frozen=True)
class BareRequest:
    """A request said on its own, and the words naming its item (empty: the last one)."""

    note: str
    target: tuple[str, ...] = ()


def cut_request(
    tokens: Sequence[str],
    *,
    groups: Sequence[OptionGroup],
    product_words: Collection[str],
    names_product: Callable[[Sequence[str]], bool],
) -> tuple[list[str], str | None]:
    """The phrase without its trailing request, and the request as the line's note (or None).

    `product_words` are the stems of every word of the catalog's product names (see
    `catalog.items.catalog_words`); `names_product` says whether words surely name a product.
    """
    end = _end_before_pauses(tokens)
    for start in range(1, end):
        cue = _cue_at(tokens, start)
        if cue is None or not _after_product(tokens[:start], product_words):
            continue
        body = tokens[start + len(cue) : end]
        if _is_request(tokens, start, body, groups=groups, names_product=names_product):
            return list(tokens[:start]), _written(cue, body)
        return list(tokens), None
    return list(tokens), None


def bare_request(
    tokens: Sequence[str],
    *,
    groups: Sequence[OptionGroup],
    names_product: Callable[[Sequence[str]], bool],
) -> BareRequest | None:
    """The request a turn says on its own ("and no lid", "no bag for the muffin"), or None.

    The caller passes only turns whose intent is no explicit command ("no, cancel that" is
    a removal). At least one word after the cue must not be vague (VAGUE_WORDS), so "no,
    that's all" and "no more" stay what they were.
    """
    start = next((i for i, token in enumerate(tokens) if token not in BARE_LEADS), len(tokens))
    cue = _cue_at(tokens, start)
    if cue is None:
        return None
    body = list(tokens[start + len(cue) : _end_before_pauses(tokens)])
    split = next((i for i, word in enumerate(body) if word in TARGET_CUES and i > 0), None)
    target: tuple[str, ...] = ()
    if split is not None:
        body, after = body[:split], body[split + 1 :]
        target = tuple(word for word in after if word not in _TARGET_LEADS)
    if all(word in VAGUE_WORDS for word in body):
        return None
    said = tokens[: start + len(cue) + len(body)]
    if not _is_request(said, start, body, groups=groups, names_product=names_product):
        return None
    return BareRequest(_written(cue, body), target)


def _end_before_pauses(tokens: Sequence[str]) -> int:
    """Where the tokens end, trailing pauses left out."""
    end = len(tokens)
    while end and tokens[end - 1] == PAUSE:
        end -= 1
    return end


def _written(cue: tuple[str, ...], body: Sequence[str]) -> str:
    """The request as the note writes it."""
    return " ".join((_SAID_CUE.get(cue, " ".join(cue)), *body))


def _cue_at(tokens: Sequence[str], start: int) -> tuple[str, ...] | None:
    """The longest request cue at tokens[start], if one starts there."""
    for cue in REQUEST_CUES:
        if tuple(tokens[start : start + len(cue)]) == cue:
            return cue
    return None


def _after_product(before: Sequence[str], product_words: Collection[str]) -> bool:
    """Whether a word of some product's name comes before the cue."""
    return any(stem(token) in product_words for token in before if token != PAUSE)


def _is_request(
    tokens: Sequence[str],
    start: int,
    body: Sequence[str],
    *,
    groups: Sequence[OptionGroup],
    names_product: Callable[[Sequence[str]], bool],
) -> bool:
    """Whether the words after the cue are a request no option, number or product reads."""
    if not 0 < len(body) <= MAX_REQUEST_WORDS or PAUSE in body:
        return False
    if any(read_quantity(body, i) is not None for i in range(len(body))):
        return False
    if any(mention.end > start for mention in find_mentions(tokens, groups)):
        return False
    return not names_product(body)
