"""The cart use cases: add, change quantity or request, remove, clear, choose the store, read.

A customer has one cart shared by every channel. Each change locks the customer's row first
(SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions are serialised anyway), so that two
devices adding at once never lose an update. Each use case is one transaction: it commits
before it returns the priced cart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog.errors import VoiceCartError
from catalog.model import Catalog, Store
from orders import tables
from orders.cart_writes import CartEdit, write_edit
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import LineNotFound, QuantityInvalid, StoreNotFound, StoreRequired
from orders.pricing import (
    MAX_QUANTITY,
    ChosenOption,
    OptionsInput,
    check_quantity,
    choose_options,
    clean_note,
    options_input,
    options_key,
    sellable_product,
    stored_options,
    tax_on,
    unit_price,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PricedLine:
    """A cart line priced with today's catalog; `problem` says why it cannot be bought now."""

    id: int
    product_id: str
    name: str
    quantity: int
    options: tuple[ChosenOption, ...]
    unit_price: int | None
    line_total: int
    problem: str | None = None
    note: str | None = None

    @property
    def available(self) -> bool:
        """Whether the line can be checked out as it is."""
        return self.problem is None


@dataclass(frozen=True)
class CartView:
    """A priced cart: lines, subtotal, tax by the cart's store, total (all in cents)."""

    customer_id: int
    store_id: str | None
    currency: str
    lines: tuple[PricedLine, ...]
    subtotal: int
    tax_rate: Decimal
    tax: int
    total: int

    @property
    def item_count(self) -> int:
        """How many units the cart holds."""
        return sum(line.quantity for line in self.lines)


_CUSTOMERS = cast(Table, tables.Customer.__table__)
_LOCK_CUSTOMER = (
    select(_CUSTOMERS.c.id).where(_CUSTOMERS.c.id == bindparam("customer_id")).with_for_update()
)
_CUSTOMER_WITH_CART = (
    select(tables.Customer)
    .where(tables.Customer.id == bindparam("customer_id"))
    .options(joinedload(tables.Customer.cart).joinedload(tables.Cart.lines))
    .execution_options(populate_existing=True)
)
"""Built once: the two statements of every cart change and checkout (see lock_customer)."""


def lock_customer(session: Session, customer_id: int) -> tables.Customer:
    """Begin the write, lock the customer's row, then load the customer with cart and lines.

    The row lock is the per-customer mutex of carts and checkout. The loading must be a
    statement of its own, after the lock: on PostgreSQL a FOR UPDATE that waited re-reads only
    the locked row, so rows joined in the same statement could predate the other
    transaction's commit (a second checkout would see the cart the first one just emptied).
    """
    begin_write(session)
    key = {"customer_id": customer_id}
    session.execute(_LOCK_CUSTOMER, key).one()
    return session.scalars(_CUSTOMER_WITH_CART, key).unique().one()


def load_cart(session: Session, customer: tables.Customer, *, clock: Clock) -> tables.Cart:
    """The locked customer's cart (loaded by lock_customer), created on first use."""
    cart = customer.cart
    if cart is None:
        cart = tables.Cart(
            customer_id=customer.id, store_id=customer.home_store_id, updated_at=clock(), lines=[]
        )
        session.add(cart)
        session.flush()
    return cart


def cart_store(catalog: Catalog, store_id: str | None) -> Store | None:
    """The store a cart shops at: its own, or the catalog's only store; None when ambiguous."""
    if store_id is not None:
        return catalog.store(store_id)
    return catalog.stores[0] if len(catalog.stores) == 1 else None


def resolve_store(catalog: Catalog, store_id: str | None) -> Store:
    """The store an order goes to: the one asked for (or the cart's), or the only store."""
    if store_id is not None and catalog.store(store_id) is None:
        raise StoreNotFound(store_id)
    store = cart_store(catalog, store_id)
    if store is None:
        raise StoreRequired()
    return store


