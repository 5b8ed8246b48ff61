"""Column types: aware UTC datetimes and exact decimals, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from orders import tables
from orders.catalog_store import load_catalog_into
from tests.orders.factories import FakeClock, make_catalog


def test_datetimes_come_back_aware_in_utc(session: Session) -> None:
    local = datetime(2025, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=-7)))
    customer = tables.Customer(name="Tz", home_store_id=None, created_at=local)
    session.add(customer)
    session.commit()
    session.expunge_all()
    loaded = session.get(tables.Customer, customer.id)
    assert loaded is not None
    assert loaded.created_at == datetime(2025, 6, 1, 16, 30, tzinfo=UTC)
    assert loaded.created_at.tzinfo is UTC


def test_datetime_comparisons_in_queries_use_utc(session: Session) -> None:
    session.add(tables.Customer(name="A", created_at=datetime(2025, 1, 1, 12, tzinfo=UTC)))
    session.commit()
    later_elsewhere = datetime(2025, 1, 1, 13, tzinfo=timezone(timedelta(hours=2)))  # 11:00 UTC
    found = session.scalars(
        select(tables.Customer).where(tables.Customer.created_at > later_elsewhere)
    ).all()
    assert [c.name for c in found] == ["A"]


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(tables.Customer(name="Naive", created_at=datetime(2025, 1, 1, 12)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_tax_rates_stay_exact(session: Session) -> None:
    load_catalog_into(session, make_catalog(), source="tests", clock=FakeClock())
    session.expunge_all()
    store = session.get(tables.Store, "market")
    assert store is not None
    assert store.tax_rate == Decimal("0.08")
    assert isinstance(store.tax_rate, Decimal)
