"""Option words: amount phrases, canonical tokens, and every way to say each choice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from catalog.model import Amount, OptionGroup
from catalog.numbers import UNITS, word_value
from catalog.segment import words
from catalog.text import stem

AMOUNT_PHRASES: tuple[tuple[tuple[str, ...], Amount], ...] = tuple(
    (tuple(phrase.split()), amount)
    for amount, phrases in (
        (
            Amount.LIGHT,
            "just a little bit of|a little bit of|a tiny bit of|little bit of|a little bit|"
            "just a bit of|a bit of|bit of|a touch of|a splash of|a dash of|a drop of|a little|"
            "light on the|light on|easy on the|easy on|go easy on the|less|light|lite|little",
        ),
        (Amount.REGULAR, "a normal amount of|some|regular|normal"),
        (
            Amount.EXTRA,
            "a whole lot of|a lot of|lots and lots of|lots of|lot of|a lot|loads of|load of|"
            "plenty of|tons of|a ton of|heaps of|a bunch of|a good amount of|extra|more|heavy|"
            "additional|lots|loads",
        ),
        (
            Amount.NONE,
            "leave out the|without any|without the|without|with no|hold the|skip the|"
            "minus the|minus|no|none|zero|nix the",
        ),
    )
    for phrase in phrases.split("|")
)
"""Amount words before an option ("a bit of" is light, "lots of" extra, "hold the" none)."""

AMOUNT_WORDS = frozenset(w for phrase, _ in AMOUNT_PHRASES for w in phrase)
"""Every amount word, for speech-engine vocabularies (choice words come from the catalog)."""
_WEAK = AMOUNT_WORDS | frozenset({"with", "and", "the", "a", "an", "of", "not", "in", "on"})
"""Words that cannot be a choice's short name alone ("Extra Shot" keeps its "shot")."""


@dataclass(frozen=True)
class PhraseTable:
    """Canonical word tuples -> (group, choice) pairs, and each group's head nouns."""

    phrases: Mapping[tuple[str, ...], tuple[tuple[str, str], ...]]
    nouns: Mapping[str, frozenset[str]]
    longest: int
    by_initial: Mapping[str, tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ...]] = (
        field(default_factory=dict)
    )
    """The phrases again, by their first letter (a close spelling must share it)."""


def canon(token: str) -> str:
    """A token's comparison form: digits for numbers, "oz" for ounces, singular nouns."""
    value = word_value(token)
    if value is not None and value == int(value):
        return str(int(value))
    if UNITS.get(token) == "ounce":
        return "oz"
    return stem(token)


def canon_words(text: str) -> tuple[str, ...]:
    """The canonical tuple of a catalog phrase ("12 oz" -> ("12", "oz"))."""
    return tuple(canon(t) for t in words(text.replace("-", " ")) if t != ",")


@lru_cache(maxsize=256)
def phrase_table(groups: tuple[OptionGroup, ...]) -> PhraseTable:
    """Every way to say each choice of these groups, built once per set of groups."""
    table: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    nouns: dict[str, frozenset[str]] = {}
    for group in groups:
        name = canon_words(group.name)
        own = frozenset(name) | frozenset(canon_words(group.id))
        nouns[group.id] = frozenset(name[-1:]) | frozenset(canon_words(group.id))
        for choice in group.choices:
            for phrase in _choice_phrases(choice.name, choice.id, choice.aliases, own):
                pairs = table.setdefault(phrase, [])
                if (group.id, choice.id) not in pairs:
                    pairs.append((group.id, choice.id))
    longest = max((len(p) for p in table), default=0)
    phrases = {k: tuple(v) for k, v in table.items()}
    initials: dict[str, list[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]] = {}
    for phrase, found in phrases.items():
        initials.setdefault(phrase[0][:1], []).append((phrase, found))
    by_initial = {k: tuple(v) for k, v in initials.items()}
    return PhraseTable(phrases, nouns, longest, by_initial)


def _choice_phrases(
    name: str, choice_id: str, aliases: Iterable[str], nouns: frozenset[str]
) -> set[tuple[str, ...]]:
    """Name, id, aliases, and the name without the group's words ("Skim Milk" -> "skim")."""
    phrases = {canon_words(text) for text in (name, choice_id, *aliases)}
    for phrase in list(phrases):
        short = tuple(w for w in phrase if w not in nouns)
        if short and short != phrase and not set(short) <= _WEAK and not short[0].isdigit():
            phrases.add(short)
    return {p for p in phrases if p}
