"""Counted choices: "Double Shot" counts 2, "an extra shot" or "add a shot" steps up one."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from catalog.model import OptionGroup
from catalog.numbers import word_value
from catalog.option_phrases import canon, canon_words, phrase_table

_MULTIPLES = {"single": 1, "double": 2, "triple": 3, "quad": 4, "quadruple": 4}
"""Words that count a choice ("Double Shot") as digits do ("2 shots")."""
_ADD_VERBS = frozenset({"add", "adding"})


def added_units(tokens: Sequence[str], groups: Sequence[OptionGroup]) -> list[str]:
    """ "add a shot" is one more shot ("add an extra shot"), not the "one shot" choice.

    Only for groups counted in units ("shot"); "a shot of vanilla" measures a syrup.
    """
    nouns = counted_nouns(tuple(groups))
    out = list(tokens)
    for i in range(len(out) - 3, -1, -1):
        count, noun = out[i + 1], out[i + 2]
        after = out[i + 3] if i + 3 < len(out) else ""
        if out[i] not in _ADD_VERBS or canon(noun) not in nouns or after == "of":
            continue
        if count in {"a", "an"}:
            out[i + 1 : i + 2] = ["an", "extra"]
        elif word_value(count) is not None:
            out.insert(i + 2, "extra")
    return out


@lru_cache(maxsize=64)
def counted_nouns(groups: tuple[OptionGroup, ...]) -> frozenset[str]:
    """Nouns of groups counted in units, without amounts ("shot"): "add a shot" is one more."""
    table = phrase_table(groups)
    return frozenset(
        n for g in groups if not g.amounts and choice_counts(g) for n in table.nouns[g.id]
    )


def choice_counts(group: OptionGroup) -> dict[str, int]:
    """How many each choice counts ("Double Shot", "2 shots" -> 2); only choices that say."""
    nouns = phrase_table((group,)).nouns[group.id]
    counts: dict[str, int] = {}
    for choice in group.choices:
        for text in (choice.name, choice.id, *choice.aliases):
            phrase = canon_words(text)
            pairs = zip(phrase, (*phrase[1:], ""), strict=True)
            found = [
                _MULTIPLES.get(w) or (int(w) if w.isdigit() and nxt in nouns else None)
                for w, nxt in pairs
            ]
            count = next((c for c in found if c), None)
            if count is not None:
                counts.setdefault(choice.id, count)
    return counts


def step_choice(group: OptionGroup, base: str | None, more: int) -> str:
    """The choice `more` steps above `base` (else the first choice).

    Counted choices step by count (a Single Shot and two more is a Triple Shot); others by
    their order in the catalog. Past the last choice, the last one.
    """
    ids = [c.id for c in group.choices]
    start = base if base in ids else ids[0]
    counts = choice_counts(group)
    if start in counts:
        wanted = counts[start] + more
        fits = [c for c in ids if c in counts and counts[c] <= wanted]
        return max(fits, key=lambda c: counts[c])
    return ids[min(ids.index(start) + more, len(ids) - 1)]
