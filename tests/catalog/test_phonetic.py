"""Typo-tolerant and sound-alike word lookup: keys, edit budgets and what similar() finds."""

from __future__ import annotations

import pytest

from catalog.phonetic import How, Vocabulary, deletions, loose_key, max_edits, phonetic_key

WORDS = [
    "bounty", "county", "paper", "towel", "cereal", "chocolate", "flour", "flower", "medjool",
    "oat", "milk", "banana", "popcorn", "12oz", "gluten",
]  # fmt: skip


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    """A few catalog words with look-alikes among them."""
    return Vocabulary(WORDS)


def found(vocabulary: Vocabulary, word: str, **options: bool) -> dict[str, tuple[float, How]]:
    """similar() as word -> (similarity, how)."""
    return {
        vocabulary.words[s.word_id]: (s.similarity, s.how)
        for s in vocabulary.similar(word, **options)
    }


def test_keys() -> None:
    assert phonetic_key("bounty") == "BNT"
    assert phonetic_key("12oz") == ""
    assert loose_key("FLWR") == loose_key("FLR") == "FLR"
    assert loose_key("0M") == "TM"
    assert loose_key("SSRS") == "SRS"


def test_edit_budget_grows_with_length() -> None:
    assert [max_edits(w) for w in ("an", "oat", "county", "chocolate", "12oz")] == [0, 1, 1, 2, 0]


def test_deletions() -> None:
    assert deletions("oat", 1) == {"oat", "at", "ot", "oa"}
    assert deletions("oat", 0) == {"oat"}
    assert "o" in deletions("oat", 2)


def test_exact_word_comes_first_at_full_similarity(vocabulary: Vocabulary) -> None:
    similar = vocabulary.similar("county")
    assert vocabulary.words[similar[0].word_id] == "county"
    assert similar[0].similarity == 1.0
    assert similar[0].how is How.EXACT
    assert all(s.similarity < 1.0 for s in similar[1:])


def test_typo_sound_and_prefix(vocabulary: Vocabulary) -> None:
    county = found(vocabulary, "county")
    assert county["bounty"][1] is How.TYPO
    assert 0.7 < county["bounty"][0] < 1.0
    assert found(vocabulary, "serial")["cereal"][1] is How.PHONETIC
    assert found(vocabulary, "flower")["flour"][1] is How.PHONETIC
    assert found(vocabulary, "choc")["chocolate"][1] is How.PREFIX
    assert found(vocabulary, "bananna")["banana"][0] > 0.8


def test_far_sounds_only_for_words_the_catalog_lacks(vocabulary: Vocabulary) -> None:
    assert "medjool" in found(vocabulary, "majool")
    assert found(vocabulary, "quantum") == {}


def test_exact_only_and_numbers(vocabulary: Vocabulary) -> None:
    assert found(vocabulary, "county", fuzzy=False) == {"county": (1.0, How.EXACT)}
    assert found(vocabulary, "12oz") == {"12oz": (1.0, How.EXACT)}
    assert found(vocabulary, "16oz") == {}


def test_joined_words_must_be_spelled_nearly_in_full(vocabulary: Vocabulary) -> None:
    assert found(vocabulary, "popcorn", joined=True)["popcorn"][1] is How.EXACT
    assert "gluten" in found(vocabulary, "glueten", joined=True)
    assert found(vocabulary, "oatmilkk", joined=True) == {}


def test_lookups_are_cached(vocabulary: Vocabulary) -> None:
    assert vocabulary.similar("towl") is vocabulary.similar("towl")
    assert len(vocabulary) == len(WORDS)
