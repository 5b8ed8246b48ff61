"""The catalog in the database: upsert, version bump, read back, and the per-process cache."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.errors import CatalogError
from catalog.model import Catalog, Product, Store
from orders import tables
from orders.catalog_store import CatalogCache, current_version, load_catalog_into, read_catalog
from orders.errors import CatalogNotLoaded
from tests.orders.factories import FakeClock, make_catalog, with_price


def test_loaded_catalog_reads_back_equal(session: Session, clock: FakeClock) -> None:
    original = make_catalog()
    version = load_catalog_into(session, original, source="tests", clock=clock)
    found = read_catalog(session)
    assert found is not None
    assert found[0] == version
    catalog = found[1]
    assert catalog.currency == "USD"
    assert dict(catalog.products) == dict(original.products)
    assert dict(catalog.option_groups) == dict(original.option_groups)
    assert {s.id: s for s in catalog.stores} == {s.id: s for s in original.stores}
    assert dict(catalog.prep_minutes) == dict(original.prep_minutes)


def test_each_load_bumps_the_version_and_upserts(session: Session, clock: FakeClock) -> None:
    first = load_catalog_into(session, make_catalog(), source="a", clock=clock)
    second = load_catalog_into(
        session, with_price(make_catalog(), "latte", 500), source="b", clock=clock
    )
    assert second > first
    assert current_version(session) == second
    assert session.scalar(select(func.count()).select_from(tables.Product)) == len(
        make_catalog().products
    )
    found = read_catalog(session)
    assert found is not None
    latte = found[1].product("latte")
    assert latte is not None
    assert latte.price == 500


def test_loads_add_up_and_everywhere_products_stay_at_their_stores(
    session: Session, clock: FakeClock
) -> None:
    load_catalog_into(session, make_catalog(), source="shop", clock=clock)
    kiosk = Catalog(
        currency="USD",
        stores=(Store(id="kiosk", name="Kiosk", tax_rate=Decimal("0.1")),),
        option_groups={},
        products={"gum": Product("gum", "Chewing Gum", 99)},
    )
    load_catalog_into(session, kiosk, source="kiosk", clock=clock)
    found = read_catalog(session)
    assert found is not None
    catalog = found[1]
    assert {"latte", "bananas", "gum"} <= set(catalog.products)
    assert {s.id for s in catalog.stores} == {"market", "cafe", "kiosk"}
    gum = catalog.product("gum")
    assert gum is not None
    assert gum.stores == ("kiosk",)
    assert not gum.available_at("market")


def test_a_choice_dropped_from_a_group_is_gone_after_reload(
    session: Session, clock: FakeClock
) -> None:
    catalog = make_catalog()
    size = catalog.option_groups["size"]
    smaller = replace(size, choices=size.choices[:2])
    load_catalog_into(session, catalog, source="a", clock=clock)
    load_catalog_into(
        session,
        replace(catalog, option_groups={**catalog.option_groups, "size": smaller}),
        source="b",
        clock=clock,
    )
    found = read_catalog(session)
    assert found is not None
    assert [c.id for c in found[1].option_groups["size"].choices] == ["small", "medium"]


def test_another_currency_is_refused(session: Session, clock: FakeClock) -> None:
    load_catalog_into(session, make_catalog(), source="a", clock=clock)
    with pytest.raises(CatalogError, match="EUR"):
        load_catalog_into(session, make_catalog(currency="EUR"), source="euro.yaml", clock=clock)
    session.rollback()
    assert current_version(session) == 1


def test_empty_database_has_no_catalog(session: Session) -> None:
    assert read_catalog(session) is None
    assert current_version(session) is None
    with pytest.raises(CatalogNotLoaded, match="voicecart catalog load"):
        CatalogCache().get(session)


def test_cache_rereads_only_when_the_version_changes(session: Session, clock: FakeClock) -> None:
    cache = CatalogCache()
    load_catalog_into(session, make_catalog(), source="a", clock=clock)
    first = cache.get(session)
    assert cache.get(session) is first
    load_catalog_into(session, with_price(make_catalog(), "drip", 275), source="b", clock=clock)
    second = cache.get(session)
    assert second is not first
    assert second.version == first.version + 1
    drip = second.catalog.product("drip")
    assert drip is not None
    assert drip.price == 275


def test_snapshot_index_is_built_once_and_matches(session: Session, clock: FakeClock) -> None:
    load_catalog_into(session, make_catalog(), source="a", clock=clock)
    snapshot = CatalogCache().get(session)
    index = snapshot.index
    assert snapshot.index is index
    matches = index.match("paper towels", store_id="market")
    assert matches
    assert matches[0].product_id == "paper-towels"


def test_cache_checks_the_version_at_most_once_per_max_age(
    session: Session, clock: FakeClock
) -> None:
    ticks = [100.0]
    cache = CatalogCache(max_age=1.0, monotonic=lambda: ticks[0])
    load_catalog_into(session, make_catalog(), source="a", clock=clock)
    assert cache.fresh() is None
    first = cache.get(session)
    load_catalog_into(session, with_price(make_catalog(), "drip", 275), source="b", clock=clock)
    ticks[0] += 0.5
    assert cache.get(session) is first
    assert cache.fresh() is first
    ticks[0] += 0.6
    assert cache.fresh() is None
    second = cache.get(session)
    assert second.version == first.version + 1
