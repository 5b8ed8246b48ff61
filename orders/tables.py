"""The database tables as SQLAlchemy 2.0 typed models; money is in integer cents.

Relationships raise on lazy loads (`raise_on_sql`): every query says what it loads.
Schema changes go through a migration in orders/migrations/versions/.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from orders.columns import DecimalText, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 64
"""Catalog ids (stores, products, option groups, choices) are short slugs."""
NOTE_LENGTH = 140
"""Characters of a line's special request ("extra hot, no lid")."""


class Channel(StrEnum):
    """Where an order or a request came from."""

    APP = "app"
    ALEXA = "alexa"
    TEXT = "text"
    API = "api"


class IdentityKind(StrEnum):
    """How a customer is recognised on a channel."""

    APP_TOKEN = "app_token"
    """The SHA-256 of an API token; the token itself is never stored."""
    ALEXA_USER = "alexa_user"
    PHONE = "phone"


class Fulfilment(StrEnum):
    """How the order reaches the shopper."""

    DELIVERY = "delivery"
    PICKUP = "pickup"


class OrderStatus(StrEnum):
    """Where an order is in its life (see orders/pickup.py for the allowed transitions)."""

    PLACED = "placed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


ACTIVE = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
"""Statuses of an order the store still works on."""
FINAL = (
    OrderStatus.PICKED_UP,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
)
"""Statuses with no way out (orders/pickup.py TRANSITIONS)."""


class ActorKind(StrEnum):
    """Who changed an order: the shopper, store staff, or the system itself."""

    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


class Base(DeclarativeBase):
    """The one declarative base: naming convention and the column types for annotations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        Decimal: DecimalText(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
        enum.Enum: Enum(
            enum.Enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]
        ),
    }


class CatalogLoad(Base):
    """One `catalog load`; its id is the catalog version that processes compare."""

    __tablename__ = "catalog_loads"

    id: Mapped[int] = mapped_column(primary_key=True)
    loaded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    prep_minutes: Mapped[dict[str, Any]]
    """Merged preparation minutes per category after this load."""
    products: Mapped[int]
    """How many products this load inserted or updated."""


class Store(Base):
    """A store or café; `hours` is None when it is always open."""

    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(64))
    pickup: Mapped[bool]
    tax_rate: Mapped[Decimal]
    hours: Mapped[dict[str, Any] | None]
    catalog_version: Mapped[int]


class OptionGroup(Base):
    """A customisation (size, milk) and, in `choices`, what can be picked."""

    __tablename__ = "option_groups"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool]
    max_choices: Mapped[int]
    amounts: Mapped[bool]
    catalog_version: Mapped[int]

    choices: Mapped[list[OptionChoice]] = relationship(
        back_populates="group",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
        order_by="OptionChoice.position",
    )


class OptionChoice(Base):
    """One choice of an option group; `price_delta` in cents."""

    __tablename__ = "option_choices"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("option_groups.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]]
    price_delta: Mapped[int]

    group: Mapped[OptionGroup] = relationship(back_populates="choices", lazy="raise_on_sql")


class Product(Base):
    """A sellable product; `price` in cents, None when the source had no price."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    price: Mapped[int | None]
    category: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(200))
    size: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[list[str]]
    tags: Mapped[list[str]]
    option_groups: Mapped[list[str]]
    defaults: Mapped[dict[str, Any]]
    stores: Mapped[list[str] | None]
    """Store ids that sell it; None means every store."""
    catalog_version: Mapped[int]


class Customer(Base):
    """A shopper, the same on every channel."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    home_store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"))
    created_at: Mapped[datetime]

    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", lazy="raise_on_sql", cascade="all, delete-orphan"
    )
    cart: Mapped[Cart | None] = relationship(lazy="raise_on_sql", viewonly=True)
    """The customer's cart, loaded on purpose with it (orders/carts.py `lock_customer`)."""


class Identity(Base):
    """How a customer is known on one channel: a hashed app token, an Alexa user id, a phone."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[IdentityKind]
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship(back_populates="identities", lazy="raise_on_sql")


class Cart(Base):
    """A customer's one cart, shared by every channel."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"))
    updated_at: Mapped[datetime]

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
        order_by="CartLine.id",
    )


class CartLine(Base):
    """A product with its chosen options and a quantity; priced when read, from the catalog."""

    __tablename__ = "cart_lines"
    __table_args__ = (UniqueConstraint("cart_id", "product_id", "options_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    options: Mapped[list[dict[str, Any]]]
    """[{"group": id, "choice": id, "amount": amount}, ...] in the product's group order."""
    options_key: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the canonical `options` (and the note, if any): the same product, options
    and note make one line."""
    added_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(NOTE_LENGTH), default=None)
    """The shopper's special request for this line, shown on the staff's ticket."""

    cart: Mapped[Cart] = relationship(back_populates="lines", lazy="raise_on_sql")


class Order(Base):
    """A placed order; lines and totals are a snapshot and never change with the catalog."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key"),
        Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),
        Index("ix_orders_store_id_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    channel: Mapped[Channel]
    fulfilment: Mapped[Fulfilment]
    status: Mapped[OrderStatus]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int]
    tax: Mapped[int]
    total: Mapped[int]
    tax_rate: Mapped[Decimal]
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime]
    requested_at: Mapped[datetime | None]
    """The pickup time the shopper asked for; None means as soon as possible."""
    promised_at: Mapped[datetime | None]
    """The ready time promised for a pickup order."""
    prep_minutes: Mapped[int]
    address: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
        order_by="OrderLine.position",
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
        order_by="OrderEvent.id",
    )


class OrderLine(Base):
    """One ordered line with the prices and option names as they were at checkout."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    base_price: Mapped[int]
    unit_price: Mapped[int]
    line_total: Mapped[int]
    options: Mapped[list[dict[str, Any]]]
    """The cart line's options plus their names and price deltas at checkout."""
    note: Mapped[str | None] = mapped_column(String(NOTE_LENGTH), default=None)
    """The cart line's special request."""

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise_on_sql")


class OrderEvent(Base):
    """One status change of an order: from, to, who and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[OrderStatus | None]
    to_status: Mapped[OrderStatus]
    actor_kind: Mapped[ActorKind]
    actor_id: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="events", lazy="raise_on_sql")
