"""Answers read in context: yes/no, candidates, stores, pickup times, PINs, counts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from catalog.model import Product, Store
from catalog.request import Intent, Request
from orders.dialog_answers import (
    explicit_yes,
    is_leaving,
    is_no,
    parse_pickup_time,
    pick_candidate,
    pick_store,
    read_count,
    read_pin,
    spoken_label,
)
from orders.dialog_words import load_responses

WORDS = load_responses("en")
ZONE = ZoneInfo("America/Vancouver")
NOW = datetime(2025, 3, 4, 10, 0, tzinfo=ZONE)
BOUNTY = Product("bounty", "Paper Towels", 899, brand="Bounty")
VIVA = Product("viva", "Paper Towels", 799, brand="Viva")
MAIN = Store("main", "Bench Coffee Main Street", address="12 Main Street, Vancouver")
HARBOR = Store("harbor", "Bench Coffee Harbor Avenue", address="400 Harbor Avenue, Vancouver")


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes, please!",
        "yeah",
        "place it",
        "sure",
        "Sure thing.",
        "yes place it",
        "yes please, place the order",
        "yes, go ahead",
        "yeah place my order",
        "sure, that's all",
        "go ahead",
        "Yes. Yes, that's it.",
    ],
)
def test_explicit_yes(text: str) -> None:
    assert explicit_yes(Request(Intent.CONFIRM, text=text), WORDS)


@pytest.mark.parametrize(
    "text",
    [
        "uh huh",
        "ok",
        "I guess",
        "fine",
        "yes and a latte",
        "maybe",
        "that's all",
        "go ahead and wait",
        "yeah no",
        "yes but not yet",
        "sure, not yet",
    ],
)
def test_not_an_explicit_yes(text: str) -> None:
    assert not explicit_yes(Request(Intent.CONFIRM, text=text), WORDS)


def test_a_yes_intent_without_words_is_explicit() -> None:
    # Alexa's AMAZON.YesIntent arrives as an intent, without the shopper's words.
    assert explicit_yes(Request(Intent.CONFIRM), WORDS)
    assert not explicit_yes(Request(Intent.UNKNOWN), WORDS)


@pytest.mark.parametrize("text", ["no", "No thanks", "not yet", "neither", "nope, wait"])
def test_no(text: str) -> None:
    assert is_no(Request(Intent.UNKNOWN, text=text), WORDS)


@pytest.mark.parametrize(
    "text", ["never mind, goodbye", "that's all, bye", "nothing else thanks", "no, that's all"]
)
def test_leaving(text: str) -> None:
    assert is_leaving(Request(Intent.UNKNOWN, text=text), WORDS)


@pytest.mark.parametrize("text", ["no", "no thanks", "not yet", "wait", "nothing else matters"])
def test_not_leaving(text: str) -> None:
    assert not is_leaving(Request(Intent.UNKNOWN, text=text), WORDS)


def test_a_cancel_is_leaving_and_items_are_not() -> None:
    assert is_leaving(Request(Intent.CANCEL), WORDS)
    assert not is_leaving(Request(Intent.CHECKOUT, text="that's all", unmatched=("x",)), WORDS)


def test_cancel_and_deny_intents_are_a_no() -> None:
    assert is_no(Request(Intent.CANCEL), WORDS)
    assert is_no(Request(Intent.DENY), WORDS)
    assert not is_no(Request(Intent.UNKNOWN, text="nothing else matters"), WORDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bounty", "bounty"),
        ("the viva ones", "viva"),
        ("the first one", "bounty"),
        ("second", "viva"),
        ("the cheaper one", "viva"),
        ("the more expensive one", "bounty"),
        ("paper towels", None),
        ("whatever", None),
    ],
)
def test_pick_candidate(text: str, expected: str | None) -> None:
    chosen = pick_candidate(text, [BOUNTY, VIVA], WORDS)
    assert (chosen.id if chosen else None) == expected


def test_candidates_are_named_by_brand_when_that_tells_them_apart() -> None:
    assert spoken_label([BOUNTY, VIVA]) == ["Bounty", "Viva"]
    same = Product("b2", "Kitchen Towels", 500, brand="Bounty")
    assert spoken_label([BOUNTY, same]) == ["Paper Towels", "Kitchen Towels"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the one on Main Street", "main"),
        ("harbor", "harbor"),
        ("Harbour Avenue please", "harbor"),
        ("my usual store", "main"),
        ("bench coffee", None),
        ("downtown", None),
    ],
)
def test_pick_store(text: str, expected: str | None) -> None:
    store = pick_store(text, [MAIN, HARBOR], home=MAIN, words=WORDS)
    assert (store.id if store else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 15 minutes", "2025-03-04 10:15"),
        ("in fifteen minutes", "2025-03-04 10:15"),
        ("in half an hour", "2025-03-04 10:30"),
        ("in an hour", "2025-03-04 11:00"),
        ("at 10:30", "2025-03-04 10:30"),
        ("at 8:30", "2025-03-04 20:30"),
        ("at eight thirty", "2025-03-04 20:30"),
        ("at 8:30 am", "2025-03-05 08:30"),
        ("eight oh five pm", "2025-03-04 20:05"),
        ("830", "2025-03-04 20:30"),
        ("at 11", "2025-03-04 11:00"),
        ("noon", "2025-03-04 12:00"),
        ("tomorrow at 8", "2025-03-05 08:00"),
        ("at 17:45", "2025-03-04 17:45"),
    ],
)
def test_pickup_times(text: str, expected: str) -> None:
    found = parse_pickup_time(text, now=NOW, words=WORDS)
    assert found is not None
    assert found.at is not None
    assert found.at.tzinfo is ZONE
    assert found.at.strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize("text", ["as soon as possible", "asap", "right now", "whenever"])
def test_as_soon_as_possible(text: str) -> None:
    found = parse_pickup_time(text, now=NOW, words=WORDS)
    assert found is not None
    assert found.at is None


@pytest.mark.parametrize("text", ["blue", "at 25:00", "the one on main street", ""])
def test_no_time(text: str) -> None:
    assert parse_pickup_time(text, now=NOW, words=WORDS) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one two three four", "1234"),
        ("my pin is 1234", "1234"),
        ("twelve thirty four", "1234"),
        ("oh four oh four", "0404"),
        ("four", None),
        ("banana", None),
    ],
)
def test_read_pin(text: str, expected: str | None) -> None:
    assert read_pin(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("make that two", 2), ("make it 3 please", 3), ("a dozen", 12), ("make it so", None)],
)
def test_read_count(text: str, expected: int | None) -> None:
    assert read_count(text) == expected
