"""Merging catalogs (e.g. the grocery store and the café) into one, refusing conflicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from catalog.errors import CatalogError, Problem
from catalog.model import Catalog, Product

T = TypeVar("T")


def merge_catalogs(*catalogs: Catalog) -> Catalog:
    """The union of stores, option groups and products; any conflict is a CatalogError.

    A product that its own catalog sells at every store (stores=None) is pinned to that
    catalog's store ids, so that merging a grocery with a café puts no bananas on the café menu.
    """
    if not catalogs:
        raise CatalogError([Problem("", None, "(catalogs)", "nothing to merge")])
    source = " + ".join(c.source or "(unnamed)" for c in catalogs)
    problems: list[Problem] = []
    currencies = sorted({c.currency for c in catalogs})
    if len(currencies) > 1:
        problems.append(Problem(source, None, "currency", f"differs: {', '.join(currencies)}"))
    stores = _union(catalogs, lambda c: c.stores, lambda s: s.id, "stores", problems)
    groups = _union(
        catalogs, lambda c: c.option_groups.values(), lambda g: g.id, "option_groups", problems
    )
    products = _merge_products(catalogs, set(stores), problems)
    prep = _merge_prep_minutes(catalogs, problems)
    if problems:
        raise CatalogError(problems)
    return Catalog(
        currency=catalogs[0].currency,
        stores=tuple(stores.values()),
        option_groups=groups,
        products=products,
        prep_minutes=prep,
        source=source,
    )


def _union(
    catalogs: Iterable[Catalog],
    items_of: Callable[[Catalog], Iterable[T]],
    id_of: Callable[[T], str],
    what: str,
    problems: list[Problem],
) -> dict[str, T]:
    """Items by id across catalogs; the same id with different content is a problem."""
    merged: dict[str, T] = {}
    origin: dict[str, str] = {}
    for catalog in catalogs:
        for item in items_of(catalog):
            key = id_of(item)
            if key not in merged:
                merged[key] = item
                origin[key] = catalog.source
            elif merged[key] != item:
                message = f"{key!r} differs between {origin[key]} and {catalog.source}"
                problems.append(Problem(catalog.source, None, f"{what}.{key}", message))
    return merged


def _merge_products(
    catalogs: Sequence[Catalog], all_stores: set[str], problems: list[Problem]
) -> dict[str, Product]:
    """Products by id; an all-stores product is pinned to the stores of its own catalogs."""
    written = _union(catalogs, lambda c: c.products.values(), lambda p: p.id, "products", problems)
    pinned: dict[str, list[str]] = {}
    for catalog in catalogs:
        store_ids = [s.id for s in catalog.stores]
        for product in catalog.products.values():
            if product.stores is None and written.get(product.id) == product:
                pinned.setdefault(product.id, [])
                pinned[product.id] += [s for s in store_ids if s not in pinned[product.id]]
    return {
        pid: p
        if set(pinned.get(pid, all_stores)) == all_stores
        else dataclasses.replace(p, stores=tuple(pinned[pid]))
        for pid, p in written.items()
    }


def _merge_prep_minutes(catalogs: Sequence[Catalog], problems: list[Problem]) -> dict[str, int]:
    """Prep minutes per category; the same category with different minutes is a problem."""
    merged: dict[str, int] = {}
    for catalog in catalogs:
        for category, minutes in catalog.prep_minutes.items():
            if merged.setdefault(category, minutes) != minutes:
                message = f"{category!r} is {merged[category]} in one catalog, {minutes} in another"
                problems.append(Problem(catalog.source, None, f"prep_minutes.{category}", message))
    return merged
