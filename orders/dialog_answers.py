"""Answers in context: yes/no, which candidate, which store, what time, a PIN, a number.

These read the words of one turn against the question that was asked; the parser's Request
gives the intent, and the dialogue falls back on these for short answers ("the cheaper one").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from rapidfuzz import fuzz

from catalog.model import Product, Store
from catalog.request import Intent, Request
from catalog.text import normalize, words_to_numbers
from orders.dialog_words import Responses

POLITE = frozenset({"please", "thanks", "thank", "you", "ok", "okay", "um", "uh", "well", "oh"})
NAME_CUTOFF = 70.0
NAME_MARGIN = 10.0
STORE_WORDS = frozenset(
    [
        "the",
        "one",
        "on",
        "at",
        "in",
        "by",
        "store",
        "shop",
        "cafe",
        "location",
        "branch",
        "please",
        "that",
        "near",
        "over",
        "there",
    ]
)
PIN_FILLERS = frozenset(
    ["my", "pin", "is", "its", "it", "the", "code", "number", "please", "voice"]
)


def plain(text: str) -> str:
    """Normalised words without polite filler ("yes, please!" -> "yes")."""
    words = [w for w in normalize(text).split() if w not in POLITE]
    return " ".join(words) or normalize(text)


def says(text: str, phrases: Sequence[str]) -> bool:
    """Whether any of the phrases occurs in the text as whole words."""
    padded = f" {normalize(text)} "
    return any(f" {normalize(p)} " in padded for p in phrases if p)


def explicit_yes(request: Request, words: Responses) -> bool:
    """Only an explicit yes ("yes", "yeah, place my order", "sure, that's all") counts.

    The words must be yes phrases, with at most phrases that may go with a yes ("go ahead",
    "that's all") besides: "I guess" or "yes, and a latte" are no yes. A channel that sends
    a confirmation without words (Alexa's YesIntent) is explicit.
    """
    if not request.text.strip():
        return request.intent is Intent.CONFIRM
    return _made_of(plain(request.text), words.listed("explicit_yes"), words.listed("yes_also"))


def is_yes(request: Request, words: Responses) -> bool:
    """An explicit yes, or a turn the parser read as a confirmation."""
    return explicit_yes(request, words) or request.intent is Intent.CONFIRM


def is_no(request: Request, words: Responses) -> bool:
    """A no, a not-yet or a never-mind."""
    if request.intent in (Intent.DENY, Intent.CANCEL):
        return True
    return opens_with(request.text, words.listed("no"))


def opens_with(text: str, phrases: Sequence[str]) -> bool:
    """Whether the plain text is one of the phrases, or starts with one as whole words."""
    said = plain(text)
    return bool(said) and any(said == plain(p) or said.startswith(plain(p) + " ") for p in phrases)


def is_leaving(request: Request, words: Responses) -> bool:
    """ "Stop", "cancel that", "never mind, goodbye", "no, that's all": the shopper is done.

    A bare "no" is not: it answers the question and the shopper may go on shopping.
    """
    if request.intent is Intent.CANCEL:
        return True
    if request.items or request.unmatched or not request.text.strip():
        return False
    return _made_of(plain(request.text), words.listed("leaving"), words.listed("leaving_also"))


def _made_of(text: str, main: Sequence[str], also: Sequence[str]) -> bool:
    """Whether the words are all phrases of `main` or `also`, with at least one of `main`."""
    said = text.split()
    phrases = [(tuple(plain(p).split()), True) for p in main]
    phrases += [(tuple(plain(p).split()), False) for p in also]
    # reach[i]: whether said[:i] is covered, without (False) or with (True) a main phrase.
    reach: list[set[bool]] = [set() for _ in range(len(said) + 1)]
    reach[0].add(False)
    for i in range(len(said)):
        for phrase, is_main in phrases if reach[i] else ():
            if phrase and tuple(said[i : i + len(phrase)]) == phrase:
                reach[i + len(phrase)].update(seen or is_main for seen in reach[i])
    return True in reach[len(said)]


def spoken_label(products: Sequence[Product]) -> list[str]:
    """How to name each candidate: by brand when the brands tell them apart, else by name."""
    brands = [p.brand for p in products]
    if all(brands) and len(set(brands)) == len(brands):
        return brands
    return [p.name for p in products]


def pick_candidate(text: str, candidates: Sequence[Product], words: Responses) -> Product | None:
    """The candidate meant by "the first one", "the cheaper one" or a name; None if unclear."""
    for index, key in enumerate(("first", "second", "third")):
        if index < len(candidates) and says(text, words.ordinals.get(key, ())):
            return candidates[index]
    priced = [p for p in candidates if p.price is not None]
    if priced and says(text, words.listed("cheaper")):
        return min(priced, key=lambda p: p.price or 0)
    if priced and says(text, words.listed("pricier")):
        return max(priced, key=lambda p: p.price or 0)
    return _by_name(text, candidates)


def _by_name(text: str, candidates: Sequence[Product]) -> Product | None:
    said = plain(text)
    if not said:
        return None
    scored = sorted(((_name_score(said, p), i) for i, p in enumerate(candidates)), reverse=True)
    if not scored or scored[0][0] < NAME_CUTOFF:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < NAME_MARGIN:
        return None
    return candidates[scored[0][1]]


def _name_score(said: str, product: Product) -> float:
    names = (product.name, product.brand, *product.aliases)
    return max(fuzz.token_set_ratio(said, normalize(n)) for n in names if n)


def pick_store(
    text: str, stores: Sequence[Store], *, home: Store | None, words: Responses
) -> Store | None:
    """The store meant by "the one on Main Street", "my usual store" or its name; else None."""
    if home is not None and says(text, words.listed("home_store")):
        return home
    said = [w for w in normalize(text).split() if w not in STORE_WORDS]
    if not said:
        return None
    own = [set(normalize(f"{s.name} {s.address} {s.id.replace('-', ' ')}").split()) for s in stores]
    shared = set.intersection(*own) if own else set()
    scores = [
        sum(1 for w in said if any(fuzz.ratio(w, t) >= 85 for t in words_ - shared))
        for words_ in own
    ]
    best = max(scores, default=0)
    if best == 0 or scores.count(best) > 1:
        return None
    return stores[scores.index(best)]


@dataclass(frozen=True)
class PickupTime:
    """A pickup time answer: `at` is None for as soon as possible."""

    at: datetime | None


_MERIDIEM = (
    r"(am|pm|a m|p m|oclock|o clock|in the morning|in the afternoon|in the evening|at night"
    r"|tonight)"
)
_RELATIVE = re.compile(r"\bin (?:about |around )?(a|an|half an?|\d+) (minute|min|hour|hr)s?\b")
_CLOCK = re.compile(rf"\b(\d{{1,4}})(?: (\d{{2}}))?(?: {_MERIDIEM})?\b")
_TIME_WORDS = frozenset(
    ["at", "by", "around", "about", "for", "before", "after", "tomorrow", "today", "please"]
)
_NAMED = {"noon": time(12), "midday": time(12), "midnight": time(0)}


def parse_pickup_time(text: str, *, now: datetime, words: Responses) -> PickupTime | None:
    """Read "in 15 minutes", "at 8:30", "eight thirty pm", "noon", "as soon as possible".

    `now` is the store's local time (aware); a clock time without am/pm is the next one to
    come, tomorrow if both have passed today.
    """
    if says(text, words.listed("asap")):
        return PickupTime(None)
    tokens = _numbers(normalize(text).split())
    joined = " ".join(tokens)
    relative = _RELATIVE.search(joined)
    if relative is not None:
        count, unit = relative.groups()
        amount = 1.0 if count in ("a", "an") else 0.5 if count.startswith("half") else float(count)
        minutes = amount * (60 if unit.startswith("h") else 1)
        return PickupTime(now + timedelta(minutes=minutes))
    tomorrow = "tomorrow" in tokens
    for name, at in _NAMED.items():
        if name in tokens:
            return PickupTime(_next(now, [at], tomorrow=tomorrow))
    found = _CLOCK.search(joined)
    if found is None or not _looks_like_time(found, joined):
        return None
    return _clock_time(found, now, tomorrow=tomorrow)


def _looks_like_time(found: re.Match[str], text: str) -> bool:
    """A bare number is a time only after "at", "by"... or alone ("the one on ..." is not)."""
    digits, minutes, meridiem = found.groups()
    if minutes or meridiem or len(digits) >= 3:
        return True
    before = text[: found.start()].split()
    rest = before + text[found.end() :].split()
    return bool(before and before[-1] in _TIME_WORDS) or not [
        w for w in rest if w not in _TIME_WORDS
    ]


def _numbers(tokens: list[str]) -> list[str]:
    """Digits for number words; "eight oh five" -> 8 05; "8:30" is already 8 30."""
    merged = words_to_numbers(tokens)
    out: list[str] = []
    i = 0
    while i < len(merged):
        token = merged[i]
        following = merged[i + 1] if i + 1 < len(merged) else ""
        if token in ("oh", "o") and out and out[-1].isdigit() and len(following) == 1:
            out.append(f"0{following}" if following.isdigit() else token)
            i += 2 if following.isdigit() else 1
            continue
        out.append(token)
        i += 1
    return out


def _clock_time(found: re.Match[str], now: datetime, *, tomorrow: bool) -> PickupTime | None:
    digits, minute_text, meridiem = found.groups()
    if minute_text is None and len(digits) >= 3:
        digits, minute_text = digits[:-2], digits[-2:]
    hour, minute = int(digits), int(minute_text or 0)
    if hour > 23 or minute > 59:
        return None
    half = (meridiem or "").replace(" ", "")
    if half in ("pm", "intheafternoon", "intheevening", "atnight", "tonight") and hour < 12:
        options = [time(hour + 12, minute)]
    elif half in ("am", "inthemorning"):
        options = [time(hour % 12, minute)]
    elif hour == 0 or hour > 12:
        options = [time(hour, minute)]
    else:
        options = [time(hour % 12, minute), time(hour % 12 + 12, minute)]
    return PickupTime(_next(now, options, tomorrow=tomorrow))


def _next(now: datetime, options: Sequence[time], *, tomorrow: bool) -> datetime:
    """The first of the clock times still to come (tomorrow: the first sensible one)."""
    day = now.date() + timedelta(days=1 if tomorrow else 0)
    candidates = sorted(datetime.combine(day, t, tzinfo=now.tzinfo) for t in options)
    if tomorrow:
        sensible = [c for c in candidates if 6 <= c.hour <= 21]
        return (sensible or candidates)[0]
    for candidate in candidates:
        if candidate >= now - timedelta(minutes=1):
            return candidate
    return candidates[0] + timedelta(days=1)


def read_pin(text: str) -> str | None:
    """The digits of a spoken PIN ("one two three four", "12 34"), or None."""
    tokens = [t for t in normalize(text).split() if t not in PIN_FILLERS]
    tokens = ["0" if t in ("oh", "o", "zero") else t for t in tokens]
    digits = "".join(t for t in words_to_numbers(tokens) if t.isdigit())
    return digits if 3 <= len(digits) <= 12 else None


def read_count(text: str) -> int | None:
    """The first whole number in the text ("make that two" -> 2), or None."""
    for token in words_to_numbers(normalize(text).split()):
        if token.isdigit():
            return int(token)
        value = {"a": None, "couple": 2, "dozen": 12}.get(token)
        if value is not None:
            return value
    return None
