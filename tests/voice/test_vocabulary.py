"""The vocabulary built from a catalog for biasing the speech engines."""

from __future__ import annotations

import pytest

from tests.voice.conftest import small_catalog
from voice.vocabulary import (
    NUMBER_WORDS,
    Vocabulary,
    menu_prompt,
    normalise,
    spell_number,
    vocabulary_from_catalog,
)


def test_catalog_names_aliases_options_numbers_and_commands() -> None:
    vocabulary = vocabulary_from_catalog(small_catalog(), command_words=["Reorder", "checkout"])
    phrases = set(vocabulary.phrases)
    assert {"latte", "oat milk", "oat milks", "paper towels", "kitchen roll"} <= phrases
    assert {"grande", "extra shot", "oat"} <= phrases
    assert {"reorder", "checkout"} <= phrases
    assert set(NUMBER_WORDS) <= phrases
    assert len(vocabulary.phrases) == len(phrases)  # no duplicates ("oat milk" is in twice)
    assert "towels" in vocabulary.words
    assert len(vocabulary.words) == len(set(vocabulary.words))


def test_the_prompt_lists_menu_words_in_lower_case() -> None:
    prompt = vocabulary_from_catalog(small_catalog()).prompt
    assert prompt == "Latte, oat milk, paper towels, grande, extra shot."


def test_the_prompt_is_cut_at_whole_items() -> None:
    items = [f"product number {i}" for i in range(200)]
    prompt = menu_prompt(items, max_chars=100)
    assert len(prompt) <= 100
    assert prompt.endswith("product number 4.")
    assert menu_prompt([]) == ""
    assert menu_prompt(["", "  "]) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Half & Half", "half and half"),
        ("2% Milk", "two percent milk"),
        ("12 oz", "twelve oz"),
        (
            "Ben & Jerry's Ice-Cream 473ml",
            "ben and jerry's ice cream four hundred seventy three ml",
        ),
        ("  Sugar-Free   Vanilla ", "sugar free vanilla"),
        ("pâté", "pâté"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (42, "forty two"),
        (100, "one hundred"),
        (250, "two hundred fifty"),
        (1_005, "one thousand five"),
        (12_345, "twelve thousand three hundred forty five"),
        (1_000_000, "one zero zero zero zero zero zero"),
    ],
)
def test_spell_number(number: int, words: str) -> None:
    assert spell_number(number) == words


def test_an_empty_vocabulary_is_falsy() -> None:
    assert not Vocabulary(phrases=())
    assert Vocabulary(phrases=("latte",))
