"""Shared text normalisation: case, accents, punctuation, numbers, units, plurals, fillers."""

from __future__ import annotations

import pytest

from catalog.text import (
    drop_containers,
    match_tokens,
    match_words,
    merge_units,
    normalize,
    singular,
    stem,
    tokens,
    words_to_numbers,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ben & Jerry's Cookie-Dough!", "ben and jerrys cookie dough"),
        ("Café  Crème BRÛLÉE", "cafe creme brulee"),
        ("2% Milk", "2 percent milk"),
        ("7UP, V8 and 140ct", "7 up v 8 and 140 ct"),
        ("1,000 calories; sizes 2,3", "1000 calories sizes 2 3"),
        ("2.5 lb  bag", "2.5 lb bag"),
        ("Aca+¡ Kefir", "aca kefir"),
        ("", ""),
        ("?!", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_tokens_split_normalised_words() -> None:
    assert tokens("Hershey's Milk-Chocolate 12oz") == ["hersheys", "milk", "chocolate", "12", "oz"]
    assert tokens("   ") == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("bananas", "banana"),
        ("berries", "berry"),
        ("boxes", "box"),
        ("peaches", "peach"),
        ("tomatoes", "tomato"),
        ("loaves", "loaf"),
        ("cookies", "cookie"),
        ("olives", "olive"),
        ("hummus", "hummus"),
        ("swiss", "swiss"),
        ("asparagus", "asparagus"),
        ("oats", "oat"),
        ("gas", "gas"),
        ("milk", "milk"),
    ],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


def test_stem_folds_plural_and_y_ie_spellings_together() -> None:
    assert stem("cookies") == stem("cookie") == stem("cooky")
    assert stem("berries") == stem("berry")
    assert stem("brownies") == stem("brownie")
    assert stem("12oz") == "12oz"
    assert stem("soy") == "soy"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("twenty four pack", "24 pack"),
        ("one hundred and five", "105"),
        ("two and a half pounds", "2.5 pounds"),
        ("a dozen eggs", "a dozen eggs"),
        ("two dozen eggs", "24 eggs"),
        ("ten two", "10 2"),
        ("no numbers here", "no numbers here"),
    ],
)
def test_words_to_numbers(words: str, expected: str) -> None:
    assert " ".join(words_to_numbers(words.split())) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("12 fl oz can", "12oz can"),
        ("16 ounces", "16oz"),
        ("2 percent milk", "2percent milk"),
        ("to percent milk", "2percent milk"),
        ("for pack", "4pk"),
        ("go to the store", "go to the store"),
        ("3 lbs", "3lb"),
        ("size 4", "size 4"),
    ],
)
def test_merge_units(words: str, expected: str) -> None:
    assert " ".join(merge_units(words.split())) == expected


def test_drop_containers_only_before_of() -> None:
    assert drop_containers(["a", "bottle", "of", "ketchup"]) == ["a", "ketchup"]
    assert drop_containers(["two", "boxes", "of", "cookies"]) == ["two", "cookies"]
    assert drop_containers(["a", "gallon", "of", "milk"]) == ["a", "milk"]
    assert drop_containers(["water", "bottle"]) == ["water", "bottle"]


def test_match_tokens_spoken_and_written_agree() -> None:
    assert match_tokens("Organic 2% Reduced Fat Milk") == [
        "organic",
        "2percent",
        "reduced",
        "fat",
        "milk",
    ]
    spoken = match_tokens("a carton of organic two percent reduced fat milks", spoken=True)
    assert spoken == match_tokens("Organic 2% Reduced Fat Milk")
    assert match_tokens("Twelve Ounce") == match_tokens("12 oz") == ["12oz"]
    assert match_tokens("the Bounty ones") == ["bounti", "one"]


def test_match_words_keep_what_was_said() -> None:
    assert match_words("twenty four pack of Coke", spoken=True) == [
        ("24pk", "twenty four pack"),
        ("coke", "coke"),
    ]
    with_stops = match_words("turkey bake on", spoken=True, stop_words=True)
    assert with_stops == [("turkey", "turkey"), ("bake", "bake"), ("on", "on")]
    assert match_words("turkey bake on", spoken=True) == [("turkey", "turkey"), ("bake", "bake")]
