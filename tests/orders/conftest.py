"""Fixtures of the order-service tests: real databases (see tests/orders/database.py)."""

from __future__ import annotations

from tests.orders.database import (
    backend,
    catalog,
    clock,
    database_url,
    empty_url,
    engine,
    session,
    sessions,
)

__all__ = [
    "backend",
    "catalog",
    "clock",
    "database_url",
    "empty_url",
    "engine",
    "session",
    "sessions",
]
