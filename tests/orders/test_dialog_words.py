"""The response file and the speech formatting of the dialogue."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from catalog.model import Amount
from orders.dialog_reply import ReplyKind
from orders.dialog_words import LineWords, ResponsesMissing, load_responses

WORDS = load_responses("en")
# Kinds whose replies always name their own response key.
KEYED_ONLY = {ReplyKind.ERROR}


def test_every_reply_kind_has_a_response() -> None:
    missing = {kind.value for kind in ReplyKind if kind not in KEYED_ONLY} - set(WORDS.templates)
    assert not missing


@pytest.mark.parametrize("key", sorted(WORDS.templates))
def test_every_response_renders(key: str) -> None:
    speech, display = WORDS.templates[key]
    fields = {
        name
        for text in (speech, display)
        for _, name, _, _ in string.Formatter().parse(text)
        if name
    }
    rendered = WORDS.render(key, **dict.fromkeys(fields, "X"))
    assert all(part.strip() for part in rendered)
    assert "{" not in rendered[0]


def test_a_locale_falls_back_to_its_language() -> None:
    assert load_responses("en-US") == load_responses("en")
    with pytest.raises(ResponsesMissing, match="no responses for locale 'xx-YY' \\(have: en\\)"):
        load_responses("xx-YY")


def test_a_bare_yes_in_a_word_list_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text(
        "language: en\nresponses: {help: Hi}\nexplicit_yes: [yes, sure]\n", encoding="utf-8"
    )
    with pytest.raises(ResponsesMissing, match="quoted text"):
        load_responses("en", directory=tmp_path)


def test_an_unknown_reply_is_a_clear_error() -> None:
    with pytest.raises(ResponsesMissing, match="no reply 'nope'"):
        WORDS.render("nope")


@pytest.mark.parametrize(
    ("cents", "currency", "spoken", "shown"),
    [
        (1240, "USD", "12 dollars and 40 cents", "$12.40"),
        (100, "USD", "1 dollar", "$1.00"),
        (101, "USD", "1 dollar and 1 cent", "$1.01"),
        (500, "EUR", "5 euros", "€5.00"),
        (250, "XYZ", "2.50 XYZ", "2.50 XYZ"),
    ],
)
def test_money(cents: int, currency: str, spoken: str, shown: str) -> None:
    assert WORDS.money(cents, currency).startswith(spoken)
    assert WORDS.money_short(cents, currency) == shown


@pytest.mark.parametrize(
    ("words", "spoken"),
    [
        (LineWords("Latte", 1), "a Latte"),
        (LineWords("Espresso", 1), "an Espresso"),
        (LineWords("Latte", 2, ("Oat Milk",), ("Large",)), "2 Large Lattes with Oat Milk"),
        (LineWords("Sandwich", 3), "3 Sandwiches"),
        (LineWords("Berry", 2), "2 Berries"),
        (LineWords("Paper Towels", 1), "Paper Towels"),
        (LineWords("Paper Towels", 2), "2 Paper Towels"),
        (
            LineWords("Mocha", 1, ("Oat Milk", "extra Vanilla Syrup", "no Whip")),
            "a Mocha with Oat Milk, extra Vanilla Syrup and no Whip",
        ),
    ],
)
def test_lines_as_spoken(words: LineWords, spoken: str) -> None:
    assert WORDS.line(words) == spoken


def test_options_with_amounts() -> None:
    assert WORDS.option("Ice", Amount.LIGHT) == "light Ice"
    assert WORDS.option("Whipped Cream", Amount.NONE) == "no Whipped Cream"
    assert WORDS.option("Oat Milk", Amount.REGULAR) == "Oat Milk"


def test_lists_join_with_and_or_or() -> None:
    assert WORDS.join(["a"]) == "a"
    assert WORDS.join(["a", "b"], conjunction="or") == "a or b"
    assert WORDS.join(["a", "b", "c"]) == "a, b and c"
