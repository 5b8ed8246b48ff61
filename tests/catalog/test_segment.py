"""Transcript clean-up: words and pauses, fillers, stutters, self-corrections."""

from __future__ import annotations

import pytest

from catalog.numbers import NUMBER_WORDS
from catalog.segment import PAUSE, clean, split_corrections, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can I get a Latte?", "can i get a latte"),
        ("a 12oz. latte", "a 12 oz latte"),
        ("a 12-ounce latte", "a 12 ounce latte"),
        ("two 2% milks", "two 2% milks"),
        ("2 percent milk", "2% milk"),
        ("I’d like salt & vinegar chips", "id like salt and vinegar chips"),
        ("1.5 lbs at 5:30", "1.5 lbs at 5:30"),
        ("latte, large... please!", "latte , large , please"),
    ],
)
def test_words(text: str, expected: str) -> None:
    """Lower case, digits split from units, punctuation as one pause token."""
    assert " ".join(words(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("um can I get, uh, a latte", "can i get , a latte"),
        ("can I get, can I get a latte", "can i get a latte"),
        ("a a latte", "a latte"),
        ("so okay give me a mocha", "give me a mocha"),
        ("I'd like like two eggs", "id like two eggs"),
        ("a latte please thank you", "a latte"),
        ("half and half and cream", "half and half and cream"),
        ("okay", "okay"),
    ],
)
def test_clean(text: str, expected: str) -> None:
    """Fillers, politeness and stutters go; words that mean something stay."""
    assert " ".join(clean(words(text))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a latte, no, a mocha", ["a latte", "a mocha"]),
        ("a latte no a mocha", ["a latte", "a mocha"]),
        ("two lattes no three", ["two lattes", "three"]),
        ("a latte, actually, make it a mocha", ["a latte", "a mocha"]),
        ("a tall latte, I mean grande", ["a tall latte", "grande"]),
        ("a latte no whip", ["a latte no whip"]),
        ("a latte with no, sugar", ["a latte with no , sugar"]),
        ("actually, a latte", ["a latte"]),
        ("make that three", ["make that three"]),
    ],
)
def test_split_corrections(text: str, expected: list[str]) -> None:
    """Corrections cut the utterance; "no" before an option is a negation, not a cut."""
    chunks = split_corrections(clean(words(text)), numbers=NUMBER_WORDS)
    assert [" ".join(c) for c in chunks] == expected
    assert all(c and c[0] != PAUSE and c[-1] != PAUSE for c in chunks)
