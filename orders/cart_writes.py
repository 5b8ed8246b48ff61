"""Cart changes written with Core statements, the loaded ORM cart kept in step.

Adding to the cart runs before every voice or app order. The ORM flush of one new line and
the cart's timestamp cost about two thirds of an add (profiled: unit-of-work sorting and
bookkeeping), so an add collects its changes in a CartEdit and writes them here: one INSERT
... RETURNING per batch of new lines, one UPDATE per changed quantity, one for the cart. The
session's objects get the written values as committed state: new lines become persistent
(`make_transient_to_detached` + `add`, no INSERT), so later ORM changes in the same session
(a quantity set, a removal, checkout) work on them as on loaded lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from orders import tables
from orders.order_insert import insert_rows

LINES = cast(Table, tables.CartLine.__table__)
CARTS = cast(Table, tables.Cart.__table__)


@dataclass
class CartEdit:
    """What an add changes in a loaded cart, before it is written (see `write_edit`)."""

    cart: tables.Cart
    lines: list[tables.CartLine]
    """The cart's lines as they will be: the `loaded` ones, then the new ones."""
    loaded: int
    quantities: dict[int, int] = field(default_factory=dict)
    """New quantities of loaded lines, by the line's position in `lines`."""
    store_id: str | None = None
    """The cart moves to this store when set."""

    @classmethod
    def of(cls, cart: tables.Cart) -> CartEdit:
        """An edit that changes nothing yet."""
        return cls(cart, list(cart.lines), len(cart.lines))

    @property
    def new_lines(self) -> list[tables.CartLine]:
        """The lines this edit adds (transient until written)."""
        return self.lines[self.loaded :]

    def quantity(self, index: int) -> int:
        """The line's quantity with this edit."""
        return self.quantities.get(index, self.lines[index].quantity)

    def set_quantity(self, index: int, quantity: int) -> None:
        """Change a line's quantity (a new line's is changed in place: it is not written yet)."""
        if index >= self.loaded:
            self.lines[index].quantity = quantity
        else:
            self.quantities[index] = quantity

    def add_line(self, line: tables.CartLine) -> None:
        """Append a new (transient) line."""
        line.cart_id = self.cart.id
        self.lines.append(line)


_SET_QUANTITY = update(LINES).where(LINES.c.id == bindparam("line_id"))
_TOUCH_CART = update(CARTS).where(CARTS.c.id == bindparam("cart_id"))
"""Built once; the SET clause comes from the parameters' column names."""


def write_edit(session: Session, edit: CartEdit, *, now: datetime) -> None:
    """Write the edit and the cart's timestamp in the session's transaction."""
    connection = session.connection()
    cart = edit.cart
    new_lines = edit.new_lines
    insert_rows(connection, tables.CartLine, new_lines)
    for line in new_lines:
        make_transient_to_detached(line)
        session.add(line)
    for index, quantity in edit.quantities.items():
        line = edit.lines[index]
        connection.execute(_SET_QUANTITY, {"line_id": line.id, "quantity": quantity})
        set_committed_value(line, "quantity", quantity)
    values: dict[str, object] = {"updated_at": now}
    if edit.store_id is not None:
        values["store_id"] = edit.store_id
    connection.execute(_TOUCH_CART, {"cart_id": cart.id, **values})
    for key, value in values.items():
        set_committed_value(cart, key, value)
    set_committed_value(cart, "lines", edit.lines)


_EMPTY = delete(LINES).where(LINES.c.cart_id == bindparam("cart_id"))


def empty_cart(session: Session, cart: tables.Cart) -> None:
    """Delete the cart's lines with one statement (checkout), and forget them in the session."""
    session.connection().execute(_EMPTY, {"cart_id": cart.id})
    for line in cart.lines:
        session.expunge(line)
    set_committed_value(cart, "lines", [])
