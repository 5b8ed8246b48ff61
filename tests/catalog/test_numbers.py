"""Spoken quantities: number words, digits, group words, halves and units."""

from __future__ import annotations

import pytest

from catalog.numbers import (
    Quantity,
    number_words,
    read_number,
    read_quantity,
    spell_number,
    word_value,
)


@pytest.mark.parametrize(
    ("text", "value", "unit", "end"),
    [
        ("two oat milks", 2, None, 1),
        ("a latte", 1, None, 1),
        ("an apple", 1, None, 1),
        ("twenty two cans of tuna", 22, "can", 4),
        ("22 cans of tuna", 22, "can", 3),
        ("1.5 lbs of apples", 1.5, "pound", 3),
        ("one and a half pounds of beef", 1.5, "pound", 6),
        ("a pound and a half of beef", 1.5, "pound", 6),
        ("half a gallon of milk", 0.5, "gallon", 4),
        ("a half gallon of milk", 0.5, "gallon", 4),
        ("a couple of avocados", 2, None, 3),
        ("a couple avocados", 2, None, 2),
        ("a pair of socks", 2, None, 3),
        ("a dozen eggs", 12, None, 2),
        ("two dozen eggs", 24, None, 2),
        ("half a dozen eggs", 6, None, 3),
        ("one hundred and five napkins", 105, None, 4),
        ("three bags of chips", 3, "bag", 3),
        ("8 ounces of cheese", 8, "ounce", 3),
        ("a loaf of bread", 1, "loaf", 3),
    ],
)
def test_read_quantity(text: str, value: float, unit: str | None, end: int) -> None:
    """The value, the canonical unit and where the item words start."""
    assert read_quantity(text.split()) == Quantity(value, unit, 0, end)


@pytest.mark.parametrize("text", ["latte", "12 ounce latte", "twelve oz latte", "some milk", ""])
def test_no_quantity(text: str) -> None:
    """No number, or ounces that are a drink size rather than a unit of the item."""
    assert read_quantity(text.split()) is None


def test_read_quantity_from_an_offset() -> None:
    """Reading can start anywhere; the span says where it was."""
    assert read_quantity(["add", "two", "limes"], 1) == Quantity(2, None, 1, 2)


def test_word_value() -> None:
    """Single tokens: digits, words, nothing else."""
    assert [word_value(t) for t in ("7", "seven", "1.5", "seventy", "a", "x")] == [
        7,
        7,
        1.5,
        70,
        None,
        None,
    ]


def test_read_number_stops_before_other_words() -> None:
    """The end index is just past the number."""
    assert read_number(["thirty", "one", "flavors"], 0) == (31, 2)
    assert read_number(["flavors"], 0) is None


def test_number_words_for_vocabularies() -> None:
    """The vocabulary has number, group and unit words."""
    assert {"twelve", "dozen", "couple", "half", "pounds", "gallon"} <= number_words()


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (12, "twelve"),
        (20, "twenty"),
        (21, "twenty one"),
        (100, "one hundred"),
        (305, "three hundred five"),
        (12_016, "twelve thousand sixteen"),
        (999_999, "nine hundred ninety nine thousand nine hundred ninety nine"),
    ],
)
def test_spell_number_reads_back_as_the_same_number(number: int, words: str) -> None:
    assert spell_number(number) == words
    if number < 1000:  # the parser reads quantities, which stop below a thousand
        assert read_number(words.split(), 0) == (number, len(words.split()))


@pytest.mark.parametrize("number", [-1, 1_000_000])
def test_spell_number_refuses_numbers_outside_its_range(number: int) -> None:
    with pytest.raises(ValueError, match="cannot be spelled out"):
        spell_number(number)
