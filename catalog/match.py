"""Spoken words -> ranked catalog products (ProductIndex); option words -> a Choice (re-exported).

Built once per catalog (catalog.documents): every product gives a name document and one per
alias; postings map each word, in matching form, to the documents that hold it. A query is
read word by word: exactly, and (unless a product name is exactly what was said) as typos,
sound-alikes, prefixes, and split or run-together words (catalog.phonetic). A document's score,
0..100, is its coverage of what was said (rare words weigh more, but every word counts) times a
light precision term (how much of the name was said; a brand said in full counts a fixed share),
blended with rapidfuzz's spelling ratio of the whole phrase, which rewards word order. Only
documents that can still reach the cutoff are scored (max-score pruning over the postings), and
the most used words are looked up while building. History re-ranks matches; it never makes one.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from catalog.choices import OPTION_SCORE_CUTOFF, match_option
from catalog.documents import Documents, build_documents, build_postings
from catalog.model import Catalog, Product
from catalog.phonetic import How, Similar, Vocabulary
from catalog.text import FILLER_STEMS, STOP_WORDS, match_words

__all__ = [
    "AMBIGUITY_MARGIN",
    "DEFAULT_SCORE_CUTOFF",
    "OPTION_SCORE_CUTOFF",
    "Match",
    "ProductIndex",
    "is_ambiguous",
    "match_option",
]

logger = logging.getLogger(__name__)

DEFAULT_SCORE_CUTOFF = 70.0
"""Scores run 0..100; below this a product is not what the shopper meant."""
AMBIGUITY_MARGIN = 5.0
"""The best match must lead the next by this many points to be taken without asking."""
PRECISION_SHARE = 0.3
"""How much of the score depends on saying the whole name (the rest is explaining the query)."""
UNIFORM_SHARE = 0.3
"""Share of coverage that counts every word alike: rare words weigh more, but a rare word is
also the likelier mishearing ("oak milk"), so the query must be explained as a whole too."""
RESCORE_SHARE = 0.1
"""Share of the spelling similarity of the whole phrase (rapidfuzz ratio): word order, closeness."""
BRAND_PRECISION = 0.7
"""Saying the whole brand ("the Bounty ones") counts as saying this much of the name."""
WEAK_SHARE = 0.05
"""Filler words and bare numbers (likely quantities) weigh this share of the rarest word."""
UNKNOWN_SHARE = 0.6
"""A word matching nothing at all weighs this share of the rarest word's weight."""
HISTORY_BONUS = 10.0
"""Points for a product the shopper bought before (first purchase 7, ten or more times 10)."""
MERGE_SHARE = 0.5
MIN_MERGE_SIMILARITY = 0.8
MAX_CANDIDATES = 64
MAX_WORDS = 24
"""Only the first words of a longer text are read: a product is named in a few words."""
PERFECT = 99.99
EXPANSION_CACHE = 20_000
WARM_WORDS = 2_000
"""The catalog's most used words, looked up while building (most of what shoppers say)."""

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Match:
    """One product a query may mean; `score` is 0..100 and `why` says what matched how."""

    product_id: str
    name: str
    score: float
    why: str


@dataclass(frozen=True)
class _Term:
    """One spoken word: its weight and the catalog words (with a share) it may stand for."""

    key: str
    surface: str
    weight: float
    options: tuple[tuple[Similar, float], ...]
    strong: bool
    """Whether the word carries meaning (not a filler or a bare number)."""
    merged: bool = False


@dataclass(frozen=True)
class _Expansion:
    """The documents holding any of a term's options, each with its best option's evidence."""

    docs: npt.NDArray[np.int64]
    values: Floats
    """Rows: similarity, precision weight, brand weight; one column per document."""
    which: npt.NDArray[np.int8]


@dataclass(frozen=True)
class _Scored:
    """The documents a query touched, their scores (0..100), and each term's expansion."""

    docs: npt.NDArray[np.int64]
    score: Floats
    expansions: list[_Expansion]


