"""A manager's switches for a store: pause pickup orders, or add minutes to every promise.

The pickup planner (orders/pickup.py) reads them for every estimate and every pickup order, so
voice ordering says "not taking pickup orders right now" or quotes the later time by itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from catalog.model import Store
from orders import tables
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import FieldInvalid, PickupPaused
from orders.staff_tables import StoreSettings

logger = logging.getLogger(__name__)

MAX_EXTRA_MINUTES = 240


@dataclass(frozen=True)
class Switches:
    """A store's switches as they are now (the defaults when the manager never touched them)."""

    store_id: str
    pickup_paused: bool = False
    extra_prep_minutes: int = 0


_SETTINGS = cast(Table, StoreSettings.__table__)
_STORES = cast(Table, tables.Store.__table__)
_COLUMNS = (_SETTINGS.c.pickup_paused, _SETTINGS.c.extra_prep_minutes)
_READ = select(*_COLUMNS).where(_SETTINGS.c.store_id == bindparam("store_id"))
_LOCK_AND_READ = (
    select(*_COLUMNS)
    .select_from(_STORES.outerjoin(_SETTINGS, _SETTINGS.c.store_id == _STORES.c.id))
    .where(_STORES.c.id == bindparam("store_id"))
    .with_for_update(of=_STORES)
)
"""Built once, of table columns (no ORM step): every pickup order and estimate reads them."""


def read_switches(session: Session, store_id: str, *, lock_store: bool = False) -> Switches:
    """The store's current switches; with `lock_store`, the store's row is locked as well.

    The lock is the one a pickup order takes to queue behind the store's other orders
    (orders/pickup.py plan_pickup); reading the switches in the same statement saves a
    round trip on every pickup order. Columns, not objects: this runs on every estimate.
    """
    query = _LOCK_AND_READ if lock_store else _READ
    row = session.execute(query, {"store_id": store_id}).first()
    if row is None or row.pickup_paused is None:  # never set (or, locking, no such store)
        return Switches(store_id)
    return Switches(store_id, row.pickup_paused, row.extra_prep_minutes)


def set_switches(
    session: Session,
    store_id: str,
    *,
    pickup_paused: bool | None = None,
    extra_prep_minutes: int | None = None,
    by: str,
    clock: Clock = utc_now,
) -> Switches:
    """Change one or both switches (None leaves one as it is); commits; returns the new state."""
    if extra_prep_minutes is not None and not 0 <= extra_prep_minutes <= MAX_EXTRA_MINUTES:
        raise FieldInvalid("extra_prep_minutes", f"must be 0 to {MAX_EXTRA_MINUTES}")
    begin_write(session)
    row = session.get(StoreSettings, store_id, with_for_update=True)
    if row is None:
        row = StoreSettings(
            store_id=store_id, pickup_paused=False, extra_prep_minutes=0, updated_by=by
        )
        session.add(row)
    if pickup_paused is not None:
        row.pickup_paused = pickup_paused
    if extra_prep_minutes is not None:
        row.extra_prep_minutes = extra_prep_minutes
    row.updated_at = clock()
    row.updated_by = by
    session.commit()
    logger.info(
        "store %s: pickup %s, +%d min (by %s)",
        store_id,
        "paused" if row.pickup_paused else "open",
        row.extra_prep_minutes,
        by,
    )
    return Switches(store_id, row.pickup_paused, row.extra_prep_minutes)


def pickup_extra_minutes(session: Session, store: Store, *, lock_store: bool = False) -> int:
    """Extra preparation minutes for a new pickup at the store; PickupPaused when paused."""
    switches = read_switches(session, store.id, lock_store=lock_store)
    if switches.pickup_paused:
        raise PickupPaused(store.id, store.name)
    return switches.extra_prep_minutes
