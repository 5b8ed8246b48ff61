"""One item phrase ("two large oat milk lattes, no foam") -> quantity, product and options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from catalog.match import Match, ProductIndex, is_ambiguous
from catalog.model import Amount, Catalog, OptionGroup
from catalog.numbers import ARTICLES, Quantity, read_quantity
from catalog.option_phrases import canon, phrase_table
from catalog.options import Mention, assign, find_mentions
from catalog.request import Item
from catalog.segment import PAUSE
from catalog.segment import words as split_words
from catalog.text import FILLER_WORDS, STOP_WORDS, match_tokens, stem

GLUE = frozenset(
    {PAUSE, "with", "and", "plus", "also", "then", "just", "of", "a", "an", "the", "some", "or"}
)
"""Words between items and options that carry no product meaning."""
OPTION_HEADS = frozenset({"no", "without", "extra", "less", "hold", "skip", "minus"})
"""Words that start an option ("no foam"), never a product."""
SURE_SCORE = 80.0
"""Below this matcher score a product is a guess: the item is marked ambiguous so it is asked."""
WEAK_WORDS = frozenset(stem(w) for w in FILLER_WORDS | STOP_WORDS)
"""Matcher keys that say nothing about which product."""
LEAD_WORDS = frozenset({"the", "some", "my", "more", "another", "of", "those", "that"})
MAX_VERB_WORDS = 3
"""At most this many unknown words before an item phrase are read as a misheard opener."""
_NO_QUANTITY_AFTER = frozenset({"percent", "%", "x"})


@dataclass(frozen=True)
class Reading:
    """What one item phrase says; `item` is None when it names no product and no option."""

    item: Item | None
    unmatched: str | None = None
    counted: bool = False
    mentions: tuple[Mention, ...] = field(default=())
    said: str = ""
    """The product words that were matched."""
    score: float = 0.0
    """The matcher's score for the product (0 without one)."""

    @property
    def sure(self) -> bool:
        """Whether the product was matched with confidence."""
        return self.score >= SURE_SCORE


