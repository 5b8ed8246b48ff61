"""Small factories for order-service tests: a two-store catalog and a hand-moved clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from catalog.model import Catalog, Choice, OpeningHours, OptionGroup, Product, Store
from orders.customers import create_customer

START = datetime(2025, 3, 4, 16, 0, tzinfo=UTC)
"""A Tuesday; 08:00 in Vancouver (the café's zone), when the café is open."""


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward; returns the new time."""
        self.now += timedelta(**delta)
        return self.now


CAFE_HOURS = OpeningHours(
    days={day: ((time(7), time(18)),) for day in ("mon", "tue", "wed", "thu", "fri")},
    always_open=False,
)


def make_stores() -> tuple[Store, ...]:
    """A grocery (delivery, 8% tax, always open) and a café (pickup, 5% tax, weekdays 7-18)."""
    return (
        Store(id="market", name="Corner Market", tax_rate=Decimal("0.08"), timezone="UTC"),
        Store(
            id="cafe",
            name="Bench Cafe",
            timezone="America/Vancouver",
            pickup=True,
            tax_rate=Decimal("0.05"),
            hours=CAFE_HOURS,
        ),
    )


def make_groups() -> dict[str, OptionGroup]:
    """Size (priced), milk (with amounts), toppings (up to two)."""
    size = OptionGroup(
        id="size",
        name="Size",
        choices=(
            Choice("small", "Small", price_delta=-50),
            Choice("medium", "Medium"),
            Choice("large", "Large", price_delta=75),
        ),
        required=True,
    )
    milk = OptionGroup(
        id="milk",
        name="Milk",
        choices=(Choice("whole", "Whole Milk"), Choice("oat", "Oat Milk", price_delta=60)),
        amounts=True,
    )
    toppings = OptionGroup(
        id="toppings",
        name="Toppings",
        choices=(
            Choice("cinnamon", "Cinnamon", price_delta=10),
            Choice("cocoa", "Cocoa", price_delta=20),
            Choice("foam", "Extra Foam"),
        ),
        max=2,
    )
    return {g.id: g for g in (size, milk, toppings)}


def make_products() -> dict[str, Product]:
    """Café drinks and pastry, grocery items, and one product without a price."""
    products = (
        Product(
            "latte",
            "Latte",
            450,
            category="Espresso",
            options=("size", "milk", "toppings"),
            defaults={"size": "medium"},
            stores=("cafe",),
        ),
        Product("drip", "Drip Coffee", 250, category="Coffee", options=("size",), stores=("cafe",)),
        Product("croissant", "Croissant", 325, category="Bakery", stores=("cafe",)),
        Product("bananas", "Bananas", 129, category="Produce", stores=("market",)),
        Product(
            "paper-towels",
            "Paper Towels",
            899,
            category="Household",
            brand="Bounty",
            stores=("market",),
        ),
        Product("oat-milk", "Oat Milk", 479, category="Dairy", stores=("market", "cafe")),
        Product("mystery", "Mystery Box", None, category="Household", stores=("market",)),
    )
    return {p.id: p for p in products}


def make_catalog(**changes: object) -> Catalog:
    """The test catalog; keyword arguments replace its fields."""
    catalog = Catalog(
        currency="USD",
        stores=make_stores(),
        option_groups=make_groups(),
        products=make_products(),
        prep_minutes={"Espresso": 3, "Coffee": 1, "Bakery": 1, "default": 2},
        source="tests",
    )
    return replace(catalog, **changes)  # type: ignore[arg-type]


def with_price(catalog: Catalog, product_id: str, price: int) -> Catalog:
    """The catalog with one product's price changed."""
    products = dict(catalog.products)
    products[product_id] = replace(products[product_id], price=price)
    return replace(catalog, products=products)


def new_customer(
    session: Session,
    name: str = "Ada",
    *,
    home: str | None = "cafe",
    clock: FakeClock | None = None,
) -> int:
    """Create a customer; returns the id."""
    customer, _ = create_customer(
        session, name=name, home_store_id=home, clock=clock or FakeClock()
    )
    return customer.id
