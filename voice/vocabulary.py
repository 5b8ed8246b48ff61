"""The words a store's shoppers use, built from the catalog, for biasing speech engines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from catalog import numbers
from catalog.model import Catalog
from catalog.numbers import ONES, TENS

NUMBER_WORDS = (
    *tuple(ONES)[1:],
    *TENS,
    "hundred",
    "a",
    "an",
    "half",
    "couple",
    "dozen",
)
"""Quantities shoppers say; always part of a catalog vocabulary."""

DEFAULT_PROMPT_CHARS = 600
"""Whisper keeps at most 223 prompt tokens; 600 characters of menu words stay well inside."""


@dataclass(frozen=True)
class Vocabulary:
    """Phrases an engine should expect (lower case, numbers spelled out) and a biasing prompt."""

    phrases: tuple[str, ...]
    prompt: str = ""

    @property
    def words(self) -> tuple[str, ...]:
        """The distinct single words of all phrases, in first-seen order."""
        return tuple(dict.fromkeys(w for p in self.phrases for w in p.split()))

    def __bool__(self) -> bool:
        return bool(self.phrases)


def vocabulary_from_catalog(
    catalog: Catalog,
    *,
    command_words: Iterable[str] = (),
    max_prompt_chars: int = DEFAULT_PROMPT_CHARS,
) -> Vocabulary:
    """Product names and aliases, option choices, numbers and the parser's command words."""
    names: list[str] = []
    for product in catalog.products.values():
        names += [product.name, *product.aliases]
    choices: list[str] = []
    for group in catalog.option_groups.values():
        for choice in group.choices:
            choices += [choice.name, *choice.aliases]
    spoken = [*names, *choices, *command_words, *NUMBER_WORDS]
    phrases = tuple(dict.fromkeys(p for p in (normalise(s) for s in spoken) if p))
    prompt_items = [p.name for p in catalog.products.values()]
    prompt_items += [c.name for g in catalog.option_groups.values() for c in g.choices]
    return Vocabulary(phrases=phrases, prompt=menu_prompt(prompt_items, max_chars=max_prompt_chars))


def menu_prompt(items: Iterable[str], *, max_chars: int = DEFAULT_PROMPT_CHARS) -> str:
    """Menu words as one lower-case, comma-separated sentence, cut at whole items to `max_chars`.

    Lower case because Whisper copies the prompt's style: Title Case items come back as
    "Light Roast" in the middle of a sentence.
    """
    kept: list[str] = []
    length = 0
    for item in dict.fromkeys(i.strip().lower() for i in items if i.strip()):
        if length + len(item) + 2 > max_chars:
            break
        kept.append(item)
        length += len(item) + 2
    text = ", ".join(kept) + "." if kept else ""
    return text[:1].upper() + text[1:]


def normalise(text: str) -> str:
    """Lower case, "&" and "%" as words, numbers spelled out, punctuation dropped."""
    text = text.lower().replace("&", " and ").replace("%", " percent ")
    text = re.sub(r"\d+", lambda m: f" {spell_number(int(m.group()))} ", text)
    text = re.sub(r"[^\w' ]+", " ", text).replace("_", " ")
    return " ".join(text.split())


def spell_number(number: int) -> str:
    """Spell a whole number in English words, e.g. 12 -> "twelve"; digit by digit past 999,999."""
    if number < 1_000_000:
        return numbers.spell_number(number)
    return " ".join(numbers.spell_number(int(d)) for d in str(number))