class ItemReader:
    """Reads item phrases against one catalog, index and purchase history."""

    def __init__(
        self, catalog: Catalog, index: ProductIndex, *, history: Mapping[str, int] | None = None
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.history = history
        self.groups = tuple(catalog.option_groups.values())
        self._cache: dict[tuple[str, ...], Reading] = {}

    def read(self, tokens: Sequence[str], *, guess: bool = False) -> Reading:
        """The reading of one item phrase (cached: segmentation asks more than once).

        With `guess`, a phrase that names no product as said may still name one once the
        words the catalog lacks are left out; such an item is marked ambiguous, to be asked.
        """
        key = tuple(tokens)
        if key not in self._cache:
            self._cache[key] = self._read(key)
        reading = self._cache[key]
        if guess and reading.unmatched is not None:
            return self._guess(key) or reading
        return reading

    def match(self, text: str) -> list[Match]:
        """The matcher's candidates for a product phrase; [] for no content."""
        if not match_tokens(text, spoken=True):
            return []
        return self.index.match(text, history=self.history)

    def groups_for(self, product_id: str | None) -> tuple[OptionGroup, ...]:
        """The groups a product offers; every group when there is no product yet."""
        product = self.catalog.product(product_id) if product_id else None
        return self.groups if product is None else self.catalog.groups_of(product)

    def only_options(self, tokens: Sequence[str], product_id: str | None) -> bool:
        """Whether a phrase holds nothing but options of this product ("and lots of sugar")."""
        mentions = find_mentions(tokens, self.groups_for(product_id))
        covered = _covered(mentions)
        rest = [t for i, t in enumerate(tokens) if i not in covered and t not in GLUE]
        return bool(mentions) and not rest

    def _read(self, tokens: tuple[str, ...]) -> Reading:
        """The phrase's reading; words before it that the catalog lacks may be a verb.

        Speech-to-text writes an opener it did not catch as some word ("brew a small latte",
        "may have a large, mocha", "I won an 8 oz coffee"). When the whole phrase names no
        product, words the catalog does not know, before an article, a number or an option,
        are dropped if what follows reads cleanly (a product, or options alone).
        """
        reading = self._read_body(tokens)
        if reading.unmatched is None:
            return reading
        head = self._verb_head(tokens)
        if not head:
            return reading
        rest = self._read_body(tokens[head:])
        return reading if rest.unmatched is not None or rest.item is None else rest

    def _verb_head(self, tokens: Sequence[str]) -> int:
        """Where an anchor (article, number, option) follows 1-3 words the catalog lacks; or 0."""
        known = catalog_words(self.catalog)
        starts = {m.start for m in find_mentions(tokens, self.groups)}
        head = 0
        for i, token in enumerate(tokens):
            anchor = token in ARTICLES or read_quantity(tokens, i) is not None or i in starts
            if anchor:
                return i if 0 < head <= MAX_VERB_WORDS else 0
            if token in GLUE or token in OPTION_HEADS:
                continue
            if stem(token) in known:
                return 0
            head += 1
        return 0

    def _read_body(self, tokens: Sequence[str]) -> Reading:
        """Quantity first, then options and product words, then the product."""
        mentions, quantity, words = self._parts(tokens)
        found = self._product(tokens, words, mentions)
        if found is None:
            return self._without_product(tokens, words, mentions, quantity)
        return self._with_product(tokens, found, mentions, quantity, guessed=False)

    def _parts(self, tokens: Sequence[str]) -> tuple[list[Mention], Quantity | None, list[int]]:
        """The option mentions after the quantity, the quantity, and the product words."""
        start = 0
        while start < len(tokens) and tokens[start] in LEAD_WORDS | {PAUSE}:
            start += 1
        mentions = find_mentions(tokens, self.groups)
        quantity = _quantity(tokens, start, mentions)
        body_start = quantity.end if quantity else start
        mentions = [m for m in mentions if m.start >= body_start]
        words = _product_words(tokens, body_start, mentions, self.groups_nouns())
        if all(t in WEAK_WORDS for t in match_tokens(_text(tokens, words), spoken=True)):
            words = []
        return mentions, quantity, words

    def _guess(self, tokens: Sequence[str]) -> Reading | None:
        """The product once words the catalog's product names lack are left out ("nice
        mocha", "latte with a lot of skin"), when the rest names one surely; else None."""
        mentions, quantity, words = self._parts(tokens)
        known = catalog_words(self.catalog)
        kept = [i for i in words if stem(tokens[i]) in known]
        if not kept or len(kept) == len(words):
            return None
        found = self._product(tokens, kept, mentions)
        if found is None or found[0][0].score < SURE_SCORE:
            return None
        return self._with_product(tokens, found, mentions, quantity, guessed=True)

    def _with_product(
        self,
        tokens: Sequence[str],
        found: tuple[list[Match], list[Mention], str],
        mentions: Sequence[Mention],
        quantity: Quantity | None,
        *,
        guessed: bool,
    ) -> Reading:
        """The reading of a phrase whose product was found; a guess is marked ambiguous."""
        matches, used, said = found
        product_id = matches[0].product_id
        product = self.catalog.product(product_id)
        kept = [m for m in mentions if m not in used]
        options = assign(
            kept,
            self.groups_for(product_id),
            defaults=product.defaults if product is not None else None,
        )
        item = Item(
            product_id=product_id,
            quantity=quantity.value if quantity else 1,
            unit=quantity.unit if quantity else None,
            options=options,
            alternatives=tuple(m.product_id for m in matches[1:]),
            ambiguous=guessed
            or matches[0].score < SURE_SCORE
            or (is_ambiguous(matches) and not self._names_one(matches, said)),
            spoken=" ".join(t for t in tokens if t != PAUSE),
        )
        return Reading(
            item,
            counted=quantity is not None,
            mentions=tuple(kept),
            said=said,
            score=matches[0].score,
        )

    def _names_one(self, matches: Sequence[Match], said: str) -> bool:
        """Whether the words are the whole name of the first match and not of the second."""
        return self.names_all(matches[0].product_id, said, whole=True) and not self.names_all(
            matches[1].product_id, said, whole=True
        )

    def names_all(self, product_id: str, text: str, *, whole: bool = False) -> bool:
        """Whether the product's name or an alias holds every word of text (by matcher key).

        With `whole`, the text must be all of that name, no more and no less.
        """
        product = self.catalog.product(product_id)
        if product is None:
            return False
        wanted = set(match_tokens(text, spoken=True)) - WEAK_WORDS
        for name in (product.name, *product.aliases):
            have = set(match_tokens(name))
            if wanted == have or (not whole and wanted <= have):
                return True
        return False

    def groups_nouns(self) -> frozenset[str]:
        """Every group's own nouns ("roast", "size", "shot")."""
        table = phrase_table(self.groups)
        return frozenset(n for nouns in table.nouns.values() for n in nouns)

    def _product(
        self, tokens: Sequence[str], words: list[int], mentions: Sequence[Mention]
    ) -> tuple[list[Match], list[Mention], str] | None:
        """The best product for the product words, taking in option words that name it.

        "iced" + "latte" is the Iced Latte when the catalog has one: option words beside the
        product words join them when a product's name holds all the words. Option words alone
        ("hot chocolate", "dark roast") name a product only when they are its whole name.
        """
        said = _text(tokens, words)
        matches = self.match(said) if words else []
        best: tuple[list[Match], list[Mention], str] | None = (
            (matches, [], said) if matches else None
        )
        for run in _runs(words, mentions):
            span = set(words) | {i for m in run for i in range(m.start, m.end)}
            text = _text(tokens, sorted(span))
            wider = self.match(text)
            if not wider or not self.names_all(wider[0].product_id, text, whole=not words):
                continue
            best = (wider, list(run), text)
        return best

    def _without_product(
        self,
        tokens: Sequence[str],
        words: list[int],
        mentions: Sequence[Mention],
        quantity: Quantity | None,
    ) -> Reading:
        """No product: an unmatched phrase, or bare options and quantity (a follow-up)."""
        if words:
            return Reading(None, unmatched=_text(tokens, words), counted=quantity is not None)
        if not mentions and quantity is None:
            return Reading(None)
        item = Item(
            product_id=None,
            quantity=quantity.value if quantity else 1,
            unit=quantity.unit if quantity else None,
            options=assign(mentions, self.groups),
            spoken=" ".join(t for t in tokens if t != PAUSE),
        )
        return Reading(item, counted=quantity is not None, mentions=tuple(mentions))


_WORDS_CACHE_SIZE = 8
_catalog_words: dict[int, tuple[Catalog, frozenset[str]]] = {}


def catalog_words(catalog: Catalog) -> frozenset[str]:
    """Stems of every word in the catalog's product names, brands and aliases."""
    cached = _catalog_words.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    texts = [t for p in catalog.products.values() for t in (p.name, p.brand, *p.aliases)]
    found = frozenset(stem(w) for text in texts for w in split_words(text.replace("-", " ")))
    if len(_catalog_words) >= _WORDS_CACHE_SIZE:
        _catalog_words.pop(next(iter(_catalog_words)))
    _catalog_words[id(catalog)] = (catalog, found)
    return found


def with_quantity(item: Item, reading: Reading) -> Item:
    """The item with the quantity and unit that a reading states."""
    if reading.item is None or not reading.counted:
        return item
    return replace(item, quantity=reading.item.quantity, unit=reading.item.unit)


def _quantity(tokens: Sequence[str], start: int, mentions: Sequence[Mention]) -> Quantity | None:
    """The leading quantity, unless its words belong to an option ("two shots", "half caf")."""
    quantity = read_quantity(tokens, start)
    if quantity is None:
        return None
    if is_doubled(tokens, quantity.end - 1):
        return Quantity(1, None, start, start + 1) if tokens[start] in ARTICLES else None
    if quantity.end < len(tokens) and tokens[quantity.end] in _NO_QUANTITY_AFTER:
        return None
    for mention in mentions:
        if mention.start < quantity.end and mention.end > quantity.start:
            if tokens[start] in ARTICLES and mention.start > start:
                return Quantity(1, None, start, start + 1)
            return None
    return quantity


def is_doubled(tokens: Sequence[str], index: int) -> bool:
    """ "half and half": a word, "and", the same word again is a name, not a count."""
    return (
        index >= 0
        and index + 2 < len(tokens)
        and tokens[index + 1] == "and"
        and tokens[index] == tokens[index + 2]
    )


def _covered(mentions: Sequence[Mention]) -> set[int]:
    """Token positions inside mentions."""
    return {i for m in mentions for i in range(m.start, m.end)}


def _product_words(
    tokens: Sequence[str], start: int, mentions: Sequence[Mention], nouns: frozenset[str]
) -> list[int]:
    """Positions of words left for the product: not options, glue, or a group noun by one.

    A word after "no", "without" or "extra" that is no option here ("no foam") is dropped:
    it names something to leave out or add, never the product.
    """
    covered = _covered(mentions)
    words = []
    for i in range(start, len(tokens)):
        if i in covered or tokens[i] in GLUE or tokens[i] in OPTION_HEADS:
            continue
        if i > 0 and tokens[i - 1] in OPTION_HEADS and i - 1 not in covered:
            continue
        beside = (i - 1) in covered or (i + 1) in covered
        if beside and canon(tokens[i]) in nouns:
            continue
        words.append(i)
    return words


def _runs(words: list[int], mentions: Sequence[Mention]) -> list[list[Mention]]:
    """Plain option mentions in or beside the product words, shortest runs first.

    With no product words, every unbroken run of plain mentions ("hot chocolate").
    """
    plain = [m for m in mentions if m.amount is Amount.REGULAR]
    if not words:
        runs = []
        for i in range(len(plain)):
            for j in range(i, len(plain)):
                if j > i and plain[j].start != plain[j - 1].end:
                    break
                runs.append(plain[i : j + 1])
        return sorted(runs, key=len)
    first, last = min(words), max(words)
    inner = [m for m in plain if first < m.start and m.end <= last]
    before = _chain(plain, first, backward=True)
    after = _chain(plain, last + 1, backward=False)
    runs = [
        before[len(before) - k :] + inner + after[:n]
        for k in range(len(before) + 1)
        for n in range(len(after) + 1)
        if k or n or inner
    ]
    return sorted(runs, key=len)


def _chain(mentions: Sequence[Mention], edge: int, *, backward: bool) -> list[Mention]:
    """Mentions that follow one another away from edge, in token order (at most three)."""
    chain: list[Mention] = []
    while len(chain) < 3:
        nxt = next((m for m in mentions if (m.end if backward else m.start) == edge), None)
        if nxt is None:
            break
        chain.append(nxt)
        edge = nxt.start if backward else nxt.end
    return chain[::-1] if backward else chain


def _text(tokens: Sequence[str], positions: Sequence[int]) -> str:
    """The words at these positions, in order."""
    return " ".join(tokens[i] for i in sorted(positions) if tokens[i] not in GLUE)
