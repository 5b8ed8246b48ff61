"""Store staff and notifications: accounts, memberships, sessions, store switches, the outbox.

They share the declarative base of orders/tables.py; the schema comes from the migration
orders/migrations/versions/staff01_staff_and_outbox.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from orders.tables import ID_LENGTH, Base, Order, OrderStatus

NOTIFICATION_ID_LENGTH = 36
"""A notification id is a UUID in its 36-character text form."""


class StaffRole(StrEnum):
    """What a staff member may do at a store: baristas work the queue, managers also switch."""

    BARISTA = "barista"
    MANAGER = "manager"


class DeliveryStatus(StrEnum):
    """Where one notification is on one channel."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    """Given up after too many attempts or a permanent refusal (the dead-letter state)."""


class SubstitutionStatus(StrEnum):
    """An out-of-stock line's offer of substitutes, and the shopper's answer."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class StaffUser(Base):
    """A staff account; the password is kept only as an argon2 hash."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Lower-cased; the login name."""
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool]
    created_at: Mapped[datetime]

    memberships: Mapped[list[StaffMembership]] = relationship(
        back_populates="staff",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
        order_by="StaffMembership.store_id",
    )


class StaffMembership(Base):
    """A staff member's role at one store; no row means no access to that store at all."""

    __tablename__ = "staff_memberships"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    store_id: Mapped[str] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[StaffRole]
    created_at: Mapped[datetime]

    staff: Mapped[StaffUser] = relationship(back_populates="memberships", lazy="raise_on_sql")


class StaffSession(Base):
    """A logged-in browser: the SHA-256 of its cookie token, and its CSRF token."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class StoreSettings(Base):
    """A manager's switches for a store: pause pickup orders, or add preparation minutes."""

    __tablename__ = "store_settings"

    store_id: Mapped[str] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    pickup_paused: Mapped[bool]
    extra_prep_minutes: Mapped[int]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(320))


class Notification(Base):
    """Something that happened to an order, written in the same transaction as the change.

    `id` is what every channel carries, so that a client can drop a duplicate delivery.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_notifications_store_id_created_at", "store_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(NOTIFICATION_ID_LENGTH), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int]
    store_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    event: Mapped[str] = mapped_column(String(64))
    """"order.placed", "order.ready", "substitution.offered", ..."""
    status: Mapped[OrderStatus]
    """The order's status right after the change."""
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]

    order: Mapped[Order] = relationship(lazy="raise_on_sql")
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notification", lazy="raise_on_sql", cascade="all, delete-orphan"
    )


class Delivery(Base):
    """One notification on one channel (the store screen, the app, Alexa, a webhook)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    """The channel's addressee: a store id, a customer id, an Alexa user id, a webhook id."""
    status: Mapped[DeliveryStatus]
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    """A dispatcher's claim; once it has passed, any dispatcher may claim the row again."""
    locked_by: Mapped[str] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text)

    notification: Mapped[Notification] = relationship(
        back_populates="deliveries", lazy="raise_on_sql"
    )


class WebhookEndpoint(Base):
    """Where a store system or an SMS gateway wants signed notifications."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    """None sends the notifications of every store."""
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    """The HMAC key; kept in clear because signing needs it."""
    events: Mapped[list[str]]
    """Event names to send ("order.ready", ...); empty sends every event."""
    active: Mapped[bool]
    created_at: Mapped[datetime]


class Substitution(Base):
    """Staff found a line out of stock and offered substitutes; the shopper accepts or cancels."""

    __tablename__ = "substitutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    """The product that is out of stock."""
    offered: Mapped[list[str]]
    """Product ids offered instead, best first."""
    status: Mapped[SubstitutionStatus]
    chosen_product_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    offered_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