class ProductIndex:
    """An inverted index over a catalog's products; build once, match on every transcript."""

    def __init__(self, products: Iterable[Product]) -> None:
        self._products = list(products)
        self._by_id = {p.id: i for i, p in enumerate(self._products)}
        docs = build_documents(self._products)
        self._vocab = Vocabulary(sorted({w for words in docs.words for w in words}))
        self._doc_product = np.array(docs.product, dtype=np.int32)
        self._doc_label = docs.label
        self._doc_text = docs.text
        self._alias_docs: dict[int, list[int]] = {}
        for doc, product in enumerate(docs.product[len(self._products) :], len(self._products)):
            self._alias_docs.setdefault(product, []).append(doc)
        self._post = build_postings(docs, self._vocab)
        rarest = float(self._post.idf.max(initial=1.0))
        self._unknown_weight = UNKNOWN_SHARE * rarest
        self._weak_weight = WEAK_SHARE * rarest
        self._whole_names = {frozenset(text.split()) for text in docs.text}
        self._store_masks: dict[str, npt.NDArray[np.bool_]] = {}
        self._all_everywhere = all(p.stores is None for p in self._products)
        self._expansions: dict[tuple[str, bool], _Expansion] = {}
        self._option_cache: dict[tuple[str, bool], tuple[tuple[Similar, float], ...]] = {}
        self._warm(docs)
        logger.info("indexed %d products, %d words", len(self._products), len(self._vocab))

    def _warm(self, docs: Documents) -> None:
        """Look up the catalog's most used words now, so that the first queries need not."""
        counts = Counter(w for words in docs.words for w in words)
        for word, _ in counts.most_common(WARM_WORDS):
            options = self._options(word, fuzzy=True)
            if len(options) > 1:
                self._expand(_Term(word, word, 1.0, options, strong=True))

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> ProductIndex:
        """Index every product of a catalog."""
        return cls(catalog.products.values())

    def __len__(self) -> int:
        return len(self._products)

    def match(
        self,
        text: str,
        *,
        limit: int = 5,
        score_cutoff: float = DEFAULT_SCORE_CUTOFF,
        history: Mapping[str, int] | None = None,
        store_id: str | None = None,
    ) -> list[Match]:
        """The products `text` may mean, best first; [] when nothing is close enough."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        said = match_words(text, spoken=True, stop_words=True)[:MAX_WORDS]
        words = [key for key, _ in said if key not in STOP_WORDS]
        if not any(key not in FILLER_STEMS and not key.isdigit() for key in words):
            return []
        mask = self._store_mask(store_id)
        if frozenset(words) in self._whole_names:
            # Only a perfect exact match (every word said, the whole name said) cannot be
            # beaten by reading some words as misheard, split or run together.
            terms = self._terms(said, fuzzy=False)
            scored = self._score(terms, mask, score_cutoff)
            if len(scored.score) and scored.score.max() >= PERFECT:
                return self._rank(scored, terms, limit, score_cutoff, history or {})
        terms = self._terms(said, fuzzy=True)
        scored = self._score(terms, mask, score_cutoff)
        return self._rank(scored, terms, limit, score_cutoff, history or {})

    def _terms(self, said: Sequence[tuple[str, str]], *, fuzzy: bool) -> list[_Term]:
        """One term per spoken word that is not a stop word."""
        if fuzzy:
            said = self._split_compounds(said)
        terms: list[_Term] = []
        for key, surface in said:
            if key in STOP_WORDS:
                continue
            weak = key in FILLER_STEMS or key.isdigit()
            options = self._options(key, fuzzy=fuzzy and not weak)
            known = self._vocab.ids.get(key)
            if weak:
                weight = self._weak_weight
            elif known is not None:
                weight = float(self._post.idf[known])
            else:
                weight = self._unknown_weight
            terms.append(_Term(key, surface, weight, options, strong=not weak))
        if fuzzy:
            self._add_merges(terms, said)
        return terms

    def _options(self, key: str, *, fuzzy: bool) -> tuple[tuple[Similar, float], ...]:
        """The catalog words a spoken word may stand for, each with its full share (cached)."""
        options = self._option_cache.get((key, fuzzy))
        if options is None:
            options = tuple((s, 1.0) for s in self._vocab.similar(key, fuzzy=fuzzy))
            if len(self._option_cache) >= EXPANSION_CACHE:
                self._option_cache.clear()
            self._option_cache[(key, fuzzy)] = options
        return options

    def _split_compounds(self, said: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Split a run-together word that the catalog lacks ("peanutbutter") into two it has."""
        out: list[tuple[str, str]] = []
        ids = self._vocab.ids
        for key, surface in said:
            if key.isalpha() and len(key) >= 6 and key not in ids:
                cuts = [k for k in range(3, len(key) - 2) if key[:k] in ids and key[k:] in ids]
                if cuts:
                    cut = max(cuts, key=lambda k: min(k, len(key) - k))
                    out += [(key[:cut], surface[:cut]), (key[cut:], surface[cut:])]
                    continue
            out.append((key, surface))
        return out

    def _add_merges(self, terms: list[_Term], said: Sequence[tuple[str, str]]) -> None:
        """Let two neighbouring words stand for one catalog word ("pop corn" -> popcorn,
        "bake on" -> bacon, "glue ten" -> gluten); `said` includes the stop words."""
        index: list[int | None] = []
        for key, _ in said:
            index.append(None if key in STOP_WORDS else len(index) - index.count(None))
        for i in range(len(said) - 1):
            members = [j for j in (index[i], index[i + 1]) if j is not None]
            # Numbers were said as words: join what was said ("ten", not "10").
            left, right = (k if k.isalpha() else s.replace(" ", "") for k, s in said[i : i + 2])
            if not members or not (left + right).isalpha():
                continue
            found = self._vocab.similar(left + right, joined=True)
            share = MERGE_SHARE if len(members) == 2 else 1.0
            extra = tuple((s, share) for s in found if s.similarity >= MIN_MERGE_SIMILARITY)
            for j in members if extra else ():
                t = terms[j]
                terms[j] = _Term(t.key, t.surface, t.weight, t.options + extra, t.strong, True)

    def _store_mask(self, store_id: str | None) -> npt.NDArray[np.bool_] | None:
        if store_id is None or self._all_everywhere:
            return None
        mask = self._store_masks.get(store_id)
        if mask is None:
            sold = np.array([p.available_at(store_id) for p in self._products], dtype=np.bool_)
            mask = sold[self._doc_product]
            self._store_masks[store_id] = mask
        return mask

    def _expand(self, term: _Term) -> _Expansion:
        """Each document holding one of the term's options, with its best option (cached)."""
        key = (term.key, len(term.options) > 1)
        cached = None if term.merged else self._expansions.get(key)
        if cached is not None:
            return cached
        # Best first: the highest similarity (coverage), then the largest share.
        order = sorted(
            range(len(term.options)),
            key=lambda k: (-term.options[k][0].similarity, -term.options[k][1]),
        )
        spans = [self._span(term.options[k][0].word_id) for k in order]
        docs = np.concatenate([self._post.doc[lo:hi] for lo, hi in spans])
        strength = np.repeat(
            [_strength(term.options[k]) for k in order], [hi - lo for lo, hi in spans]
        )
        similarity = np.repeat(
            [term.options[k][0].similarity for k in order], [hi - lo for lo, hi in spans]
        )
        weight = np.concatenate([self._post.weight[lo:hi] for lo, hi in spans]) * strength
        brand = np.concatenate([self._post.brand[lo:hi] for lo, hi in spans]) * similarity
        which = np.repeat(np.array(order, dtype=np.int8), [hi - lo for lo, hi in spans])
        values = np.vstack([similarity, weight, brand]).astype(np.float32)
        if len(order) > 1:
            # The first occurrence of a document is its strongest option.
            docs, first = np.unique(docs, return_index=True)
            values, which = values[:, first], which[first]
        found = _Expansion(docs, values, which)
        if not term.merged:
            if len(self._expansions) >= EXPANSION_CACHE:
                self._expansions.clear()
            self._expansions[key] = found
        return found

    def _span(self, word_id: int) -> tuple[int, int]:
        return int(self._post.offsets[word_id]), int(self._post.offsets[word_id + 1])

    def _score(
        self, terms: Sequence[_Term], mask: npt.NDArray[np.bool_] | None, cutoff: float
    ) -> _Scored:
        """Score the documents that can still reach `cutoff`; see the module docstring."""
        expansions = [self._expand(t) if t.options else _EMPTY for t in terms]
        total = max(sum(t.weight for t in terms), 1e-6)
        strong = max(sum(t.strong for t in terms), 1)
        reach = [
            (1 - UNIFORM_SHARE) * t.weight / total + (UNIFORM_SHARE / strong if t.strong else 0.0)
            for t in terms
        ]
        docs = _candidates(expansions, reach, _lowest(cutoff) / 100, len(self._post.doc_weight))
        if mask is not None:
            docs = docs[mask[docs]]
        weighted, uniform = np.zeros((2, len(docs)), dtype=np.float32)
        evidence = np.zeros((3, len(docs)), dtype=np.float32)
        for term, found in zip(terms, expansions, strict=True):
            if not len(found.docs) or not len(docs):
                continue
            if found.docs is docs:
                values = found.values  # the one essential term: its documents are the candidates
            else:
                at, hit = _find(found.docs, docs)
                values = found.values[:, at] * hit
            weighted += term.weight * values[0]
            if term.strong:
                uniform += values[0]
            evidence += values
        matched, brand = evidence[1], evidence[2]
        blended = (1 - UNIFORM_SHARE) * weighted / total + UNIFORM_SHARE * uniform / strong
        precision = np.minimum(matched / self._post.doc_weight[docs], 1.0)
        said_brand = np.minimum(brand / np.maximum(self._post.doc_brand[docs], 1e-6), 1.0)
        precision = np.maximum(precision, BRAND_PRECISION * said_brand)
        score = 100 * blended * (1 - PRECISION_SHARE + PRECISION_SHARE * precision)
        return _Scored(docs, score.astype(np.float32), expansions)

    def _rank(
        self,
        scored: _Scored,
        terms: Sequence[_Term],
        limit: int,
        cutoff: float,
        history: Mapping[str, int],
    ) -> list[Match]:
        close = self._contenders(scored, limit, cutoff)
        if history:
            close = np.union1d(close, self._history_rows(scored.docs, history))
        if not len(close):
            return []
        docs = scored.docs[close]
        said = " ".join(t.key for t in terms if t.strong)
        texts = [self._doc_text[d] for d in docs]
        spelled = process.cdist([said], texts, scorer=fuzz.ratio, dtype=np.float32)[0]
        value = (1 - RESCORE_SHARE) * scored.score[close] + RESCORE_SHARE * spelled
        keep = value >= cutoff
        docs, value = docs[keep], value[keep]
        products = self._doc_product[docs]
        if history:
            ids = (self._products[p].id for p in products.tolist())
            value = value + np.array([_history_bonus(history.get(i)) for i in ids])
        order = np.lexsort((products, -value))
        products, docs, value = products[order], docs[order], value[order]
        if len(set(products.tolist())) == len(products):
            first = np.arange(min(limit, len(products)))
        else:
            first = np.sort(np.unique(products, return_index=True)[1])[:limit]
        # History may lift a product past 100: scale all down, so it leads its rivals.
        scale = 100 / max(100.0, float(value.max(initial=0.0)))
        chosen = docs[first]
        whys = self._why(chosen, terms, scored.expansions)
        return [
            Match(
                product_id=self._products[product].id,
                name=self._products[product].name,
                score=round(score * scale, 2),
                why=why,
            )
            for product, score, why in zip(
                products[first].tolist(), value[first].tolist(), whys, strict=True
            )
        ]

    def _contenders(self, scored: _Scored, limit: int, cutoff: float) -> npt.NDArray[np.intp]:
        """Rows that may still make the top `limit` products once the phrase is rescored."""
        close = np.flatnonzero(scored.score >= _lowest(cutoff))
        if len(close) > MAX_CANDIDATES:
            close = close[np.argpartition(scored.score[close], -MAX_CANDIDATES)[-MAX_CANDIDATES:]]
        close = close[np.argsort(-scored.score[close], kind="stable")]
        products: set[int] = set()
        for row in close.tolist():
            products.add(int(self._doc_product[scored.docs[row]]))
            if len(products) == limit:
                # Rescoring moves a score by at most this much against another.
                reach = RESCORE_SHARE * 100 / (1 - RESCORE_SHARE)
                close = close[scored.score[close] >= scored.score[row] - reach]
                break
        return close

    def _history_rows(
        self, docs: npt.NDArray[np.int64], history: Mapping[str, int]
    ) -> npt.NDArray[np.int64]:
        """Rows of `docs` that belong to products the shopper bought."""
        indexes = [self._by_id.get(product_id) for product_id in history]
        wanted = np.array(
            [d for i in indexes if i is not None for d in (i, *self._alias_docs.get(i, []))],
            dtype=np.int64,
        )
        if not len(docs):
            return np.zeros(0, dtype=np.int64)
        rows, hit = _find(docs, wanted)
        found: npt.NDArray[np.int64] = rows[hit].astype(np.int64)
        return found

    def _why(
        self, docs: npt.NDArray[np.int64], terms: Sequence[_Term], expansions: Sequence[_Expansion]
    ) -> list[str]:
        """Per document: which field matched and how each word was read ("typo 'x'->'y'")."""
        parts: list[list[str]] = [[] for _ in docs]
        for term, found in zip(terms, expansions, strict=True):
            if not len(found.docs):
                continue
            at, hit = _find(found.docs, docs)
            for row, k in enumerate(found.which[at].tolist()):
                if not hit[row]:
                    continue
                option = term.options[k][0]
                if option.how is How.EXACT:
                    parts[row].append(f"'{term.surface}'")
                else:
                    word = self._vocab.words[option.word_id]
                    parts[row].append(f"{option.how} '{term.surface}'->'{word}'")
        return [
            f"{self._doc_label[doc]}: " + " + ".join(said)
            for doc, said in zip(docs.tolist(), parts, strict=True)
        ]


