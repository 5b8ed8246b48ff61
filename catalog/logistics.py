"""Pickup or delivery, a pickup time and a store, said around the items ("for pickup at 5")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_HOUR = r"(?:\d{1,2}(?::\d{2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_MINUTES = r"(?:thirty|fifteen|forty five|forty-five|o five|oh five|\d{2})"
_COUNT = r"(?:\d+|a|an|one|two|three|five|ten|fifteen|twenty|thirty|forty five|half an)"

PATTERNS = {
    "fulfilment_pickup": (
        r"\b(?:for |as a |as )?(?:pick ?up|to pick up|collection|to go|take ?away|carry ?out)\b"
    ),
    "fulfilment_delivery": r"\b(?:for |as a |as )?(?:delivery|delivered|deliver it|to deliver)\b",
    "time": r"\b(?:"
    + "|".join(
        (
            rf"(?:at|by|around|for|before|after) (?:about )?{_HOUR}(?: {_MINUTES})?"
            r" ?(?:am|pm|a m|p m|oclock|o clock|in the morning|in the evening|tonight)",
            rf"(?:at|by|around|before|after) (?:about )?{_HOUR}(?: {_MINUTES})?",
            r"(?:at |by |around )?(?:noon|midnight)",
            rf"in (?:about )?{_COUNT} (?:minutes?|mins?|hours?)",
            r"(?:tomorrow|tonight|this (?:morning|afternoon|evening)|asap|as soon as possible"
            r"|right now|later today)(?: (?:morning|afternoon|evening))?",
        )
    )
    + r")\b",
    "store": (
        r"\b(?:at|from) (?:the |your )?((?:[a-z0-9]+ ){0,3}?[a-z0-9]+)"
        r" (?:store|location|branch|shop|cafe)\b"
    ),
}


@dataclass(frozen=True)
class Logistics:
    """What was said about fulfilment, time and store, and the tokens left for items."""

    rest: tuple[str, ...]
    fulfilment: str | None = None
    time_query: str | None = None
    store_query: str | None = None


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    """The patterns, compiled once."""
    return {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


def extract(tokens: Sequence[str]) -> Logistics:
    """Find and cut out "for pickup", "at 5 pm", "at the downtown store"."""
    text = " ".join(tokens)
    found: dict[str, str] = {}
    for name, pattern in _compiled().items():
        match = pattern.search(text)
        if match is None:
            continue
        found[name] = match.group(1) if match.groups() else match.group(0)
        text = text[: match.start()] + " " + text[match.end() :]
    fulfilment = "pickup" if "fulfilment_pickup" in found else None
    if "fulfilment_delivery" in found:
        fulfilment = "delivery"
    return Logistics(
        rest=tuple(text.split()),
        fulfilment=fulfilment,
        time_query=found.get("time"),
        store_query=found.get("store"),
    )
