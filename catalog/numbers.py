"""Spoken quantities: number words, "a couple", "a dozen", halves and units ("two pounds of")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ONES = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
# Words that stand for a count on their own, after an article ("a couple of", "a dozen").
GROUP_WORDS = {"couple": 2, "pair": 2, "few": 3, "dozen": 12}
ARTICLES = frozenset({"a", "an"})

UNITS = {
    "pound": "pound",
    "pounds": "pound",
    "lb": "pound",
    "lbs": "pound",
    "ounce": "ounce",
    "ounces": "ounce",
    "oz": "ounce",
    "kilo": "kilogram",
    "kilos": "kilogram",
    "kilogram": "kilogram",
    "kilograms": "kilogram",
    "kg": "kilogram",
    "gram": "gram",
    "grams": "gram",
    "g": "gram",
    "gallon": "gallon",
    "gallons": "gallon",
    "liter": "liter",
    "liters": "liter",
    "litre": "liter",
    "litres": "liter",
    "quart": "quart",
    "quarts": "quart",
    "pint": "pint",
    "pints": "pint",
    "pack": "pack",
    "packs": "pack",
    "package": "pack",
    "packages": "pack",
    "box": "box",
    "boxes": "box",
    "bag": "bag",
    "bags": "bag",
    "bottle": "bottle",
    "bottles": "bottle",
    "can": "can",
    "cans": "can",
    "carton": "carton",
    "cartons": "carton",
    "jar": "jar",
    "jars": "jar",
    "loaf": "loaf",
    "loaves": "loaf",
    "bunch": "bunch",
    "bunches": "bunch",
    "case": "case",
    "cases": "case",
    "roll": "roll",
    "rolls": "roll",
    "cup": "cup",
    "cups": "cup",
    "bar": "bar",
    "bars": "bar",
}
# Small units that are also drink sizes ("a 12 ounce latte"): a unit only before "of".
SIZE_UNITS = frozenset({"ounce"})

NUMBER_WORDS = frozenset(ONES) | frozenset(TENS) | frozenset(GROUP_WORDS) | {"hundred", "half"}
_DIGITS = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True)
class Quantity:
    """A quantity read from tokens[start:end]; unit is a canonical unit name or None."""

    value: float
    unit: str | None
    start: int
    end: int


def word_value(token: str) -> float | None:
    """The value of one number token ("7", "seven", "1.5"), or None."""
    if _DIGITS.match(token):
        return float(token)
    if token in ONES:
        return float(ONES[token])
    if token in TENS:
        return float(TENS[token])
    return None


def read_number(tokens: Sequence[str], start: int) -> tuple[float, int] | None:
    """Read a number (words or digits, with "and a half", "dozen") at start; (value, end)."""
    if start >= len(tokens):
        return None
    read = _read_article_number(tokens, start) or _read_cardinal(tokens, start)
    if read is None:
        return None
    value, end = read
    if end < len(tokens) and tokens[end] == "dozen":
        value, end = value * 12, end + 1
    return _read_half_suffix(tokens, value, end)


def read_quantity(tokens: Sequence[str], start: int = 0) -> Quantity | None:
    """Read "two", "a couple of", "half a gallon of", "2 lbs of" at start, or None."""
    read = read_number(tokens, start)
    if read is None:
        return None
    value, end = read
    unit = UNITS.get(tokens[end]) if end < len(tokens) else None
    if unit is not None:
        after = end + 1
        value, after = _read_half_suffix(tokens, value, after)
        has_of = after < len(tokens) and tokens[after] == "of"
        if unit in SIZE_UNITS and not has_of:
            return None
        end = after + 1 if has_of else after
    elif end < len(tokens) and tokens[end] == "of":
        end += 1
    return Quantity(value=value, unit=unit, start=start, end=end)


def _read_cardinal(tokens: Sequence[str], start: int) -> tuple[float, int] | None:
    """Digits, "twenty two", "one hundred and five", or "half" on its own."""
    token = tokens[start]
    if token == "half":
        end = start + 1
        if end < len(tokens) and tokens[end] in ARTICLES:
            end += 1
        return 0.5, end
    value = word_value(token)
    if value is None:
        return None
    end = start + 1
    if token in TENS and end < len(tokens) and tokens[end] in ONES and ONES[tokens[end]] < 10:
        value += ONES[tokens[end]]
        end += 1
    if end < len(tokens) and tokens[end] == "hundred":
        value *= 100
        end += 1
        rest = _read_cardinal(tokens, end + 1) if _at(tokens, end, "and") else None
        rest = rest or (_read_cardinal(tokens, end) if end < len(tokens) else None)
        if rest is not None and rest[0] >= 1:
            value, end = value + rest[0], rest[1]
    return value, end


def _read_article_number(tokens: Sequence[str], start: int) -> tuple[float, int] | None:
    """ "a", "a couple", "a dozen", "a half", "a hundred" after an article."""
    if tokens[start] not in ARTICLES:
        return None
    nxt = tokens[start + 1] if start + 1 < len(tokens) else ""
    if nxt in GROUP_WORDS:
        return float(GROUP_WORDS[nxt]), start + 2
    if nxt == "half":
        return 0.5, start + 2
    if nxt == "hundred":
        return 100.0, start + 2
    return 1.0, start + 1


def _read_half_suffix(tokens: Sequence[str], value: float, end: int) -> tuple[float, int]:
    """Add "and a half" after a number; otherwise return the number unchanged."""
    if _at(tokens, end, "and") and _at(tokens, end + 1, "a") and _at(tokens, end + 2, "half"):
        return value + 0.5, end + 3
    return value, end


def _at(tokens: Sequence[str], index: int, word: str) -> bool:
    """Whether tokens[index] is word."""
    return index < len(tokens) and tokens[index] == word


def number_words() -> frozenset[str]:
    """Every word the quantity reader knows, for speech-engine vocabularies."""
    return NUMBER_WORDS | ARTICLES | frozenset(UNITS) | {"and", "of"}


_ONES_BY_VALUE = tuple(ONES)
_TENS_BY_VALUE = ("", "", *TENS)


def spell_number(number: int) -> str:
    """A whole number from 0 to 999,999 in English words, e.g. 21 -> "twenty one"."""
    if number < 0 or number >= 1_000_000:
        raise ValueError(f"{number} is outside 0..999,999 and cannot be spelled out")
    if number < 20:
        return _ONES_BY_VALUE[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS_BY_VALUE[tens] + (f" {_ONES_BY_VALUE[ones]}" if ones else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        head = f"{_ONES_BY_VALUE[hundreds]} hundred"
        return head + (f" {spell_number(rest)}" if rest else "")
    thousands, rest = divmod(number, 1000)
    return f"{spell_number(thousands)} thousand" + (f" {spell_number(rest)}" if rest else "")
