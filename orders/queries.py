"""Order status and order history, always scoped to one customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from orders import tables
from orders.errors import OrderNotFound
from orders.tables import FINAL

MAX_PAGE = 100


def get_order(session: Session, customer_id: int, order_id: int) -> tables.Order:
    """One of the customer's orders with lines and events; another customer's is not found."""
    query = (
        select(tables.Order)
        .where(tables.Order.id == order_id, tables.Order.customer_id == customer_id)
        .options(selectinload(tables.Order.lines), selectinload(tables.Order.events))
    )
    order = session.scalars(query).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def order_history(
    session: Session,
    customer_id: int,
    *,
    limit: int = 20,
    before_id: int | None = None,
    store_id: str | None = None,
    since: datetime | None = None,
) -> list[tables.Order]:
    """The customer's orders, newest first, with their lines; page with `before_id`."""
    query = (
        select(tables.Order)
        .where(tables.Order.customer_id == customer_id)
        .options(selectinload(tables.Order.lines))
        .order_by(tables.Order.id.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    if before_id is not None:
        query = query.where(tables.Order.id < before_id)
    if store_id is not None:
        query = query.where(tables.Order.store_id == store_id)
    if since is not None:
        query = query.where(tables.Order.placed_at >= since)
    return list(session.scalars(query))


def open_orders(session: Session, customer_id: int) -> list[tables.Order]:
    """The customer's orders not finished yet ("where is my order?"), oldest first."""
    query = (
        select(tables.Order)
        .where(tables.Order.customer_id == customer_id, tables.Order.status.not_in(FINAL))
        .options(selectinload(tables.Order.lines), selectinload(tables.Order.events))
        .order_by(tables.Order.id)
    )
    return list(session.scalars(query))
