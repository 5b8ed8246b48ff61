"""Shared text normalisation for spoken and catalog text: case, punctuation, numbers, plurals.

`normalize` and `tokens` are the stable entry points (the parser uses them too). `match_tokens`
builds the matcher's comparison key: spelled-out numbers become digits, a number and its unit
become one token ("twelve ounce" -> "12oz"), plurals fold to a stem, and stop words go.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from catalog.numbers import ONES, TENS, read_number

STOP_WORDS = frozenset({"a", "an", "the", "of", "and", "with", "w", "in", "or", "for", "to", "on"})
"""Grammar words without product meaning, dropped from both queries and catalog names."""

FILLER_WORDS = frozenset({
    "some", "any", "please", "ones", "one", "few", "couple", "bunch", "lot", "lots", "i", "id",
    "me", "my", "we", "us", "our", "you", "your", "want", "need", "get", "got", "give", "buy",
    "order", "add", "like", "would", "could", "can", "just", "also", "more", "another", "those",
    "these", "that", "this", "them", "it", "its", "thing", "things", "stuff", "kind", "sort",
    "type", "brand", "um", "uh", "uhm", "er", "hmm", "okay", "ok", "yeah", "hey", "thanks",
    "thank", "let", "lets", "have", "has", "maybe", "really", "actually",
})  # fmt: skip
"""Words a shopper wraps around a product ("the Bounty ones", "some of that"); weak evidence."""

CONTAINER_WORDS = frozenset({
    "pack", "packet", "bottle", "box", "can", "bag", "jar", "carton", "loaf", "tub", "tin",
    "case", "bar", "bunch", "container", "pouch", "package", "tube", "stick", "roll", "cup",
    "slice", "piece",
})  # fmt: skip
"""Containers that a shopper says before "of" ("a bottle of"), which the product name lacks."""

NUMBER_HOMOPHONES = {"to": "2", "too": "2", "for": "4", "fore": "4", "won": "1", "ate": "8"}
"""Words speech-to-text writes for a spoken number; read as the number only before a unit."""

UNITS = {
    "oz": "oz", "ounce": "oz", "ounces": "oz",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
    "g": "g", "gram": "g", "grams": "g", "kg": "kg", "kilo": "kg", "kilogram": "kg",
    "kilograms": "kg", "ml": "ml", "milliliter": "ml", "milliliters": "ml",
    "l": "l", "liter": "l", "liters": "l", "litre": "l", "litres": "l",
    "gal": "gal", "gallon": "gal", "gallons": "gal", "qt": "qt", "quart": "qt", "quarts": "qt",
    "pt": "pt", "pint": "pt", "pints": "pt", "ct": "ct", "count": "ct",
    "pk": "pk", "pack": "pk", "packs": "pk", "percent": "percent", "pct": "percent",
}  # fmt: skip
"""Spoken or written unit -> canonical unit; a number before it merges into one token."""

_FLUID = frozenset({"fl", "fluid"})

# Plurals whose singular is not the regular rule's output.
_IRREGULAR = {
    "leaves": "leaf", "loaves": "loaf", "halves": "half", "knives": "knife", "shelves": "shelf",
    "calves": "calf", "wolves": "wolf", "wives": "wife", "children": "child", "men": "man",
    "women": "woman", "feet": "foot", "teeth": "tooth", "mice": "mouse", "geese": "goose",
    "potatoes": "potato", "tomatoes": "tomato", "mangoes": "mango", "heroes": "hero",
}  # fmt: skip
_IE_PLURALS = frozenset({
    "cookies", "brownies", "pies", "smoothies", "veggies", "movies", "ties", "hoodies",
    "calories", "goodies", "sweeties", "birdies", "zombies", "rookies",
})  # fmt: skip
_KEEP_S = ("ss", "us", "is", "ous", "ics")

_WORD = re.compile(r"\d+(?:[.,/]\d+)*|[a-z]+")
_APOSTROPHES = re.compile(r"['’`´]")


def normalize(text: str) -> str:
    """Lowercase, strip accents and punctuation, spell out & and %; words joined by one space."""
    if text.isascii():
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = _APOSTROPHES.sub("", plain).replace("&", " and ").replace("%", " percent ")
    return " ".join(_number_commas(_WORD.findall(plain)))


def tokens(text: str) -> list[str]:
    """The words of `normalize(text)`; letters and digits are separate words ("7up" -> 7 up)."""
    return normalize(text).split()


def _number_commas(words: list[str]) -> list[str]:
    # "1,000" is a number; "2,3" from a list of sizes is two numbers, so split commas
    # unless they group thousands.
    if not any("," in word for word in words):
        return words
    out: list[str] = []
    for word in words:
        if "," in word and not re.fullmatch(r"\d{1,3}(,\d{3})+", word):
            out.extend(word.split(","))
        else:
            out.append(word.replace(",", ""))
    return out


def singular(word: str) -> str:
    """The singular of an English noun, by rule ("berries" -> "berry", "boxes" -> "box")."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_S):
        return word
    if word in _IE_PLURALS:
        return word[:-1]
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "zes", "sses")):
        return word[:-2]
    return word[:-1]


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The matcher's form of a word: singular, with a final -y/-ie folded ("cookie" ~ "cooky")."""
    if not word.isalpha():
        return word
    base = singular(word)
    if len(base) > 3 and base.endswith("ie"):
        return base[:-2] + "i"
    if len(base) > 3 and base.endswith("y") and base[-2] not in "aeiou":
        return base[:-1] + "i"
    return base


