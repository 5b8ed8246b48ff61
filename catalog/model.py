"""The store's data as frozen dataclasses: stores, option groups, products, the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from enum import StrEnum

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Amount(StrEnum):
    """How much of an option the shopper wants ("a bit of soy milk" is LIGHT)."""

    NONE = "none"
    LIGHT = "light"
    REGULAR = "regular"
    EXTRA = "extra"


@dataclass(frozen=True)
class Choice:
    """One choice of an option group, e.g. oat milk; price_delta is in cents."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    price_delta: int = 0


@dataclass(frozen=True)
class OptionGroup:
    """A customisation such as size or milk; `max` is how many choices may be picked."""

    id: str
    name: str
    choices: tuple[Choice, ...]
    required: bool = False
    max: int = 1
    amounts: bool = False

    def choice(self, choice_id: str) -> Choice | None:
        """Return the choice with this id, or None."""
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        return None


@dataclass(frozen=True)
class OpeningHours:
    """Opening time ranges per weekday (mon..sun); a missing day is closed.

    A store without any hours given is treated as always open (`always_open`).
    """

    days: Mapping[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    always_open: bool = True

    def ranges(self, weekday: int) -> tuple[tuple[time, time], ...]:
        """The open ranges on a weekday (0 = Monday)."""
        return self.days.get(WEEKDAYS[weekday], ())


@dataclass(frozen=True)
class Store:
    """A physical store or café; `pickup` says whether it takes pickup orders."""

    id: str
    name: str
    timezone: str = "UTC"
    address: str = ""
    hours: OpeningHours = field(default_factory=OpeningHours)
    pickup: bool = False
    tax_rate: Decimal = Decimal("0")
    phone: str = ""


@dataclass(frozen=True)
class Product:
    """A sellable product; price in integer cents (None when the source has no prices)."""

    id: str
    name: str
    price: int | None
    category: str = ""
    brand: str = ""
    size: str = ""
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    stores: tuple[str, ...] | None = None
    """Store ids that sell it; None means every store."""

    def available_at(self, store_id: str) -> bool:
        """Whether the product is sold at this store."""
        return self.stores is None or store_id in self.stores


@dataclass(frozen=True)
class Catalog:
    """A validated catalog: the unit that the matcher, parser and order service read."""

    currency: str
    stores: tuple[Store, ...]
    option_groups: Mapping[str, OptionGroup]
    products: Mapping[str, Product]
    prep_minutes: Mapping[str, int] = field(default_factory=dict)
    """Preparation minutes per product category; the key "default" covers the rest."""
    source: str = ""

    def product(self, product_id: str) -> Product | None:
        """Return the product with this id, or None."""
        return self.products.get(product_id)

    def group(self, group_id: str) -> OptionGroup | None:
        """Return the option group with this id, or None."""
        return self.option_groups.get(group_id)

    def store(self, store_id: str) -> Store | None:
        """Return the store with this id, or None."""
        for store in self.stores:
            if store.id == store_id:
                return store
        return None

    def groups_of(self, product: Product) -> tuple[OptionGroup, ...]:
        """The option groups a product offers, in the product's order."""
        return tuple(self.option_groups[g] for g in product.options if g in self.option_groups)

    def prep_minutes_for(self, product: Product) -> int:
        """Minutes to prepare one unit, by category, falling back to "default" (or 0)."""
        return self.prep_minutes.get(product.category, self.prep_minutes.get("default", 0))
