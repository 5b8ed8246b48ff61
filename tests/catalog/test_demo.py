"""The shipped demo catalogs: size, realism checks, the coffee option groups, the merged store."""

from __future__ import annotations

from collections import Counter

import pytest

from catalog.demo import DEMO_CATALOGS, load_demo_catalog, load_demo_store
from catalog.errors import CatalogError
from catalog.model import Catalog, OptionGroup

DRINK_GROUPS = {"size", "milk", "shots", "roast", "caffeine", "syrup", "sweetener", "temperature"}
DRINK_GROUPS |= {"ice", "whip"}
FOOD_CATEGORIES = {"Pastries", "Hot Breakfast", "Oatmeal & Yogurt"}


@pytest.fixture(scope="module")
def grocery() -> Catalog:
    """The grocery demo catalog."""
    return load_demo_catalog("grocery")


@pytest.fixture(scope="module")
def coffee() -> Catalog:
    """The coffee shop demo catalog."""
    return load_demo_catalog("coffee")


def with_alias(catalog: Catalog, alias: str) -> list[str]:
    """Ids of the products that have this alias."""
    return [p.id for p in catalog.products.values() if alias in p.aliases]


def delta(group: OptionGroup, choice_id: str) -> int:
    """The price delta of one choice, which must exist."""
    choice = group.choice(choice_id)
    assert choice is not None, choice_id
    return choice.price_delta


def choice_ids(group: OptionGroup) -> list[str]:
    """The group's choice ids in order."""
    return [c.id for c in group.choices]


def test_demo_files_are_shipped_in_the_package() -> None:
    assert set(DEMO_CATALOGS) == {"grocery", "coffee"}
    for path in DEMO_CATALOGS.values():
        assert path.is_file()
        assert path.parent.name == "data"
        assert path.parent.parent.name == "catalog"


def test_grocery_is_big_and_complete(grocery: Catalog) -> None:
    assert len(grocery.products) >= 300
    departments = Counter(p.category for p in grocery.products.values())
    assert len(departments) >= 12
    assert min(departments.values()) >= 10
    for product in grocery.products.values():
        assert all((product.brand, product.size, product.category)), product.id
        assert isinstance(product.price, int), product.id
        assert product.price > 0, product.id


def test_grocery_has_the_near_duplicates_that_force_a_question(grocery: Catalog) -> None:
    brands = {grocery.products[i].brand for i in with_alias(grocery, "paper towels")}
    assert {"Bounty", "Viva"} <= brands
    assert len(with_alias(grocery, "oj")) >= 2
    assert len(with_alias(grocery, "tp")) >= 2
    assert "toilet roll" in grocery.products["toilet-paper-charmin"].aliases
    assert "paper towel" in grocery.products["paper-towels-bounty"].aliases
    eggs = {grocery.products[i].size for i in with_alias(grocery, "eggs")}
    assert {"12 ct", "18 ct"} <= eggs
    oat_brands = {grocery.products[i].brand for i in with_alias(grocery, "oat milk")}
    assert {"Oatly", "Califia Farms"} <= oat_brands
    assert with_alias(grocery, "almond milk")
    assert len(with_alias(grocery, "milk")) >= 2
    assert len(with_alias(grocery, "banana")) >= 2


def test_grocery_stores_have_hours_tax_and_availability(grocery: Catalog) -> None:
    assert len(grocery.stores) >= 1
    for store in grocery.stores:
        assert store.address
        assert store.pickup
        assert not store.hours.always_open
        assert store.hours.ranges(0)
        assert 0 < store.tax_rate < 1
    elm_only = [p for p in grocery.products.values() if p.stores is not None]
    assert elm_only
    assert all(p.available_at("market-elm-street") for p in elm_only)


