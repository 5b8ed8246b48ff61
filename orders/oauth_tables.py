"""Account linking's tables: authorization codes, grants (one per linked account) and access tokens.

They share the declarative base of orders/tables.py; the schema comes from the migration
orders/migrations/versions/oauth01_account_linking.py. Codes and tokens are kept only as their
SHA-256: they are 256 random bits, so the hash is as good as the secret is long, and a leaked
table links nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from orders.tables import Base

HASH_LENGTH = 64
"""A SHA-256 in hex."""
CLIENT_ID_LENGTH = 255
SCOPE_LENGTH = 255


class OAuthGrant(Base):
    """One account link: a customer allowed a client (Alexa) in; its refresh token's hash."""

    __tablename__ = "oauth_grants"
    __table_args__ = (Index("ix_oauth_grants_customer_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH))
    scope: Mapped[str] = mapped_column(String(SCOPE_LENGTH))
    refresh_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class OAuthCode(Base):
    """An authorization code: single use, short-lived, bound to a redirect URI and a PKCE
    challenge; `grant_id` is set once it was exchanged (a second use revokes that grant)."""

    __tablename__ = "oauth_codes"
    __table_args__ = (Index("ix_oauth_codes_expires_at", "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(SCOPE_LENGTH))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    """The PKCE S256 challenge (base64url of SHA-256 of the verifier), or None without PKCE."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"))


class OAuthAccessToken(Base):
    """A bearer access token of a grant (several may be valid while Alexa refreshes)."""

    __tablename__ = "oauth_access_tokens"
    __table_args__ = (Index("ix_oauth_access_tokens_grant_id", "grant_id"),)

    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
