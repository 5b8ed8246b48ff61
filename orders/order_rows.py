"""Orders as plain rows, and the shape a ticket needs of an order.

The staff pages build tickets from ORM orders; the outbox dispatcher, which renders every
notification, reads the same orders as plain rows (with its notifications, then the lines; no
ORM objects): on the pickup path that is several times cheaper. Both satisfy TicketOrder.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    @property
    def note(self) -> str | None: ...


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
    note: str | None


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


ORDER_COLUMNS = [name for name in OrderRow.__dataclass_fields__ if name != "lines"]
"""The orders' columns an OrderRow holds (a caller may read them in a statement of its own)."""
_LINE_COLUMNS = list(LineRow.__dataclass_fields__)
_LINES = tables.OrderLine.__table__.c
_LINES_OF = (
    select(_LINES.order_id, *(_LINES[name] for name in _LINE_COLUMNS))
    .where(_LINES.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(_LINES.order_id, _LINES.position)
)
"""Built once: the dispatcher renders every notification with it."""


def with_lines(session: Session, orders: Sequence[dict[str, Any]]) -> dict[int, OrderRow]:
    """Orders read already (ORDER_COLUMNS by name, one dict per order) with their lines."""
    if not orders:
        return {}
    lines: dict[int, list[LineRow]] = {order["id"]: [] for order in orders}
    for order_id, *values in session.execute(_LINES_OF, {"ids": list(lines)}):
        lines[order_id].append(LineRow(*values))
    return {order["id"]: OrderRow(lines=tuple(lines[order["id"]]), **order) for order in orders}
