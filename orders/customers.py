"""Customers and their identities per channel: app tokens (stored hashed), Alexa user ids, phones.

API tokens are 256 random bits, so a plain SHA-256 is enough to keep them useless if the table
leaks, and it lets a request find its customer with one indexed lookup. (A slow password hash
such as argon2 protects guessable secrets; it would only add ~50 ms to every request here.)
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orders import tables
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import FieldInvalid, IdentityTaken, StoreNotFound
from orders.tables import IdentityKind

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "vc_"
MAX_NAME = 200


def hash_token(token: str) -> str:
    """The SHA-256 (hex) of an API token: what the identities table keeps."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random API token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_customer(
    session: Session,
    *,
    name: str,
    home_store_id: str | None = None,
    phone: str | None = None,
    clock: Clock = utc_now,
) -> tuple[tables.Customer, str]:
    """Create a customer with an app token; commit; return the customer and the token (once)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise FieldInvalid("name", f"must be 1 to {MAX_NAME} characters")
    begin_write(session)
    if home_store_id is not None and session.get(tables.Store, home_store_id) is None:
        raise StoreNotFound(home_store_id)
    now = clock()
    customer = tables.Customer(name=name, home_store_id=home_store_id, created_at=now)
    session.add(customer)
    session.flush()
    token = new_token()
    session.add(_identity(customer.id, IdentityKind.APP_TOKEN, hash_token(token), now))
    if phone:
        _require_free(session, IdentityKind.PHONE, phone)
        session.add(_identity(customer.id, IdentityKind.PHONE, phone, now))
    session.commit()
    logger.info("customer %d created (home store %s)", customer.id, home_store_id)
    return customer, token


def issue_token(session: Session, customer_id: int, *, clock: Clock = utc_now) -> str:
    """Add another app token for a customer (a new device); commit; return the token."""
    token = new_token()
    begin_write(session)
    session.add(_identity(customer_id, IdentityKind.APP_TOKEN, hash_token(token), clock()))
    session.commit()
    return token


def customer_for_token(session: Session, token: str) -> tables.Customer | None:
    """The customer an API token belongs to, or None."""
    return customer_for_identity(session, IdentityKind.APP_TOKEN, hash_token(token))


def customer_for_identity(
    session: Session, kind: IdentityKind, value: str
) -> tables.Customer | None:
    """The customer known on a channel by this identity value, or None."""
    query = (
        select(tables.Customer)
        .join(tables.Identity, tables.Identity.customer_id == tables.Customer.id)
        .where(tables.Identity.kind == kind, tables.Identity.value == value)
    )
    return session.scalars(query).first()


def link_identity(
    session: Session,
    customer_id: int,
    *,
    kind: IdentityKind,
    value: str,
    clock: Clock = utc_now,
) -> tables.Identity:
    """Link an Alexa user id or a phone to a customer; commit. Linking twice is a no-op."""
    if kind is IdentityKind.APP_TOKEN:
        raise FieldInvalid("kind", "app tokens are issued with issue_token, never linked")
    if not value.strip():
        raise FieldInvalid("value", "must not be empty")
    begin_write(session)
    existing = _find_identity(session, kind, value)
    if existing is None:
        identity = _identity(customer_id, kind, value, clock())
        session.add(identity)
        try:
            session.commit()
        except IntegrityError:
            # A concurrent request linked it first: the unique constraint decided who won.
            session.rollback()
            existing = _find_identity(session, kind, value)
            if existing is None:
                raise
        else:
            return identity
    if existing.customer_id != customer_id:
        raise IdentityTaken(kind.value)
    return existing


def list_customers(session: Session) -> list[tables.Customer]:
    """Every customer, oldest first."""
    return list(session.scalars(select(tables.Customer).order_by(tables.Customer.id)))


def _find_identity(session: Session, kind: IdentityKind, value: str) -> tables.Identity | None:
    """The identity row with this kind and value, or None."""
    query = select(tables.Identity).where(
        tables.Identity.kind == kind, tables.Identity.value == value
    )
    return session.scalars(query).first()


def _require_free(session: Session, kind: IdentityKind, value: str) -> None:
    """Refuse an identity value that is already linked."""
    if _find_identity(session, kind, value) is not None:
        raise IdentityTaken(kind.value)


def _identity(customer_id: int, kind: IdentityKind, value: str, now: datetime) -> tables.Identity:
    """A new identity row."""
    return tables.Identity(customer_id=customer_id, kind=kind, value=value, created_at=now)
