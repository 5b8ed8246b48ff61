"""Option words -> a Choice of an OptionGroup ("almond" -> Almond Milk, "large" -> venti).

The same word matching as products (exact, typo, sound-alike, prefix; catalog.phonetic) over a
group's names and aliases, weighted by how rare a word is within the group ("milk" says little
in a milk group). An option is usually named inside a longer phrase ("a grande latte with
almond"), so saying the choice counts most; explaining every word said counts a little.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from catalog.model import Choice, OptionGroup
from catalog.phonetic import Vocabulary
from catalog.text import FILLER_STEMS, match_words

OPTION_SCORE_CUTOFF = 60.0
"""Scores run 0..100; below this no choice of the group was named."""
QUERY_SHARE = 0.15
"""How much explaining the words said counts; the rest is how much of the choice was said."""


@dataclass(frozen=True)
class _ChoiceTable:
    """A group's choices as word-id tuples per way of saying them, with in-group word weights."""

    vocab: Vocabulary
    idf: tuple[float, ...]
    variants: tuple[tuple[Choice, tuple[int, ...]], ...]


@lru_cache(maxsize=256)
def _choice_table(group: OptionGroup) -> _ChoiceTable:
    variants = [
        (choice, [key for key, _ in match_words(text)])
        for choice in group.choices
        for text in (choice.name, *choice.aliases)
    ]
    vocab = Vocabulary(sorted({w for _, keys in variants for w in keys}))
    df = [0] * len(vocab)
    for choice in group.choices:
        said = {w for c, keys in variants if c is choice for w in keys}
        for word in said:
            df[vocab.ids[word]] += 1
    n = len(group.choices)
    idf = tuple(math.log(1 + n / d) for d in df)
    return _ChoiceTable(vocab, idf, tuple((c, tuple(vocab.ids[w] for w in k)) for c, k in variants))


def match_option(
    group: OptionGroup, text: str, *, score_cutoff: float = OPTION_SCORE_CUTOFF
) -> Choice | None:
    """The choice of `group` that `text` names ("almond" -> Almond Milk), or None."""
    table = _choice_table(group)
    keys = [key for key, _ in match_words(text, spoken=True) if key not in FILLER_STEMS]
    if not keys or not table.variants:
        return None
    unknown = max(table.idf, default=1.0)
    said: list[tuple[float, dict[int, float]]] = []
    for key in keys:
        similar = {s.word_id: s.similarity for s in table.vocab.similar(key)}
        known = table.vocab.ids.get(key)
        said.append((unknown if known is None else table.idf[known], similar))
    total = sum(weight for weight, _ in said)
    best: tuple[float, Choice] | None = None
    for choice, words in table.variants:
        if not words:
            continue
        query_share = sum(w * max((s.get(t, 0.0) for t in words), default=0.0) for w, s in said)
        choice_share = sum(table.idf[t] * max(s.get(t, 0.0) for _, s in said) for t in words)
        choice_total = sum(table.idf[t] for t in words)
        score = 100 * (
            QUERY_SHARE * query_share / total + (1 - QUERY_SHARE) * choice_share / choice_total
        )
        if score >= score_cutoff and (best is None or score > best[0]):
            best = (score, choice)
    return None if best is None else best[1]
