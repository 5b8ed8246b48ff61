"""Orders as plain rows, and the shape a ticket needs of an order.

The staff pages build tickets from ORM orders; the outbox dispatcher, which renders every
notification, reads the same orders as plain rows (two queries, no ORM objects): on the
pickup path that is several times cheaper. Both satisfy TicketOrder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from orders import tables
from orders.tables import Channel, OrderStatus


class TicketLine(Protocol):
    """What a ticket shows of an order line (an OrderLine, or a LineRow)."""

    @property
    def id(self) -> int: ...
    @property
    def product_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> int: ...
    @property
    def line_total(self) -> int: ...
    @property
    def options(self) -> list[dict[str, Any]]: ...


class TicketOrder(Protocol):
    """What a ticket shows of an order (an Order with its lines loaded, or an OrderRow)."""

    @property
    def id(self) -> int: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def store_id(self) -> str: ...
    @property
    def status(self) -> OrderStatus: ...
    @property
    def channel(self) -> Channel: ...
    @property
    def placed_at(self) -> datetime: ...
    @property
    def promised_at(self) -> datetime | None: ...
    @property
    def requested_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def currency(self) -> str: ...
    @property
    def subtotal(self) -> int: ...
    @property
    def tax(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def lines(self) -> Sequence[TicketLine]: ...


@dataclass(frozen=True)
class LineRow:
    """An order line read as a plain row."""

    id: int
    product_id: str
    name: str
    quantity: int
    unit_price: int
    line_total: int
    options: list[dict[str, Any]]


@dataclass(frozen=True)
class OrderRow:
    """An order and its lines read as plain rows: no ORM objects, for the hot read paths."""

    id: int
    customer_id: int
    store_id: str
    status: OrderStatus
    channel: Channel
    placed_at: datetime
    promised_at: datetime | None
    requested_at: datetime | None
    updated_at: datetime
    currency: str
    subtotal: int
    tax: int
    total: int
    lines: tuple[LineRow, ...]


_ORDER_COLUMNS = [name for name in OrderRow.__dataclass_fields__ if name != "lines"]
_LINE_COLUMNS = list(LineRow.__dataclass_fields__)
_ORDERS, _LINES = tables.Order.__table__.c, tables.OrderLine.__table__.c
_LINES_OF = (
    select(_LINES.order_id, *(_LINES[name] for name in _LINE_COLUMNS))
    .where(_LINES.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(_LINES.order_id, _LINES.position)
)
_ORDERS_BY_ID = select(*(_ORDERS[name] for name in _ORDER_COLUMNS)).where(
    _ORDERS.id.in_(bindparam("ids", expanding=True))
)
"""Built once: the dispatcher renders every notification from them."""


def order_rows(session: Session, order_ids: Iterable[int]) -> dict[int, OrderRow]:
    """Orders by id with their lines, in two queries of plain rows (missing ids are absent)."""
    ids = list(set(order_ids))
    if not ids:
        return {}
    lines: dict[int, list[LineRow]] = {order_id: [] for order_id in ids}
    for order_id, *values in session.execute(_LINES_OF, {"ids": ids}):
        lines[order_id].append(LineRow(*values))
    return {
        row.id: OrderRow(lines=tuple(lines[row.id]), **row._asdict())
        for row in session.execute(_ORDERS_BY_ID, {"ids": ids})
    }
