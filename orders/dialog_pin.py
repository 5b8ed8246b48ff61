"""The optional voice PIN: set it (with a spending limit), ask for it, and check it."""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from orders.clock import Clock, utc_now
from orders.dialog_tables import VoiceSettings
from orders.errors import FieldInvalid

logger = logging.getLogger(__name__)

PIN_DIGITS = (4, 8)
MAX_ATTEMPTS = 3
"""Wrong PINs in one checkout before the dialogue gives up (the cart is kept)."""


def _hasher() -> PasswordHasher:
    # A PIN has few digits, so a slow hash is what makes a leaked table hard to use.
    return PasswordHasher()


def set_voice_pin(
    db: Session,
    customer_id: int,
    pin: str | None,
    *,
    pin_above: int | None = None,
    clock: Clock = utc_now,
) -> None:
    """Set (or, with None, remove) the customer's voice PIN; commit.

    `pin_above` is a total in cents: the PIN is asked only for orders above it (None: always).
    """
    if pin is not None and not (pin.isdigit() and PIN_DIGITS[0] <= len(pin) <= PIN_DIGITS[1]):
        raise FieldInvalid("pin", f"must be {PIN_DIGITS[0]} to {PIN_DIGITS[1]} digits")
    if pin_above is not None and pin_above < 0:
        raise FieldInvalid("pin_above", "must be zero or more cents")
    settings = db.get(VoiceSettings, customer_id)
    if settings is None:
        settings = VoiceSettings(customer_id=customer_id, updated_at=clock())
        db.add(settings)
    settings.pin_hash = _hasher().hash(pin) if pin is not None else None
    settings.pin_above = pin_above
    settings.updated_at = clock()
    db.commit()
    logger.info("voice PIN %s for customer %d", "set" if pin else "removed", customer_id)


def pin_required(db: Session, customer_id: int, total: int) -> bool:
    """Whether an order of this total needs the customer's PIN."""
    settings = db.get(VoiceSettings, customer_id)
    if settings is None or settings.pin_hash is None:
        return False
    return settings.pin_above is None or total > settings.pin_above


def check_pin(db: Session, customer_id: int, pin: str) -> bool:
    """Whether the spoken PIN is the customer's."""
    settings = db.get(VoiceSettings, customer_id)
    if settings is None or settings.pin_hash is None:
        return False
    try:
        return _hasher().verify(settings.pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False
