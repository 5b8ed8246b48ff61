"""Store staff: accounts, argon2 password hashes, store memberships with roles, login sessions.

A login session is a random cookie token; the table keeps only its SHA-256 (like API tokens in
orders/customers.py) next to a per-session CSRF token that every form and action must echo.
Access is by membership: a staff member without a row for a store cannot see its orders at all.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session, selectinload

from orders import tables
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import FieldInvalid, LoginFailed, NotPermitted, StoreNotFound
from orders.staff_tables import StaffMembership, StaffRole, StaffSession, StaffUser

logger = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(hours=12)
"""A shift and a half; the browser logs in again after that."""
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
"""Verified against when the email is unknown, so a login takes as long either way."""


@dataclass(frozen=True)
class StaffIdentity:
    """A logged-in staff member: who, their roles per store, and the session's CSRF token."""

    staff_id: int
    email: str
    name: str
    roles: dict[str, StaffRole]
    csrf_token: str

    @property
    def store_ids(self) -> list[str]:
        """The stores this staff member works at, sorted."""
        return sorted(self.roles)

    def role_at(self, store_id: str) -> StaffRole | None:
        """The role at a store, or None when they do not work there."""
        return self.roles.get(store_id)


def hash_password(password: str) -> str:
    """An argon2id hash of the password (refuses one that is too short or too long)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise FieldInvalid("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    """The email as stored: trimmed and lower-cased; refuses something that is not one."""
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise FieldInvalid("email", "not an email address")
    return email


def add_staff(
    session: Session,
    *,
    email: str,
    store_id: str,
    role: StaffRole,
    password: str | None = None,
    name: str = "",
    clock: Clock = utc_now,
) -> StaffUser:
    """Create a staff account (needs a password), or give an existing one a role at a store.

    Adding an existing member to the same store again changes their role. Commits.
    """
    email = normalise_email(email)
    begin_write(session)
    if session.get(tables.Store, store_id) is None:
        raise StoreNotFound(store_id)
    now = clock()
    user = _user_by_email(session, email)
    if user is None:
        if password is None:
            raise FieldInvalid("password", "a new staff account needs a password")
        user = StaffUser(
            email=email,
            name=name.strip() or email.split("@")[0],
            password_hash=hash_password(password),
            active=True,
            created_at=now,
        )
        session.add(user)
        session.flush()
    elif password is not None:
        user.password_hash = hash_password(password)
    membership = session.get(StaffMembership, (user.id, store_id))
    if membership is None:
        session.add(StaffMembership(staff_id=user.id, store_id=store_id, role=role, created_at=now))
    else:
        membership.role = role
    session.commit()
    logger.info("staff %s is %s at %s", email, role, store_id)
    return user


def remove_staff(session: Session, email: str, *, store_id: str | None = None) -> bool:
    """Take a member off one store (or deactivate the account and end its sessions); commits."""
    begin_write(session)
    user = _user_by_email(session, normalise_email(email))
    if user is None:
        return False
    if store_id is not None:
        session.execute(
            delete(StaffMembership).where(
                StaffMembership.staff_id == user.id, StaffMembership.store_id == store_id
            )
        )
    else:
        user.active = False
        session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.commit()
    return True


def list_staff(session: Session, *, store_id: str | None = None) -> list[StaffUser]:
    """Staff accounts with their memberships, by email; only one store's when given."""
    query = select(StaffUser).options(selectinload(StaffUser.memberships)).order_by(StaffUser.email)
    if store_id is not None:
        query = query.where(
            StaffUser.id.in_(
                select(StaffMembership.staff_id).where(StaffMembership.store_id == store_id)
            )
        )
    return list(session.scalars(query))


def log_in(
    session: Session, email: str, password: str, *, clock: Clock = utc_now
) -> tuple[str, StaffIdentity]:
    """Check the password and start a session; return the cookie token (shown once) and who."""
    try:
        email = normalise_email(email)
    except FieldInvalid:
        email = ""
    user = _user_by_email(session, email) if email else None
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        raise LoginFailed()
    if not verify_password(user.password_hash, password):
        raise LoginFailed()
    begin_write(session)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    token = secrets.token_urlsafe(32)
    now = clock()
    row = StaffSession(
        id=_token_hash(token),
        staff_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.commit()
    logger.info("staff %s logged in", email)
    who = identify(session, token, clock=clock)
    if who is None:  # deactivated in the instant since the password check
        raise LoginFailed()
    return token, who


def identify(session: Session, token: str, *, clock: Clock = utc_now) -> StaffIdentity | None:
    """The staff member of a session cookie, or None (unknown, expired, account deactivated).

    Every staff request and button press asks: one statement, plain rows (a row per role).
    """
    rows = session.execute(_SESSION_IDENTITY, {"session_id": _token_hash(token)}).all()
    if not rows:
        return None
    first = rows[0]
    if first.expires_at <= clock() or not first.active:
        return None
    return StaffIdentity(
        staff_id=first.staff_id,
        email=first.email,
        name=first.name,
        roles={row.store_id: row.role for row in rows if row.store_id is not None},
        csrf_token=first.csrf_token,
    )


_SESSIONS = cast(Table, StaffSession.__table__)
_USERS = cast(Table, StaffUser.__table__)
_MEMBERSHIPS = cast(Table, StaffMembership.__table__)
_SESSION_IDENTITY = (
    select(
        _SESSIONS.c.staff_id,
        _SESSIONS.c.csrf_token,
        _SESSIONS.c.expires_at,
        _USERS.c.email,
        _USERS.c.name,
        _USERS.c.active,
        _MEMBERSHIPS.c.store_id,
        _MEMBERSHIPS.c.role,
    )
    .select_from(
        _SESSIONS.join(_USERS, _USERS.c.id == _SESSIONS.c.staff_id).outerjoin(
            _MEMBERSHIPS, _MEMBERSHIPS.c.staff_id == _USERS.c.id
        )
    )
    .where(_SESSIONS.c.id == bindparam("session_id"))
)
"""Built once: the session, its account and the account's roles."""


def log_out(session: Session, token: str) -> None:
    """End a session (nothing happens for an unknown token); commits."""
    begin_write(session)
    session.execute(delete(StaffSession).where(StaffSession.id == _token_hash(token)))
    session.commit()


def prune_sessions(session: Session, *, clock: Clock = utc_now) -> int:
    """Delete expired sessions; commits; returns how many."""
    begin_write(session)
    result = session.execute(delete(StaffSession).where(StaffSession.expires_at <= clock()))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def check_csrf(identity: StaffIdentity, given: str | None) -> bool:
    """Whether a form or action echoed this session's CSRF token (compared in constant time)."""
    return given is not None and hmac.compare_digest(identity.csrf_token, given)


def require_store(identity: StaffIdentity, store_id: str, *, manager: bool = False) -> StaffRole:
    """The role at the store; NotPermitted when the member has none there (or is no manager)."""
    role = identity.role_at(store_id)
    if role is None:
        raise NotPermitted(f"store {store_id}", "you do not work at this store")
    if manager and role is not StaffRole.MANAGER:
        raise NotPermitted(f"store {store_id}", "only a manager may change this")
    return role


def _user_by_email(session: Session, email: str) -> StaffUser | None:
    """The account with this (normalised) email, or None."""
    return session.scalars(select(StaffUser).where(StaffUser.email == email)).first()


def _token_hash(token: str) -> str:
    """What the sessions table keeps of a cookie token."""
    return hashlib.sha256(token.encode()).hexdigest()
