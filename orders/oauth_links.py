"""The Alexa side of account linking: which customer an Alexa request is, and its user id link.

Alexa sends the access token (orders/oauth.py) with every request of a linked user;
`customer_for_alexa` finds the customer and records the Alexa user id as the customer's
`alexa_user` identity, which is where "your order is ready" notifications go
(orders/outbox.py `route`). A user who comes without a token unlinked in the Alexa app:
`forget_alexa_user` removes the identity.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from orders import tables
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.oauth import hash_secret
from orders.oauth_tables import OAuthAccessToken, OAuthGrant
from orders.tables import IdentityKind

logger = logging.getLogger(__name__)


def customer_for_alexa(
    db: Session, token: str, user_id: str | None, *, clock: Clock = utc_now
) -> int | None:
    """The customer of an Alexa request's access token, linking the Alexa user id to them
    when it is not yet (one query when nothing changes); None for a token that is not live."""
    identity = aliased(tables.Identity)
    query = (
        select(OAuthGrant.customer_id, identity.customer_id)
        .join(OAuthAccessToken, OAuthAccessToken.grant_id == OAuthGrant.id)
        .outerjoin(
            identity,
            (identity.kind == IdentityKind.ALEXA_USER) & (identity.value == (user_id or "")),
        )
        .where(
            OAuthAccessToken.token_hash == hash_secret(token),
            OAuthAccessToken.expires_at > clock(),
            OAuthGrant.revoked_at.is_(None),
        )
    )
    found = db.execute(query).first()
    if found is None:
        return None
    customer_id, linked_to = found
    if user_id and linked_to != customer_id:
        link_alexa_user(db, customer_id, user_id, clock=clock)
    return int(customer_id)


def link_alexa_user(db: Session, customer_id: int, user_id: str, *, clock: Clock = utc_now) -> bool:
    """Make `user_id` this customer's Alexa identity (moving it from another customer when the
    shopper re-linked); commit only when something changed, which is returned."""
    found = _alexa_identity(db, user_id)
    if found is not None and found.customer_id == customer_id:
        return False
    begin_write(db)
    found = _alexa_identity(db, user_id)
    if found is not None:
        logger.info("Alexa user moved from customer %d to %d", found.customer_id, customer_id)
        found.customer_id = customer_id
    else:
        db.add(
            tables.Identity(
                customer_id=customer_id,
                kind=IdentityKind.ALEXA_USER,
                value=user_id,
                created_at=clock(),
            )
        )
    try:
        db.commit()
    except IntegrityError:
        # Another request of the same user linked it first; that row is the same link.
        db.rollback()
        return False
    logger.info("Alexa user linked to customer %d", customer_id)
    return True


def forget_alexa_user(db: Session, user_id: str) -> bool:
    """An Alexa user who came without an access token unlinked in the Alexa app: stop treating
    them as anyone's identity (notifications stop); commit only when one was removed."""
    if _alexa_identity(db, user_id) is None:
        return False
    begin_write(db)
    db.execute(
        delete(tables.Identity).where(
            tables.Identity.kind == IdentityKind.ALEXA_USER, tables.Identity.value == user_id
        )
    )
    db.commit()
    logger.info("an Alexa user without account link was unlinked from their customer")
    return True


def _alexa_identity(db: Session, user_id: str) -> tables.Identity | None:
    query = select(tables.Identity).where(
        tables.Identity.kind == IdentityKind.ALEXA_USER, tables.Identity.value == user_id
    )
    return db.scalars(query).first()
