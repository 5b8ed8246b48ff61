"""Pickup or delivery, time and store phrases cut out of an utterance."""

from __future__ import annotations

import pytest

from catalog.logistics import Logistics, extract
from catalog.segment import clean, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a latte for pickup at 5 pm", Logistics(("a", "latte"), "pickup", "at 5 pm")),
        ("milk delivered tomorrow morning", Logistics(("milk",), "delivery", "tomorrow morning")),
        ("a latte to go in 10 minutes", Logistics(("a", "latte"), "pickup", "in 10 minutes")),
        (
            "a mocha from the main street store",
            Logistics(("a", "mocha"), store_query="main street"),
        ),
        ("two lattes", Logistics(("two", "lattes"))),
        ("a latte for two", Logistics(("a", "latte", "for", "two"))),
    ],
)
def test_extract(text: str, expected: Logistics) -> None:
    """Each phrase is recognised and removed; counts after "for" are not times."""
    assert extract(clean(words(text))) == expected
