"""N-best rescoring against the catalog: pick the hypothesis the catalog's grammar explains.

Each hypothesis of the engine's n-best list is parsed. Its score is the engine's log share of
belief minus a penalty for what the parse could not place: words that are neither catalog
words nor words the parser knows, product phrases that matched nothing, items without a product
and products matched only as a guess. Everything here comes from the loaded catalog and the
parser's word lists; nothing is tuned to any recording.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from catalog.match import ProductIndex
from catalog.model import Catalog
from catalog.parse import COMMAND_WORDS, parse
from catalog.request import Intent, Request
from catalog.segment import PAUSE, words

UNKNOWN_WORD = 1.0
"""Penalty (in log-share units) per word that neither the catalog nor the parser knows."""
UNMATCHED_PHRASE = 2.0
"""Penalty per product phrase that matched no product."""
NO_PRODUCT = 2.0
"""Penalty per item that has options or a quantity but no product."""
GUESSED_PRODUCT = 1.0
"""Penalty per item whose product was matched only as a guess (ambiguous)."""
NOTHING_UNDERSTOOD = 2.0
"""Penalty for a hypothesis that carries no intent the parser knows (Intent.UNKNOWN)."""
MIN_SHARE = 1e-6
_CACHE_SIZE = 8
_KNOWN: dict[int, tuple[Catalog, frozenset[str]]] = {}


@dataclass(frozen=True)
class Choice:
    """The chosen hypothesis, its Request and its rescored score."""

    request: Request
    text: str
    score: float


def choose(
    hypotheses: Sequence[tuple[str, float]],
    catalog: Catalog,
    *,
    index: ProductIndex | None = None,
    history: Mapping[str, int] | None = None,
) -> Choice:
    """The best (text, share) hypothesis after rescoring; the first wins ties."""
    if not hypotheses:
        raise ValueError("no hypotheses to choose from")
    best: Choice | None = None
    for text, share in merged(hypotheses):
        request = parse(text, catalog, history=history, index=index)
        score = math.log(max(share, MIN_SHARE)) - penalty(request, catalog)
        if best is None or score > best.score:
            best = Choice(request, text, score)
    assert best is not None
    return best


def merged(hypotheses: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Hypotheses that differ only in case or punctuation marks, as one with their shares
    summed (the parser reads them alike); the first one's text stands for them."""
    shares: dict[tuple[str, ...], tuple[str, float]] = {}
    for text, share in hypotheses:
        key = tuple(words(text))
        first, total = shares.get(key, (text, 0.0))
        shares[key] = (first, total + share)
    return list(shares.values())


def penalty(request: Request, catalog: Catalog) -> float:
    """How much of a parse the catalog's grammar could not place (0 for a clean parse)."""
    known = known_words(catalog)
    unknown = sum(1 for w in words(request.text) if w != PAUSE and w not in known)
    missing = sum(1 for item in request.items if item.product_id is None)
    guessed = sum(1 for item in request.items if item.product_id is not None and item.ambiguous)
    return (
        NOTHING_UNDERSTOOD * (request.intent is Intent.UNKNOWN)
        + UNKNOWN_WORD * unknown
        + UNMATCHED_PHRASE * len(request.unmatched)
        + NO_PRODUCT * missing
        + GUESSED_PRODUCT * guessed
    )


def known_words(catalog: Catalog) -> frozenset[str]:
    """Every word of the catalog's names, aliases and choices, plus the parser's own words."""
    cached = _KNOWN.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        if len(_KNOWN) >= _CACHE_SIZE:
            _KNOWN.pop(next(iter(_KNOWN)))
        cached = (catalog, _catalog_words(catalog) | COMMAND_WORDS)
        _KNOWN[id(catalog)] = cached
    return cached[1]


def _catalog_words(catalog: Catalog) -> frozenset[str]:
    texts: list[str] = []
    for product in catalog.products.values():
        texts += [product.name, product.brand, product.category, *product.aliases]
    for group in catalog.option_groups.values():
        texts.append(group.name)
        for choice in group.choices:
            texts += [choice.name, *choice.aliases]
    return frozenset(w for text in texts for w in words(text) if w != PAUSE)
