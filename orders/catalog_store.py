"""The catalog in the database: load (upsert + version bump), read back, and a per-process cache.

Loading upserts: stores, option groups and products in the file are inserted or updated,
and nothing missing from the file is removed (orders keep pointing at their products), so
several catalogs (the grocery and the café) can be loaded one after the other. A product
that its file sells "everywhere" (no `stores`) is pinned to that file's stores, so that the
café's next load does not put bananas on its menu.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import time
from time import monotonic as monotonic_clock
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from catalog.errors import CatalogError, Problem
from catalog.match import ProductIndex
from catalog.model import Catalog, Choice, OpeningHours, OptionGroup, Product, Store
from orders import tables
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import CatalogNotLoaded

logger = logging.getLogger(__name__)

CHUNK = 500
"""Rows per bulk statement when loading large catalogs."""


def load_catalog_into(
    session: Session, catalog: Catalog, *, source: str, clock: Clock = utc_now
) -> int:
    """Upsert the catalog's stores, option groups and products; commit; return the new version."""
    begin_write(session)
    previous = session.scalars(
        select(tables.CatalogLoad).order_by(tables.CatalogLoad.id.desc()).limit(1)
    ).first()
    if previous is not None and previous.currency != catalog.currency:
        problem = Problem(
            source,
            None,
            "currency",
            f"is {catalog.currency}, the database holds {previous.currency}",
        )
        raise CatalogError([problem])
    prep = dict(previous.prep_minutes) if previous is not None else {}
    prep.update(catalog.prep_minutes)
    load = tables.CatalogLoad(
        loaded_at=clock(),
        source=source[:500],
        currency=catalog.currency,
        prep_minutes=prep,
        products=len(catalog.products),
    )
    session.add(load)
    session.flush()
    version = load.id
    _upsert(session, tables.Store, [_store_row(s, version) for s in catalog.stores])
    _upsert(
        session,
        tables.OptionGroup,
        [_group_row(g, version) for g in catalog.option_groups.values()],
    )
    _replace_choices(session, catalog.option_groups.values())
    here = [s.id for s in catalog.stores]
    _upsert(
        session, tables.Product, [_product_row(p, here, version) for p in catalog.products.values()]
    )
    session.commit()
    logger.info("catalog version %d from %s: %d products", version, source, len(catalog.products))
    return version


def _upsert(session: Session, model: type[tables.Base], rows: list[dict[str, Any]]) -> None:
    """Insert new rows and update existing ones, by the `id` primary key, in chunks."""
    id_column = model.__table__.c.id
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        existing = set(
            session.scalars(select(id_column).where(id_column.in_([r["id"] for r in chunk])))
        )
        new = [r for r in chunk if r["id"] not in existing]
        old = [r for r in chunk if r["id"] in existing]
        if new:
            session.execute(insert(model), new)
        if old:
            session.execute(update(model), old)


def _replace_choices(session: Session, groups: Iterable[OptionGroup]) -> None:
    """A loaded group's choices are exactly the file's choices (nothing refers to a choice row)."""
    groups = list(groups)
    if not groups:
        return
    session.execute(
        delete(tables.OptionChoice).where(tables.OptionChoice.group_id.in_([g.id for g in groups]))
    )
    rows = [
        {
            "group_id": group.id,
            "id": choice.id,
            "position": position,
            "name": choice.name,
            "aliases": list(choice.aliases),
            "price_delta": choice.price_delta,
        }
        for group in groups
        for position, choice in enumerate(group.choices)
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(tables.OptionChoice), rows[start : start + CHUNK])


def _store_row(store: Store, version: int) -> dict[str, Any]:
    """A stores row from a catalog store."""
    hours = None
    if not store.hours.always_open:
        hours = {
            day: [[start.isoformat(), end.isoformat()] for start, end in ranges]
            for day, ranges in store.hours.days.items()
        }
    return {
        "id": store.id,
        "name": store.name,
        "timezone": store.timezone,
        "address": store.address,
        "phone": store.phone,
        "pickup": store.pickup,
        "tax_rate": store.tax_rate,
        "hours": hours,
        "catalog_version": version,
    }


def _group_row(group: OptionGroup, version: int) -> dict[str, Any]:
    """An option_groups row from a catalog option group."""
    return {
        "id": group.id,
        "name": group.name,
        "required": group.required,
        "max_choices": group.max,
        "amounts": group.amounts,
        "catalog_version": version,
    }


def _product_row(product: Product, file_stores: list[str], version: int) -> dict[str, Any]:
    """A products row; "every store" is pinned to the stores of the file it came from."""
    stores = list(product.stores) if product.stores is not None else (file_stores or None)
    return {
        "id": product.id,
        "name": product.name,
        "price": product.price,
        "category": product.category,
        "brand": product.brand,
        "size": product.size,
        "aliases": list(product.aliases),
        "tags": list(product.tags),
        "option_groups": list(product.options),
        "defaults": dict(product.defaults),
        "stores": stores,
        "catalog_version": version,
    }


