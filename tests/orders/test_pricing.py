"""Options and prices: validation against the catalog, defaults, deltas, tax rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.model import Amount
from catalog.request import OptionValue
from orders.errors import OptionInvalid, ProductNotFound, ProductUnavailable, QuantityInvalid
from orders.pricing import (
    check_quantity,
    choose_options,
    options_input,
    options_key,
    sellable_product,
    snapshot_options,
    stored_options,
    tax_on,
    unit_price,
)
from tests.orders.factories import make_catalog

CATALOG = make_catalog()
LATTE = CATALOG.products["latte"]


def test_default_size_is_filled_in_and_priced() -> None:
    chosen = choose_options(CATALOG, LATTE, {})
    assert [(o.group, o.choice) for o in chosen] == [("size", "medium")]
    assert unit_price(LATTE, chosen) == 450


def test_deltas_add_up_in_catalog_order() -> None:
    chosen = choose_options(
        CATALOG,
        LATTE,
        {
            "toppings": [OptionValue("cocoa"), OptionValue("cinnamon")],
            "milk": OptionValue("oat", Amount.EXTRA),
            "size": OptionValue("large"),
        },
    )
    assert [(o.group, o.choice) for o in chosen] == [
        ("size", "large"),
        ("milk", "oat"),
        ("toppings", "cinnamon"),
        ("toppings", "cocoa"),
    ]
    assert unit_price(LATTE, chosen) == 450 + 75 + 60 + 10 + 20


def test_amount_none_costs_nothing_but_is_kept() -> None:
    chosen = choose_options(CATALOG, LATTE, {"milk": OptionValue("oat", Amount.NONE)})
    milk = next(o for o in chosen if o.group == "milk")
    assert milk.amount is Amount.NONE
    assert milk.price_delta == 0
    assert unit_price(LATTE, chosen) == 450


@pytest.mark.parametrize(
    ("options", "group", "words"),
    [
        ({"syrup": OptionValue("vanilla")}, "syrup", "not offered"),
        ({"size": OptionValue("venti")}, "size", "no choice 'venti'"),
        ({"size": [OptionValue("small"), OptionValue("large")]}, "size", "at most 1"),
        ({"toppings": [OptionValue("foam"), OptionValue("foam")]}, "toppings", "twice"),
        ({"size": OptionValue("large", Amount.EXTRA)}, "size", "takes no amount"),
    ],
)
def test_bad_options_are_refused_with_the_group(
    options: dict[str, OptionValue | list[OptionValue]], group: str, words: str
) -> None:
    with pytest.raises(OptionInvalid) as caught:
        choose_options(CATALOG, LATTE, options)
    assert caught.value.group_id == group
    assert words in caught.value.detail


def test_required_group_without_default_is_refused() -> None:
    drip = CATALOG.products["drip"]
    with pytest.raises(OptionInvalid, match="required"):
        choose_options(CATALOG, drip, {})
    assert unit_price(drip, choose_options(CATALOG, drip, {"size": OptionValue("small")})) == 200


def test_sellable_product_checks_existence_price_and_store() -> None:
    with pytest.raises(ProductNotFound):
        sellable_product(CATALOG, "unicorn", None)
    with pytest.raises(ProductUnavailable, match="no price"):
        sellable_product(CATALOG, "mystery", "market")
    with pytest.raises(ProductUnavailable, match="not sold at store 'cafe'"):
        sellable_product(CATALOG, "bananas", "cafe")
    assert sellable_product(CATALOG, "oat-milk", "cafe").id == "oat-milk"
    assert sellable_product(CATALOG, "bananas", None).id == "bananas"


def test_stored_options_round_trip_and_key() -> None:
    chosen = choose_options(CATALOG, LATTE, {"milk": OptionValue("oat", Amount.LIGHT)})
    stored = stored_options(chosen)
    assert stored == [
        {"group": "size", "choice": "medium", "amount": "regular"},
        {"group": "milk", "choice": "oat", "amount": "light"},
    ]
    assert choose_options(CATALOG, LATTE, options_input(stored)) == chosen
    assert options_key(stored) == options_key([dict(x) for x in stored])
    assert options_key(stored) != options_key(stored[:1])
    snapshot = snapshot_options(chosen)
    assert snapshot[1]["choice_name"] == "Oat Milk"
    assert snapshot[1]["price_delta"] == 60


@pytest.mark.parametrize(
    ("subtotal", "rate", "tax"),
    [
        (1000, "0.08", 80),
        (1006, "0.05", 50),
        (1010, "0.05", 51),
        (999, "0.0825", 82),
        (0, "0.1", 0),
    ],
)
def test_tax_rounds_half_up(subtotal: int, rate: str, tax: int) -> None:
    assert tax_on(subtotal, Decimal(rate)) == tax


def test_quantity_range() -> None:
    check_quantity(1)
    check_quantity(99)
    check_quantity(0, low=0)
    for bad in (0, -1, 100):
        with pytest.raises(QuantityInvalid):
            check_quantity(bad)
