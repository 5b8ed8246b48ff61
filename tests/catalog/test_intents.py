"""Intent cue words, replies, and the words left for items."""

from __future__ import annotations

import pytest

from catalog.intents import cue_words, detect, strip_add_cues
from catalog.request import Intent, ReorderTarget
from catalog.segment import clean, words


def cue(text: str) -> Intent:
    """The intent detected for text."""
    return detect(clean(words(text))).intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("yes", Intent.CONFIRM),
        ("yeah sure", Intent.CONFIRM),
        ("no", Intent.DENY),
        ("nope, that's not right", Intent.DENY),
        ("no, that's all", Intent.CHECKOUT),
        ("cancel", Intent.CANCEL),
        ("cancel the latte", Intent.REMOVE_ITEMS),
        ("what time do you close", Intent.STORE_INFO),
        ("where is my order", Intent.ORDER_STATUS),
        ("empty my cart", Intent.CLEAR_CART),
        ("what's in my cart", Intent.READ_CART),
        ("same as last time", Intent.REORDER),
        ("make it three", Intent.SET_QUANTITY),
        ("make me two lattes", Intent.ADD_ITEMS),
        ("help", Intent.HELP),
        ("two lattes", Intent.ADD_ITEMS),
        ("never mind, goodbye", Intent.CANCEL),
        ("that's all, bye", Intent.CANCEL),
        ("ok see you later", Intent.CANCEL),
        ("good night", Intent.CANCEL),
        ("nothing else thanks", Intent.CHECKOUT),
        ("cancel my order", Intent.CANCEL),
    ],
)
def test_detect(text: str, intent: Intent) -> None:
    """Each cue picks its intent; plain item phrases default to add_items."""
    assert cue(text) is intent


def test_explicit_only_with_a_cue() -> None:
    """A bare phrase is add_items without a cue; a remove cue is explicit."""
    assert not detect(["two", "lattes"]).explicit
    assert detect(["remove", "the", "latte"]).explicit


def test_reorder_target() -> None:
    """ "usual" asks for the usual; other reorders are of the last order."""
    assert detect(clean(words("get me my usual"))).reorder is ReorderTarget.USUAL
    assert detect(clean(words("repeat my last order"))).reorder is ReorderTarget.LAST


def test_rest_keeps_the_item_words() -> None:
    """The cue goes, the product words stay for the item reader."""
    rest = detect(clean(words("remove the oat milk from my cart"))).rest
    assert [w for w in strip_add_cues(list(rest)) if w != ","] == ["the", "oat", "milk"]


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("can I get a latte", "a latte"),
        ("I'd like to order two mochas", "two mochas"),
        ("add eggs to my cart", "eggs"),
        ("give me a scone and also a latte", "a scone and a latte"),
    ],
)
def test_strip_add_cues(text: str, left: str) -> None:
    """Only the "I want this" words go."""
    assert " ".join(strip_add_cues(clean(words(text)))) == left


def test_cue_words_for_vocabularies() -> None:
    """The vocabulary holds cue words, without regex syntax."""
    vocabulary = cue_words()
    assert {"remove", "usual", "hours", "cart", "yes"} <= vocabulary
    assert all(w.isalpha() for w in vocabulary)


@pytest.mark.parametrize("text", ["a latte, bye", "bye the way a latte", "good coffee"])
def test_a_goodbye_is_the_whole_turn(text: str) -> None:
    """Farewell words end a turn only when nothing else is said."""
    assert cue(text) is not Intent.CANCEL