def current_version(session: Session) -> int | None:
    """The latest catalog version, or None when no catalog was ever loaded."""
    return session.scalar(select(func.max(tables.CatalogLoad.id)))


def read_catalog(session: Session) -> tuple[int, Catalog] | None:
    """The catalog in the database with its version, or None when none was loaded."""
    load = session.scalars(
        select(tables.CatalogLoad).order_by(tables.CatalogLoad.id.desc()).limit(1)
    ).first()
    if load is None:
        return None
    stores = tuple(
        _store(row) for row in session.scalars(select(tables.Store).order_by(tables.Store.id))
    )
    group_rows = session.scalars(
        select(tables.OptionGroup)
        .options(selectinload(tables.OptionGroup.choices))
        .order_by(tables.OptionGroup.id)
    )
    groups = {row.id: _group(row) for row in group_rows}
    products = {
        row.id: _product(row)
        for row in session.scalars(select(tables.Product).order_by(tables.Product.id))
    }
    catalog = Catalog(
        currency=load.currency,
        stores=stores,
        option_groups=groups,
        products=products,
        prep_minutes={str(k): int(v) for k, v in load.prep_minutes.items()},
        source=f"database (catalog version {load.id})",
    )
    return load.id, catalog


def _store(row: tables.Store) -> Store:
    """A catalog Store from its row."""
    hours = OpeningHours()
    if row.hours is not None:
        days = {
            day: tuple(
                (time.fromisoformat(start), time.fromisoformat(end)) for start, end in ranges
            )
            for day, ranges in row.hours.items()
        }
        hours = OpeningHours(days=days, always_open=False)
    return Store(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        address=row.address,
        hours=hours,
        pickup=row.pickup,
        tax_rate=row.tax_rate,
        phone=row.phone,
    )


def _group(row: tables.OptionGroup) -> OptionGroup:
    """A catalog OptionGroup from its row and its (eagerly loaded) choices."""
    choices = tuple(
        Choice(id=c.id, name=c.name, aliases=tuple(c.aliases), price_delta=c.price_delta)
        for c in row.choices
    )
    return OptionGroup(
        id=row.id,
        name=row.name,
        choices=choices,
        required=row.required,
        max=row.max_choices,
        amounts=row.amounts,
    )


def _product(row: tables.Product) -> Product:
    """A catalog Product from its row."""
    return Product(
        id=row.id,
        name=row.name,
        price=row.price,
        category=row.category,
        brand=row.brand,
        size=row.size,
        aliases=tuple(row.aliases),
        tags=tuple(row.tags),
        options=tuple(row.option_groups),
        defaults={str(k): str(v) for k, v in row.defaults.items()},
        stores=tuple(row.stores) if row.stores is not None else None,
    )


@dataclass
class CatalogSnapshot:
    """One catalog version as this process sees it; the ProductIndex is built on first use."""

    version: int
    catalog: Catalog
    _index: ProductIndex | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def index(self) -> ProductIndex:
        """The fuzzy product index of this version (built once, by the first caller)."""
        with self._lock:
            if self._index is None:
                self._index = ProductIndex.from_catalog(self.catalog)
            return self._index


class CatalogCache:
    """A process's copy of the catalog, re-read whenever the database's version changes.

    With `max_age`, the version is checked at most once per that many seconds (a server
    passes 1 s: a new catalog is live within a second, without a query on every request).
    """

    def __init__(
        self, *, max_age: float = 0.0, monotonic: Callable[[], float] = monotonic_clock
    ) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._checked = 0.0
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def fresh(self) -> CatalogSnapshot | None:
        """The snapshot if its version was checked within max_age (no I/O), else None."""
        snapshot = self._snapshot
        if snapshot is not None and self._monotonic() - self._checked < self._max_age:
            return snapshot
        return None

    def get(self, session: Session) -> CatalogSnapshot:
        """The current snapshot; a cheap version query (at most every max_age), reload if new."""
        snapshot = self._snapshot
        now = self._monotonic()
        if snapshot is not None and now - self._checked < self._max_age:
            return snapshot
        version = current_version(session)
        if version is None:
            raise CatalogNotLoaded()
        if snapshot is None or snapshot.version != version:
            snapshot = self._reload(session, version)
        self._checked = now
        return snapshot

    def _reload(self, session: Session, version: int) -> CatalogSnapshot:
        """Read the catalog again (one thread does it; the others wait and share it)."""
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.version != version:
                found = read_catalog(session)
                if found is None:
                    raise CatalogNotLoaded()
                snapshot = CatalogSnapshot(version=found[0], catalog=found[1])
                self._snapshot = snapshot
                logger.info(
                    "catalog version %d read: %d products",
                    snapshot.version,
                    len(snapshot.catalog.products),
                )
            return snapshot