def test_coffee_has_the_drink_option_groups(coffee: Catalog) -> None:
    groups = coffee.option_groups
    assert set(groups) >= DRINK_GROUPS
    size = groups["size"]
    assert choice_ids(size) == ["short", "tall", "grande", "venti"]
    spoken = {alias for c in size.choices for alias in c.aliases}
    assert {"small", "medium", "large", "8 oz", "12 oz", "16 oz", "20 oz"} <= spoken
    milk = groups["milk"]
    assert {"whole", "two-percent", "nonfat", "oat", "almond", "soy", "coconut"} <= set(
        choice_ids(milk)
    )
    assert all(delta(milk, m) > 0 for m in ("oat", "almond", "soy", "coconut"))
    assert delta(milk, "whole") == 0
    assert choice_ids(groups["shots"]) == ["single", "double", "triple", "quad"]
    assert groups["syrup"].max > 1
    assert groups["syrup"].amounts
    assert {"vanilla", "caramel", "hazelnut", "sugar-free-vanilla"} <= set(
        choice_ids(groups["syrup"])
    )
    assert groups["sweetener"].amounts
    assert {"sugar", "honey", "stevia", "splenda"} <= set(choice_ids(groups["sweetener"]))
    assert choice_ids(groups["roast"]) == ["blonde", "medium", "dark"]
    assert {"hot", "iced"} <= set(choice_ids(groups["temperature"]))
    assert groups["whip"].amounts


def test_coffee_menu_has_the_usual_drinks_and_food(coffee: Catalog) -> None:
    names = " | ".join(p.name.lower() for p in coffee.products.values())
    for drink in (
        "latte", "cappuccino", "flat white", "americano", "macchiato", "mocha", "espresso",
        "cortado", "house blend", "dark roast", "blonde roast", "chai", "green tea", "earl grey",
        "matcha", "iced caffè latte", "cold brew", "iced coffee", "frappé", "lemonade",
        "refresher", "croissant", "muffin", "banana walnut bread", "bagel", "egg",
    ):  # fmt: skip
        assert drink in names, drink
    categories = {p.category for p in coffee.products.values()}
    assert set(coffee.prep_minutes) == categories  # every category, and no catch-all default


def test_coffee_food_has_no_drink_options(coffee: Catalog) -> None:
    food = [p for p in coffee.products.values() if p.category in FOOD_CATEGORIES]
    assert len(food) >= 10
    for product in food:
        assert not set(product.options) & DRINK_GROUPS, product.id


def test_coffee_defaults_are_natural(coffee: Catalog) -> None:
    latte = coffee.products["latte"]
    assert latte.defaults["size"] == "grande"
    assert latte.defaults["milk"] == "two-percent"
    drinks = [p for p in coffee.products.values() if "size" in p.options]
    assert all(p.defaults.get("size") == "grande" for p in drinks)


def test_coffee_has_two_pickup_stores(coffee: Catalog) -> None:
    pickup = [s for s in coffee.stores if s.pickup]
    assert len(pickup) >= 2
    assert {"Main Street", "Harbor Avenue"} <= {s.name.split("Coffee ")[-1] for s in pickup}
    for store in pickup:
        assert store.address
        assert store.timezone != "UTC"
        assert store.tax_rate > 0


def test_demo_store_merges_both_without_conflicts(grocery: Catalog, coffee: Catalog) -> None:
    store = load_demo_store()
    assert len(store.products) == len(grocery.products) + len(coffee.products)
    assert len(store.stores) == len(grocery.stores) + len(coffee.stores)
    assert not {s.id for s in grocery.stores} & {s.id for s in coffee.stores}
    assert store.products["bananas-dole"].stores == tuple(s.id for s in grocery.stores)
    assert store.products["latte"].stores == tuple(s.id for s in coffee.stores)
    assert store.products["avocado-toast"].stores == ("cafe-harbor-avenue",)
    assert store.option_groups == coffee.option_groups
    grocery_categories = {p.category for p in grocery.products.values()}
    assert not grocery_categories & {p.category for p in coffee.products.values()}
    assert store.prep_minutes_for(store.products["bagels-plain"]) == 0  # no café prep time
    assert store.prep_minutes_for(store.products["latte"]) == 3


def test_unknown_demo_name_suggests_the_right_one() -> None:
    with pytest.raises(
        CatalogError, match="unknown demo catalog 'grocey' \\(did you mean 'grocery'"
    ):
        load_demo_catalog("grocey")