def price_line(catalog: Catalog, line: tables.CartLine, store_id: str | None) -> PricedLine:
    """Price a stored line with the current catalog; a line that no longer fits gets a problem."""
    product = catalog.product(line.product_id)
    name = product.name if product is not None else line.product_id
    try:
        product = sellable_product(catalog, line.product_id, store_id)
        chosen = choose_options(catalog, product, options_input(line.options))
        price = unit_price(product, chosen)
    except VoiceCartError as error:
        return PricedLine(
            line.id, line.product_id, name, line.quantity, (), None, 0, error.detail, note=line.note
        )
    return PricedLine(
        line.id,
        line.product_id,
        product.name,
        line.quantity,
        chosen,
        price,
        price * line.quantity,
        note=line.note,
    )


def view_cart(catalog: Catalog, customer_id: int, cart: tables.Cart) -> CartView:
    """Price a cart."""
    store = cart_store(catalog, cart.store_id)
    store_id = store.id if store is not None else None
    lines = tuple(price_line(catalog, line, store_id) for line in cart.lines)
    subtotal = sum(line.line_total for line in lines)
    rate = store.tax_rate if store is not None else Decimal(0)
    tax = tax_on(subtotal, rate)
    return CartView(
        customer_id, store_id, catalog.currency, lines, subtotal, rate, tax, subtotal + tax
    )


def read_cart(session: Session, customer_id: int, *, catalog: Catalog) -> CartView:
    """The customer's cart, priced with the current catalog (reads only)."""
    query = (
        select(tables.Cart)
        .where(tables.Cart.customer_id == customer_id)
        .options(selectinload(tables.Cart.lines))
    )
    cart = session.scalars(query).first()
    if cart is None:
        customer = session.get(tables.Customer, customer_id)
        home = customer.home_store_id if customer is not None else None
        cart = tables.Cart(customer_id=customer_id, store_id=home, lines=[])
    return view_cart(catalog, customer_id, cart)


@dataclass(frozen=True)
class CartItem:
    """A product, quantity and options to add (e.g. copied from an earlier order)."""

    product_id: str
    quantity: int = 1
    options: OptionsInput = field(default_factory=dict)
    note: str | None = None
    """A special request for the line ("extra hot, no lid")."""


@dataclass(frozen=True)
class Skipped:
    """An item that could not be added, and why (discontinued, not sold here, ...)."""

    product_id: str
    reason: str


def add_to_cart(
    session: Session,
    customer_id: int,
    *,
    catalog: Catalog,
    product_id: str,
    quantity: int = 1,
    options: OptionsInput | None = None,
    note: str | None = None,
    clock: Clock = utc_now,
) -> CartView:
    """Add a product with options (and a special request): the same product with the same
    options and request adds to its line."""
    edit = CartEdit.of(load_cart(session, lock_customer(session, customer_id), clock=clock))
    _add(catalog, edit, CartItem(product_id, quantity, options or {}, note), clock)
    return _commit_edit(session, catalog, edit, clock)


def add_items(
    session: Session,
    customer_id: int,
    items: Sequence[CartItem],
    *,
    catalog: Catalog,
    store_id: str | None = None,
    clock: Clock = utc_now,
) -> tuple[CartView, tuple[Skipped, ...]]:
    """Add several items in one transaction; those that cannot be added are skipped, with why.

    With `store_id`, an empty cart first moves to that store (a reorder shops where it did).
    """
    edit = CartEdit.of(load_cart(session, lock_customer(session, customer_id), clock=clock))
    if store_id is not None and not edit.lines and catalog.store(store_id) is not None:
        edit.store_id = store_id
    skipped: list[Skipped] = []
    for item in items:
        try:
            _add(catalog, edit, item, clock)
        except VoiceCartError as error:
            skipped.append(Skipped(item.product_id, error.detail))
    return _commit_edit(session, catalog, edit, clock), tuple(skipped)


