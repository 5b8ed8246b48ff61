"""Merging catalogs: the union, store pinning, and every kind of conflict."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from catalog.errors import CatalogError
from catalog.format import load_catalog, merge_catalogs
from catalog.model import Catalog, Choice, Store

CATALOGS = Path(__file__).resolve().parent.parent / "fixtures" / "catalogs"


@pytest.fixture
def cafe() -> Catalog:
    """The full valid fixture: stores corner + kiosk, groups size + syrup."""
    return load_catalog(CATALOGS / "valid.yaml")


@pytest.fixture
def shop() -> Catalog:
    """The products CSV: one default store, no option groups."""
    return load_catalog(CATALOGS / "products.csv")


def conflict_fields(*catalogs: Catalog) -> list[str]:
    """The fields of the problems that merging these catalogs reports."""
    with pytest.raises(CatalogError) as caught:
        merge_catalogs(*catalogs)
    return [p.field for p in caught.value.problems]


def test_merge_is_the_union(cafe: Catalog, shop: Catalog) -> None:
    merged = merge_catalogs(cafe, shop)
    assert [s.id for s in merged.stores] == ["corner", "kiosk", "main"]
    assert list(merged.products) == [*cafe.products, *shop.products]
    assert merged.option_groups == cafe.option_groups
    assert merged.prep_minutes == cafe.prep_minutes
    assert merged.source == f"{cafe.source} + {shop.source}"


def test_all_store_products_are_pinned_to_their_own_stores(cafe: Catalog, shop: Catalog) -> None:
    merged = merge_catalogs(cafe, shop)
    assert merged.products["latte"].stores == ("corner", "kiosk")
    assert merged.products["oj-tropicana"].stores == ("main",)
    assert merged.products["muffin"].stores == ("corner",)  # explicit availability is kept
    assert not merged.products["oj-tropicana"].available_at("corner")


def test_merging_a_catalog_with_itself_changes_nothing(cafe: Catalog) -> None:
    merged = merge_catalogs(cafe, cafe)
    assert dataclasses.replace(merged, source="") == dataclasses.replace(cafe, source="")
    assert merge_catalogs(cafe).products == cafe.products


def test_same_product_in_two_catalogs_is_sold_at_both(shop: Catalog) -> None:
    other = dataclasses.replace(shop, stores=(Store(id="annex", name="Annex"),), source="annex")
    merged = merge_catalogs(shop, other)
    assert merged.products["bananas"].stores is None  # every store of the merge sells it
    assert len(merged.products) == len(shop.products)


def test_a_different_product_with_the_same_id_is_a_conflict(cafe: Catalog, shop: Catalog) -> None:
    latte = dataclasses.replace(cafe.products["latte"], price=999)
    changed = dataclasses.replace(shop, products={**shop.products, "latte": latte}, source="b")
    assert conflict_fields(cafe, changed) == ["products.latte"]


def test_a_different_store_with_the_same_id_is_a_conflict(cafe: Catalog, shop: Catalog) -> None:
    moved = dataclasses.replace(cafe.stores[0], address="2 Other Road")
    changed = dataclasses.replace(shop, stores=(moved,), source="b")
    assert conflict_fields(cafe, changed) == ["stores.corner"]


def test_a_different_option_group_with_the_same_id_is_a_conflict(cafe: Catalog) -> None:
    size = cafe.option_groups["size"]
    bigger = dataclasses.replace(size, choices=(*size.choices, Choice(id="huge", name="Huge")))
    changed = dataclasses.replace(cafe, option_groups={**cafe.option_groups, "size": bigger})
    assert conflict_fields(cafe, changed) == ["option_groups.size"]


def test_different_currencies_and_prep_minutes_are_conflicts(cafe: Catalog) -> None:
    euro = dataclasses.replace(cafe, currency="EUR", prep_minutes={"Coffee": 5}, source="eu")
    assert conflict_fields(cafe, euro) == ["currency", "prep_minutes.Coffee"]


def test_merging_nothing_is_an_error() -> None:
    with pytest.raises(CatalogError, match="nothing to merge"):
        merge_catalogs()
