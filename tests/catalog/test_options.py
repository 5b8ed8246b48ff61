"""Option phrases over option groups built here: choices, amounts, shared words."""

from __future__ import annotations

import pytest

from catalog.model import Amount, Choice, OptionGroup
from catalog.options import assign, find_mentions, read_options
from catalog.request import OptionValue
from catalog.segment import clean, words
from tests.catalog.test_option_counts import TRIPLE

SIZE = OptionGroup(
    "size",
    "Size",
    (
        Choice("small", "Small", ("8 oz",)),
        Choice("medium", "Medium", ("12 oz", "twelve ounce")),
        Choice("large", "Large"),
    ),
)
ROAST = OptionGroup(
    "roast",
    "Roast",
    (
        Choice("light", "Light Roast"),
        Choice("medium", "Medium Roast"),
        Choice("dark", "Dark Roast"),
    ),
)
SHOTS = OptionGroup(
    "shots",
    "Espresso Shots",
    (
        Choice("single", "Single Shot", ("one shot",)),
        Choice("double", "Double Shot", ("two shots",)),
    ),
)
MILK = OptionGroup(
    "milk",
    "Milk",
    (Choice("whole", "Whole Milk"), Choice("soy", "Soy Milk"), Choice("almond", "Almond Milk")),
    amounts=True,
)
SWEETENER = OptionGroup(
    "sweetener",
    "Sweetener",
    (Choice("sugar", "Sugar"), Choice("brown-sugar", "Brown Sugar")),
    amounts=True,
)
WHIP = OptionGroup(
    "whip",
    "Whipped Cream",
    (Choice("whip", "Whipped Cream", ("whip",)), Choice("no-whip", "No Whip", ("no whip",))),
)
GROUPS = (SIZE, ROAST, SHOTS, MILK, SWEETENER, WHIP)


def options(text: str, groups: tuple[OptionGroup, ...] = GROUPS) -> dict[str, tuple[str, str]]:
    """Options found in text, as {group: (choice, amount)}."""
    tokens = clean(words(text))
    chosen = assign(find_mentions(tokens, groups), groups)
    return {g: (v.choice, v.amount.value) for g, v in chosen.items()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("large medium roast", {"size": ("large", "regular"), "roast": ("medium", "regular")}),
        ("medium, dark roast", {"size": ("medium", "regular"), "roast": ("dark", "regular")}),
        ("dark roast medium", {"size": ("medium", "regular"), "roast": ("dark", "regular")}),
        ("medium size", {"size": ("medium", "regular")}),
        ("light roast", {"roast": ("light", "regular")}),
        ("twelve ounce", {"size": ("medium", "regular")}),
        ("12 oz", {"size": ("medium", "regular")}),
        ("a 12-ounce", {"size": ("medium", "regular")}),
        ("two shots", {"shots": ("double", "regular")}),
        ("single", {"shots": ("single", "regular")}),
        ("soy", {"milk": ("soy", "regular")}),
        ("a bit of soy milk", {"milk": ("soy", "light")}),
        ("a little bit of almond milk", {"milk": ("almond", "light")}),
        ("light whole milk", {"milk": ("whole", "light")}),
        ("some sugar", {"sweetener": ("sugar", "regular")}),
        ("lots of brown sugar", {"sweetener": ("brown-sugar", "extra")}),
        ("a lot of sugar", {"sweetener": ("sugar", "extra")}),
        ("loads of sugar", {"sweetener": ("sugar", "extra")}),
        ("plenty of soy", {"milk": ("soy", "extra")}),
        ("extra sugar", {"sweetener": ("sugar", "extra")}),
        ("without sugar", {"sweetener": ("sugar", "none")}),
        ("hold the soy milk", {"milk": ("soy", "none")}),
        ("no milk or sugar", {"milk": ("whole", "none"), "sweetener": ("sugar", "none")}),
        ("no whip", {"whip": ("no-whip", "regular")}),
        ("without whip", {"whip": ("no-whip", "regular")}),
        ("an extra shot", {"shots": ("double", "regular")}),
        ("almon milk", {"milk": ("almond", "regular")}),
        ("skimmed soy milk", {"milk": ("soy", "regular")}),
        ("latte", {}),
        ("a bit of foam", {}),
    ],
)
def test_options(text: str, expected: dict[str, tuple[str, str]]) -> None:
    """Choices by name, short name, alias and ounces; amounts; negation; shared words."""
    assert options(text) == expected


def test_only_the_products_groups() -> None:
    """Options of groups the product does not offer are left out."""
    assert options("large with soy milk", (MILK,)) == {"milk": ("soy", "regular")}


def test_first_mention_wins() -> None:
    """One value per group: the first said (corrections are handled before this)."""
    assert options("soy milk and almond milk") == {"milk": ("soy", "regular")}


def test_group_alone_takes_the_default() -> None:
    """ "no milk" with a product default of almond names almond."""
    tokens = clean(words("no milk"))
    chosen = assign(find_mentions(tokens, GROUPS), GROUPS, defaults={"milk": "almond"})
    assert chosen == {"milk": OptionValue("almond", Amount.NONE)}


def test_mentions_know_their_span() -> None:
    """Mentions cover their amount words, so they can be cut from the product words."""
    tokens = clean(words("a latte with a bit of soy milk"))
    [mention] = find_mentions(tokens, GROUPS)
    assert tokens[mention.start : mention.end] == ["a", "bit", "of", "soy", "milk"]


@pytest.mark.parametrize(
    ("text", "defaults", "expected"),
    [
        ("an extra shot", {}, "double"),
        ("an extra shot", {"shots": "double"}, "triple"),
        ("two extra shots", {}, "triple"),
        ("2 more shots", {}, "triple"),
        ("an additional shot", {}, "double"),
        ("five extra shots", {}, "triple"),
        ("a double with an extra shot", {}, "triple"),
        ("add a shot", {"shots": "double"}, "triple"),
        ("add two shots", {}, "triple"),
    ],
)
def test_more_of_a_counted_group_steps_up(
    text: str, defaults: dict[str, str], expected: str
) -> None:
    """Shots take no amounts: "an extra shot" is one more than the drink has (else single)."""
    chosen = read_options(clean(words(text)), (TRIPLE, MILK), defaults=defaults)
    assert chosen == {"shots": OptionValue(expected)}


def test_more_of_a_group_with_amounts_stays_an_amount() -> None:
    """Milk takes amounts, so "extra milk" is still the default milk, extra."""
    assert options("extra milk") == {"milk": ("whole", "extra")}