Said = tuple[str, str]
"""A word in matching form and the words actually said for it ("24", "twenty four")."""


def words_to_numbers(words: Sequence[str]) -> list[str]:
    """Replace spelled-out numbers with digits ("twenty four pack" -> "24 pack")."""
    return [word for word, _ in _numbered([(w, w) for w in words])]


def _numbered(said: Sequence[Said]) -> list[Said]:
    if not any(word in ONES or word in TENS for word, _ in said):
        return list(said)
    words = [word for word, _ in said]
    out: list[Said] = []
    i = 0
    while i < len(words):
        read = read_number(words, i) if words[i] in ONES or words[i] in TENS else None
        if read is None:
            out.append(said[i])
            i += 1
            continue
        value, end = read
        number = str(int(value)) if value == int(value) else str(value)
        out.append((number, " ".join(surface for _, surface in said[i:end])))
        i = end
    return out


def merge_units(words: Sequence[str]) -> list[str]:
    """Join a number and its unit into one token ("12", "fl", "oz" -> "12oz"; "2 percent")."""
    return [word for word, _ in _with_units([(w, w) for w in words])]


def _with_units(said: Sequence[Said]) -> list[Said]:
    if not any(word in UNITS for word, _ in said):
        return list(said)
    out: list[Said] = []
    i = 0
    while i < len(said):
        word = said[i][0]
        number = word if word[:1].isdigit() else NUMBER_HOMOPHONES.get(word)
        if number is not None:
            j = i + 1
            if j < len(said) and said[j][0] in _FLUID:
                j += 1
            if j < len(said) and said[j][0] in UNITS:
                surface = " ".join(surface for _, surface in said[i : j + 1])
                out.append((number + UNITS[said[j][0]], surface))
                i = j + 1
                continue
        out.append(said[i])
        i += 1
    return out


def drop_containers(words: Sequence[str]) -> list[str]:
    """Drop "<container or unit> of" ("a bottle of ketchup" -> "a ketchup"); names keep them."""
    return [word for word, _ in _without_containers([(w, w) for w in words])]


def _without_containers(said: Sequence[Said]) -> list[Said]:
    out: list[Said] = []
    i = 0
    while i < len(said):
        word = said[i][0]
        measure = singular(word) in CONTAINER_WORDS or word in UNITS
        if measure and i + 1 < len(said) and said[i + 1][0] == "of":
            i += 2
            continue
        out.append(said[i])
        i += 1
    return out


def match_words(text: str, *, spoken: bool = False, stop_words: bool = False) -> list[Said]:
    """(key, surface) pairs for `match_tokens`: the key compares, the surface is what was said.

    `stop_words` keeps them (for joining misheard pieces: "bake on" may be "bacon").
    """
    said = _with_units(_numbered([(word, word) for word in tokens(text)]))
    if spoken:
        said = _without_containers(said)
    return [(stem(word), surface) for word, surface in said if stop_words or word not in STOP_WORDS]


def match_tokens(text: str, *, spoken: bool = False) -> list[str]:
    """The matcher's key for a name or a query: numbers, units, stems, without stop words.

    `spoken` marks a shopper's words, where "a bottle of" is packaging, not the product.
    """
    return [key for key, _ in match_words(text, spoken=spoken)]


FILLER_STEMS = frozenset(stem(word) for word in FILLER_WORDS)
"""FILLER_WORDS in matching form ("ones" -> "one")."""
