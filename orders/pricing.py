"""Chosen options and prices: validate options against the catalog, price a line, compute tax.

A line's unit price is the product's base price plus the price delta of every chosen option;
an option asked for with the amount "none" ("no sugar") adds nothing. Tax is the store's rate
applied to the order subtotal, rounded half up to the cent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from catalog.model import Amount, Catalog, OptionGroup, Product
from catalog.request import OptionValue
from orders.errors import (
    FieldInvalid,
    OptionInvalid,
    ProductNotFound,
    ProductUnavailable,
    QuantityInvalid,
)
from orders.tables import NOTE_LENGTH

MAX_QUANTITY = 99
"""The most units of one line; more is far more likely a mishearing than a real order."""

OptionsInput = Mapping[str, OptionValue | Sequence[OptionValue]]
"""What callers pass: per option group id, one chosen value or several (for groups with max > 1)."""


@dataclass(frozen=True)
class ChosenOption:
    """One chosen option with its names and its price delta in cents."""

    group: str
    group_name: str
    choice: str
    choice_name: str
    amount: Amount
    price_delta: int


def check_quantity(quantity: int, *, low: int = 1) -> None:
    """Refuse a quantity outside low..MAX_QUANTITY."""
    if not low <= quantity <= MAX_QUANTITY:
        raise QuantityInvalid(quantity, low=low, high=MAX_QUANTITY)


def sellable_product(catalog: Catalog, product_id: str, store_id: str | None) -> Product:
    """The product, if it exists, has a price and is sold at the store (when one is known)."""
    product = catalog.product(product_id)
    if product is None:
        raise ProductNotFound(product_id)
    if product.price is None:
        raise ProductUnavailable(product_id, "it has no price in the catalog")
    if store_id is not None and not product.available_at(store_id):
        raise ProductUnavailable(product_id, f"it is not sold at store {store_id!r}")
    return product


def choose_options(
    catalog: Catalog, product: Product, options: OptionsInput
) -> tuple[ChosenOption, ...]:
    """Validate the options, fill in the product's defaults, and return them in catalog order.

    A group given no value (or an empty list) gets the product's default choice, if it has one.
    """
    offered = {group.id: group for group in catalog.groups_of(product)}
    given: dict[str, tuple[OptionValue, ...]] = {}
    for group_id, value in options.items():
        if group_id not in offered:
            names = ", ".join(offered) or "none"
            raise OptionInvalid(
                product.id, group_id, f"not offered for this product (offered: {names})"
            )
        given[group_id] = (value,) if isinstance(value, OptionValue) else tuple(value)
    chosen: list[ChosenOption] = []
    for group in offered.values():
        values = given.get(group.id, ())
        if not values and group.id in product.defaults:
            values = (OptionValue(product.defaults[group.id]),)
        if not values:
            if group.required:
                raise OptionInvalid(
                    product.id, group.id, f"required; choose one of {_choice_ids(group)}"
                )
            continue
        chosen.extend(_choose(product, group, values))
    return tuple(chosen)


def _choose(
    product: Product, group: OptionGroup, values: Sequence[OptionValue]
) -> list[ChosenOption]:
    """The chosen values of one group, checked against the group, in the group's choice order."""
    if len(values) > group.max:
        raise OptionInvalid(
            product.id, group.id, f"at most {group.max} choice(s), got {len(values)}"
        )
    by_choice = {value.choice: value for value in values}
    if len(by_choice) != len(values):
        raise OptionInvalid(product.id, group.id, "the same choice is given twice")
    for value in values:
        if group.choice(value.choice) is None:
            raise OptionInvalid(
                product.id,
                group.id,
                f"no choice {value.choice!r}; choose one of {_choice_ids(group)}",
            )
        if value.amount != Amount.REGULAR and not group.amounts:
            raise OptionInvalid(product.id, group.id, f"takes no amount (got {value.amount})")
    return [
        ChosenOption(
            group=group.id,
            group_name=group.name,
            choice=choice.id,
            choice_name=choice.name,
            amount=by_choice[choice.id].amount,
            price_delta=0 if by_choice[choice.id].amount == Amount.NONE else choice.price_delta,
        )
        for choice in group.choices
        if choice.id in by_choice
    ]


def _choice_ids(group: OptionGroup) -> str:
    """The group's choice ids, for error messages."""
    return ", ".join(choice.id for choice in group.choices)


def unit_price(product: Product, chosen: Sequence[ChosenOption]) -> int:
    """Base price plus the option deltas, in cents."""
    if product.price is None:
        raise ProductUnavailable(product.id, "it has no price in the catalog")
    return product.price + sum(option.price_delta for option in chosen)


def tax_on(subtotal: int, rate: Decimal) -> int:
    """The tax on a subtotal in cents, rounded half up to the cent."""
    return int((Decimal(subtotal) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stored_options(chosen: Sequence[ChosenOption]) -> list[dict[str, Any]]:
    """The options as kept on a cart line: [{"group", "choice", "amount"}, ...]."""
    return [{"group": o.group, "choice": o.choice, "amount": o.amount.value} for o in chosen]


def snapshot_options(chosen: Sequence[ChosenOption]) -> list[dict[str, Any]]:
    """The options as kept on an order line: the stored form plus names and price deltas."""
    return [
        {
            "group": o.group,
            "group_name": o.group_name,
            "choice": o.choice,
            "choice_name": o.choice_name,
            "amount": o.amount.value,
            "price_delta": o.price_delta,
        }
        for o in chosen
    ]


def options_input(stored: Sequence[Mapping[str, Any]]) -> dict[str, list[OptionValue]]:
    """Stored options (cart or order line) back into the form choose_options takes."""
    grouped: dict[str, list[OptionValue]] = {}
    for item in stored:
        value = OptionValue(str(item["choice"]), Amount(str(item.get("amount", Amount.REGULAR))))
        grouped.setdefault(str(item["group"]), []).append(value)
    return grouped


def options_key(stored: Sequence[Mapping[str, Any]], note: str | None = None) -> str:
    """A fixed-size key of the stored options and the line's note: equal give equal keys.

    Without a note the key is the options' alone, as it was before lines had notes.
    """
    canonical = json.dumps(list(stored), sort_keys=True, separators=(",", ":"))
    if note is not None:
        canonical += "\n" + note
    return hashlib.sha256(canonical.encode()).hexdigest()


def clean_note(note: str | None) -> str | None:
    """A special request as stored: trimmed, None when blank; FieldInvalid when unfit."""
    folded = " ".join((note or "").split())
    if not folded:
        return None
    if len(folded) > NOTE_LENGTH:
        raise FieldInvalid("note", f"must be at most {NOTE_LENGTH} characters")
    if not folded.isprintable():
        raise FieldInvalid("note", "must be printable text")
    return folded