def _lowest(cutoff: float) -> float:
    """The least score that may still reach `cutoff` once the phrase is rescored."""
    return (cutoff - RESCORE_SHARE * 100) / (1 - RESCORE_SHARE)


def _find(
    haystack: npt.NDArray[np.int64], needles: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Where each needle is (or would be) in the sorted, non-empty haystack, and if it is there."""
    at = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    return at, haystack[at] == needles


def _strength(option: tuple[Similar, float]) -> float:
    return option[0].similarity * option[1]


def _candidates(
    expansions: Sequence[_Expansion], reach: Sequence[float], floor: float, count: int
) -> npt.NDArray[np.int64]:
    """Documents holding an essential term: the weakest terms together reach less than `floor`,
    so a document with none of the others cannot make the cut (max-score pruning)."""
    order = sorted(range(len(reach)), key=lambda i: reach[i])
    optional = 0.0
    essential: list[int] = []
    for i in order:
        if optional + reach[i] < floor:
            optional += reach[i]
        else:
            essential.append(i)
    parts = [expansions[i].docs for i in essential if len(expansions[i].docs)]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    if len(parts) == 1:
        return parts[0]
    if sum(len(part) for part in parts) < count // 16:
        return np.unique(np.concatenate(parts)).astype(np.int64)
    # Large unions: marking a flag per document beats sorting.
    held = np.zeros(count, dtype=np.bool_)
    for part in parts:
        held[part] = True
    return np.flatnonzero(held)


_EMPTY = _Expansion(
    np.zeros(0, dtype=np.int64), np.zeros((3, 0), dtype=np.float32), np.zeros(0, dtype=np.int8)
)


def _history_bonus(times: int | None) -> float:
    if not times or times < 1:
        return 0.0
    return HISTORY_BONUS * (0.7 + 0.3 * min(1.0, math.log(times) / math.log(10)))


def is_ambiguous(matches: Sequence[Match], *, margin: float = AMBIGUITY_MARGIN) -> bool:
    """Whether the top two matches are too close to call ("Bounty or Viva?")."""
    return len(matches) >= 2 and matches[0].score - matches[1].score < margin
