"""Writing a new order with Core statements: the order, its lines and its first event.

Checkout is the hottest write of the service (every pickup order). The ORM's unit of work
spent more CPU sorting, cascading and bookkeeping these few brand-new rows than the rows
themselves cost (about half of a checkout, profiled). The order is still built as ORM objects,
so every caller gets the same `tables.Order`, but it never joins the session: it is inserted
here, one statement per table, and its ids are set from RETURNING. The object stays transient
(its lines and events are loaded; nothing on it lazy-loads).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Insert, Table, insert, inspect
from sqlalchemy.orm import Session

from orders import tables


def insert_order(session: Session, order: tables.Order) -> None:
    """Insert a new (transient) order with its lines and events; sets every id."""
    connection = session.connection()
    insert_rows(connection, tables.Order, [order])
    for line in order.lines:
        line.order_id = order.id
    for event in order.events:
        event.order_id = order.id
    insert_rows(connection, tables.OrderLine, order.lines)
    insert_rows(connection, tables.OrderEvent, order.events)


def insert_rows(connection: Connection, entity: type[tables.Base], rows: Sequence[Any]) -> None:
    """One INSERT ... RETURNING id for new objects of one entity, in their order; sets `id`."""
    if not rows:
        return
    keys = _column_keys(entity)
    ids = connection.execute(
        _insert_returning_id(entity), [{key: getattr(row, key) for key in keys} for row in rows]
    )
    for row, new_id in zip(rows, ids.scalars(), strict=True):
        row.id = new_id


@cache
def _insert_returning_id(entity: type[tables.Base]) -> Insert:
    """The entity's INSERT ... RETURNING id, built once."""
    table = cast(Table, entity.__table__)
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


@cache
def _column_keys(entity: type[tables.Base]) -> tuple[str, ...]:
    """The entity's column attributes but its generated id."""
    return tuple(attr.key for attr in inspect(entity).column_attrs if attr.key != "id")
