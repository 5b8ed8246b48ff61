"""The dialogue's wording: replies from orders/responses/<locale>.yaml, and speech formatting."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from catalog.model import Amount
from orders.errors import VoiceCartError

RESPONSES_DIR = Path(__file__).resolve().parent / "responses"


class ResponsesMissing(VoiceCartError):  # noqa: N818  (named for what happened, as in errors.py)
    """No response file for a locale, or one without a reply the dialogue needs."""

    status_code = 500


@dataclass(frozen=True)
class LineWords:
    """What is said about one line: product name, quantity and its options' words."""

    name: str
    quantity: int
    options: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    """Options said before the name ("a Large Latte"), such as the size."""


@dataclass(frozen=True)
class Responses:
    """One locale's replies, phrases and the answer words the dialogue recognises."""

    language: str
    templates: Mapping[str, tuple[str, str]]
    phrases: Mapping[str, str]
    statuses: Mapping[str, str]
    currencies: Mapping[str, Mapping[str, str]]
    words: Mapping[str, tuple[str, ...]]
    ordinals: Mapping[str, tuple[str, ...]]

    def render(self, key: str, **fields: object) -> tuple[str, str]:
        """(speech, display) of the reply `key` with its fields filled in."""
        try:
            speech, display = self.templates[key]
        except KeyError:
            raise ResponsesMissing(f"no reply {key!r} for language {self.language!r}") from None
        return speech.format_map(fields), display.format_map(fields)

    def phrase(self, key: str, **fields: object) -> str:
        """A phrase such as "and" or "at about {time}", filled in."""
        try:
            return self.phrases[key].format_map(fields)
        except KeyError:
            raise ResponsesMissing(f"no phrase {key!r} for language {self.language!r}") from None

    def listed(self, key: str) -> tuple[str, ...]:
        """A word list such as explicit_yes or cheaper."""
        try:
            return self.words[key]
        except KeyError:
            raise ResponsesMissing(f"no word list {key!r} for language {self.language!r}") from None

    def join(self, parts: Sequence[str], *, conjunction: str = "and") -> str:
        """ "a", "a and b", "a, b and c" (with this locale's "and" or "or")."""
        word = self.phrase(conjunction)
        if len(parts) <= 1:
            return "".join(parts)
        return f"{', '.join(parts[:-1])} {word} {parts[-1]}"

    def money(self, cents: int, currency: str) -> str:
        """An amount as spoken: "12 dollars and 40 cents"."""
        names = self.currencies.get(currency)
        major, minor = divmod(abs(cents), 100)
        sign = "minus " if cents < 0 else ""
        if names is None:
            return f"{sign}{major}.{minor:02d} {currency}" if minor else f"{sign}{major} {currency}"
        unit = names.get("one" if major == 1 else "many", currency)
        cent = names.get("cent" if minor == 1 else "cents", "")
        key = "money_whole" if minor == 0 else "money"
        return sign + self.phrase(key, major=major, unit=unit, minor=minor, cents=cent)

    def money_short(self, cents: int, currency: str) -> str:
        """An amount for display: "$12.40"."""
        symbol = self.currencies.get(currency, {}).get("symbol")
        amount = f"{abs(cents) // 100}.{abs(cents) % 100:02d}"
        text = f"{symbol}{amount}" if symbol else f"{amount} {currency}"
        return f"-{text}" if cents < 0 else text

    def line(self, words: LineWords) -> str:
        """One line as spoken: "2 Caffè Lattes with Oat Milk and extra Vanilla Syrup"."""
        name = " ".join((*words.before, words.name))
        if words.quantity == 1:
            article = self._article(name, plural=_looks_plural(words.name))
            head = f"{article} {name}".strip()
        else:
            head = f"{words.quantity} {self._plural(name)}"
        if not words.options:
            return head
        return f"{head} {self.phrase('with')} {self.join(list(words.options))}"

    def line_short(self, words: LineWords) -> str:
        """One line for display: "2 × Caffè Latte"."""
        return f"{words.quantity} × {words.name}"

    def option(self, name: str, amount: Amount) -> str:
        """An option as spoken, with its amount: "extra Vanilla Syrup", "no Whipped Cream"."""
        if amount is Amount.REGULAR:
            return name
        return f"{self.phrase(amount.value)} {name}"

    def clock(self, at: datetime) -> str:
        """A local time as spoken and shown: "8:30 AM"."""
        hour = at.hour % 12 or 12
        return f"{hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"

    def _article(self, name: str, *, plural: bool) -> str:
        if plural and self.language == "en":
            return ""
        if self.language != "en":
            return self.phrase("a")
        return self.phrase("an" if name[:1].lower() in "aeiou" else "a")

    def _plural(self, name: str) -> str:
        if self.language != "en" or not name or _looks_plural(name):
            return name
        if re.search(r"(?:s|x|z|ch|sh)$", name, flags=re.IGNORECASE):
            return name + "es"
        if re.search(r"[^aeiou]y$", name, flags=re.IGNORECASE):
            return name[:-1] + "ies"
        return name + "s"


def _looks_plural(name: str) -> bool:
    """ "Paper Towels" is already plural (English names only)."""
    last = name.rsplit(maxsplit=1)[-1].lower() if name.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _template(key: str, value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        return value, value
    if isinstance(value, dict) and isinstance(value.get("speech"), str):
        return value["speech"], str(value.get("display", value["speech"]))
    raise ResponsesMissing(f"reply {key!r} must be a text or a mapping with speech and display")


def _strings(value: Any) -> tuple[str, ...]:
    items = tuple(value or ())
    if not all(isinstance(item, str) for item in items):
        # A bare yes/no/on/off in YAML is a boolean, which would silently never match.
        raise ResponsesMissing(f"word lists must hold quoted text, got {items!r}")
    return items


@lru_cache(maxsize=8)
def load_responses(locale: str = "en", *, directory: Path = RESPONSES_DIR) -> Responses:
    """The responses for a locale ("en-US" falls back to "en"), read once per process."""
    tag = locale.replace("_", "-")
    for name in (tag, tag.split("-")[0]):
        path = directory / f"{name}.yaml"
        if path.is_file():
            break
    else:
        found = ", ".join(sorted(p.stem for p in directory.glob("*.yaml")))
        raise ResponsesMissing(f"no responses for locale {locale!r} (have: {found})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    lists = (
        *("explicit_yes", "yes_also", "no", "leaving", "leaving_also"),
        *("cheaper", "pricier", "asap", "home_store", "another", "decline"),
    )
    return Responses(
        language=str(data.get("language", name)),
        templates={key: _template(key, value) for key, value in data["responses"].items()},
        phrases={key: str(value) for key, value in data.get("phrases", {}).items()},
        statuses={key: str(value) for key, value in data.get("statuses", {}).items()},
        currencies={k: dict(v) for k, v in data.get("currencies", {}).items()},
        words={key: _strings(data.get(key)) for key in (*lists, "how_much", "last_thing")},
        ordinals={key: _strings(value) for key, value in data.get("ordinals", {}).items()},
    )
