"""The dialogue's tables: conversation sessions, unmatched phrases, and voice PIN settings.

They share the declarative base of orders/tables.py; the schema comes from the migration
orders/migrations/versions/dialog01_dialog_tables.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from orders.tables import ID_LENGTH, Base, Channel

SESSION_ID_LENGTH = 255
"""Alexa session ids are about 90 characters; leave room for other channels."""


class DialogSession(Base):
    """One conversation: its state document, kept here so any worker can take the next turn."""

    __tablename__ = "dialog_sessions"
    __table_args__ = (Index("ix_dialog_sessions_updated_at", "updated_at"),)

    id: Mapped[str] = mapped_column(String(SESSION_ID_LENGTH), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[Channel]
    state: Mapped[dict[str, Any]]
    """The typed state of orders/dialog_state.py as JSON."""
    turns: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UnmatchedPhrase(Base):
    """A product phrase that matched nothing, kept for the owner's catalog report."""

    __tablename__ = "unmatched_phrases"
    __table_args__ = (Index("ix_unmatched_phrases_store_id_at", "store_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(500))
    """The words taken for a product ("the blue dish soap")."""
    utterance: Mapped[str] = mapped_column(Text)
    """The whole turn's text, for context."""
    suggestion: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """The product offered as "did you mean", if any."""
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    store_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    channel: Mapped[Channel]
    session_id: Mapped[str] = mapped_column(String(SESSION_ID_LENGTH))
    at: Mapped[datetime]


class VoiceSettings(Base):
    """A customer's optional voice PIN and the order total above which it is asked for."""

    __tablename__ = "voice_settings"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    """argon2 hash of the PIN; None means no PIN."""
    pin_above: Mapped[int | None]
    """Cents: a PIN is asked only for totals above this; None asks for every order."""
    updated_at: Mapped[datetime]