def _add(catalog: Catalog, edit: CartEdit, item: CartItem, clock: Clock) -> None:
    """Add one item to the edit, merging with a line of the same product, options and note."""
    check_quantity(item.quantity)
    note = clean_note(item.note)
    store = cart_store(catalog, edit.store_id or edit.cart.store_id)
    product = sellable_product(catalog, item.product_id, store.id if store is not None else None)
    stored = stored_options(choose_options(catalog, product, item.options))
    key = options_key(stored, note)
    index = next(
        (
            i
            for i, line in enumerate(edit.lines)
            if line.product_id == product.id and line.options_key == key
        ),
        None,
    )
    if index is None:
        edit.add_line(
            tables.CartLine(
                product_id=product.id,
                quantity=item.quantity,
                options=stored,
                options_key=key,
                added_at=clock(),
                note=note,
            )
        )
    elif edit.quantity(index) + item.quantity > MAX_QUANTITY:
        raise QuantityInvalid(edit.quantity(index) + item.quantity, low=1, high=MAX_QUANTITY)
    else:
        edit.set_quantity(index, edit.quantity(index) + item.quantity)


def set_quantity(
    session: Session,
    customer_id: int,
    line_id: int,
    quantity: int,
    *,
    catalog: Catalog,
    clock: Clock = utc_now,
) -> CartView:
    """Change a line's quantity; 0 removes the line."""
    check_quantity(quantity, low=0)
    cart = load_cart(session, lock_customer(session, customer_id), clock=clock)
    line = _line(cart, line_id)
    if quantity == 0:
        cart.lines.remove(line)
    else:
        line.quantity = quantity
    return _commit(session, catalog, cart, clock)


def remove_line(
    session: Session, customer_id: int, line_id: int, *, catalog: Catalog, clock: Clock = utc_now
) -> CartView:
    """Remove one line from the cart."""
    return set_quantity(session, customer_id, line_id, 0, catalog=catalog, clock=clock)


def clear_cart(
    session: Session, customer_id: int, *, catalog: Catalog, clock: Clock = utc_now
) -> CartView:
    """Empty the cart (it keeps its store)."""
    cart = load_cart(session, lock_customer(session, customer_id), clock=clock)
    cart.lines.clear()
    return _commit(session, catalog, cart, clock)


def choose_store(
    session: Session, customer_id: int, store_id: str, *, catalog: Catalog, clock: Clock = utc_now
) -> CartView:
    """Shop at another store: lines it does not sell stay, marked with their problem."""
    if catalog.store(store_id) is None:
        raise StoreNotFound(store_id)
    cart = load_cart(session, lock_customer(session, customer_id), clock=clock)
    cart.store_id = store_id
    return _commit(session, catalog, cart, clock)


def set_note(
    session: Session,
    customer_id: int,
    line_id: int,
    note: str | None,
    *,
    catalog: Catalog,
    clock: Clock = utc_now,
) -> CartView:
    """Set (or with None clear) a line's special request.

    A line that then equals another line of the cart (same product, options and request)
    joins it, as adding it again would have.
    """
    note = clean_note(note)
    cart = load_cart(session, lock_customer(session, customer_id), clock=clock)
    line = _line(cart, line_id)
    key = options_key(line.options, note)
    twin = next(
        (
            other
            for other in cart.lines
            if other is not line
            and other.product_id == line.product_id
            and other.options_key == key
        ),
        None,
    )
    if twin is None:
        line.note, line.options_key = note, key
    elif twin.quantity + line.quantity > MAX_QUANTITY:
        raise QuantityInvalid(twin.quantity + line.quantity, low=1, high=MAX_QUANTITY)
    else:
        twin.quantity += line.quantity
        cart.lines.remove(line)
    return _commit(session, catalog, cart, clock)


def _line(cart: tables.Cart, line_id: int) -> tables.CartLine:
    """The cart's line with this id (another cart's line is not found either)."""
    for line in cart.lines:
        if line.id == line_id:
            return line
    raise LineNotFound(line_id)


def _commit_edit(session: Session, catalog: Catalog, edit: CartEdit, clock: Clock) -> CartView:
    """Write the edit with Core statements, commit and price the cart."""
    write_edit(session, edit, now=clock())
    view = view_cart(catalog, edit.cart.customer_id, edit.cart)
    session.commit()
    return view


def _commit(session: Session, catalog: Catalog, cart: tables.Cart, clock: Clock) -> CartView:
    """Stamp, commit and price the cart."""
    cart.updated_at = clock()
    session.flush()
    view = view_cart(catalog, cart.customer_id, cart)
    session.commit()
    return view
