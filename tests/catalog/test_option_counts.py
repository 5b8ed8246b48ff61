"""Counted choices: what each choice counts, stepping up, and "add a shot"."""

from __future__ import annotations

from catalog.model import Choice, OptionGroup
from catalog.option_counts import added_units, choice_counts, step_choice

TRIPLE = OptionGroup(
    "shots",
    "Espresso Shots",
    (
        Choice("single", "Single Shot", ("one shot", "solo")),
        Choice("double", "Double Shot", ("2 shots",)),
        Choice("triple", "Triple Shot"),
    ),
)
SIZE = OptionGroup(
    "size",
    "Size",
    (Choice("small", "Small", ("8 oz",)), Choice("medium", "Medium", ("12 oz",))),
)
ICE = OptionGroup(
    "ice", "Ice", (Choice("light", "Light Ice"), Choice("ice", "Ice"), Choice("extra", "Lots"))
)
MILK = OptionGroup(
    "milk", "Milk", (Choice("whole", "Whole Milk"), Choice("soy", "Soy Milk")), amounts=True
)


def test_choices_count_by_digits_and_multiples() -> None:
    """ "2 shots" and "Triple Shot" count; "12 oz" is no count of a size."""
    assert choice_counts(TRIPLE) == {"single": 1, "double": 2, "triple": 3}
    assert choice_counts(SIZE) == {}


def test_groups_without_counts_step_in_catalog_order() -> None:
    """A group with no counted choices steps to the next choice, and stops at the last."""
    assert step_choice(ICE, "ice", 1) == "extra"
    assert step_choice(ICE, "extra", 2) == "extra"
    assert step_choice(ICE, None, 1) == "ice"


def test_counted_choices_step_by_count() -> None:
    """A Single Shot and two more is a Triple Shot; past the last, the last."""
    assert step_choice(TRIPLE, "single", 2) == "triple"
    assert step_choice(TRIPLE, "double", 5) == "triple"
    assert step_choice(TRIPLE, None, 1) == "double"


def test_add_a_unit_is_one_more_not_a_measure() -> None:
    """ "add a shot" reads as "an extra shot"; "a shot of" measures something else."""
    assert added_units(["add", "a", "shot"], (TRIPLE,)) == ["add", "an", "extra", "shot"]
    assert added_units(["add", "two", "shots"], (TRIPLE,)) == ["add", "two", "extra", "shots"]
    unchanged = ["add", "a", "shot", "of", "vanilla"]
    assert added_units(unchanged, (TRIPLE,)) == unchanged
    assert added_units(["add", "a", "milk"], (MILK,)) == ["add", "a", "milk"]
