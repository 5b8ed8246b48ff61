"""Stores: where the shopper can order from, pickup or not, and whether they are open now."""

from __future__ import annotations

from datetime import time

from fastapi import APIRouter

from catalog.model import Store
from orders.errors import StoreNotFound
from orders.pickup import is_open
from server.deps import CatalogDep, ServicesDep
from server.routes import ERRORS
from server.schemas import StoreOut
from server.session_route import SessionRoute

router = APIRouter(prefix="/stores", tags=["stores"], responses=ERRORS, route_class=SessionRoute)


@router.get("")
def list_stores(catalog: CatalogDep, services: ServicesDep) -> list[StoreOut]:
    """Every store of the catalog."""
    now = services.clock()
    return [_store_out(store, open_now=is_open(store, now)) for store in catalog.catalog.stores]


@router.get("/{store_id}")
def get_store(store_id: str, catalog: CatalogDep, services: ServicesDep) -> StoreOut:
    """One store."""
    store = catalog.catalog.store(store_id)
    if store is None:
        raise StoreNotFound(store_id)
    return _store_out(store, open_now=is_open(store, services.clock()))


def _store_out(store: Store, *, open_now: bool) -> StoreOut:
    hours = None
    if not store.hours.always_open:
        hours = {
            day: [f"{_hhmm(start)}-{_hhmm(end)}" for start, end in ranges]
            for day, ranges in store.hours.days.items()
        }
    return StoreOut(
        id=store.id,
        name=store.name,
        timezone=store.timezone,
        address=store.address,
        phone=store.phone,
        pickup=store.pickup,
        tax_rate=store.tax_rate,
        open_now=open_now,
        hours=hours,
    )


def _hhmm(at: time) -> str:
    """07:00; the end of the day reads 24:00."""
    return "24:00" if at == time.max else at.strftime("%H:%M")
