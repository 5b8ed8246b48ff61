"""Account linking: OAuth 2.0 authorization codes with PKCE (S256), hashed tokens, the Alexa link.

The flow (RFC 6749 section 4.1 with RFC 7636): the client (Alexa) sends the shopper to the
authorization endpoint; after the shopper signs in, `issue_code` makes a single-use code bound
to the client, the redirect URI and the PKCE challenge; the client trades it at the token
endpoint (`exchange_code`) for an access token (one hour) and a refresh token (until revoked).
Refreshing (`refresh_access`) issues a new access token and keeps the refresh token, so a
client that lost an answer can simply refresh again. A code used twice revokes what it granted
(RFC 6749 section 4.1.2). Only SHA-256 hashes of codes and tokens are stored.

Alexa sends the access token with every request of a linked user; `customer_for_access_token`
finds its customer (orders/oauth_links.py also records the Alexa user id for notifications).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from catalog.errors import VoiceCartError
from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.oauth_tables import OAuthAccessToken, OAuthCode, OAuthGrant

logger = logging.getLogger(__name__)

SCOPE = "orders"
"""The one scope: order for the customer (fill the cart, check out, hear order status)."""
CODE_LIFETIME = timedelta(minutes=5)
ACCESS_LIFETIME = timedelta(hours=1)
USED_CODE_KEPT = timedelta(days=1)
MAX_STATE = 2000
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_PREFIX_CODE, _PREFIX_ACCESS, _PREFIX_REFRESH = "vcc_", "vca_", "vcr_"


class OAuthError(VoiceCartError):
    """A refused OAuth request; `error` is RFC 6749's error code.

    `redirect` says whether the client may be told through its redirect URI: never before the
    client id and the redirect URI were checked (RFC 6749 section 4.1.2.1).
    """

    def __init__(
        self, error: str, description: str, *, redirect: bool = True, status_code: int = 400
    ) -> None:
        self.error = error
        self.description = description
        self.redirect = redirect
        self.status_code = status_code
        super().__init__(f"{error}: {description}")


@dataclass(frozen=True)
class OAuthClient:
    """The one client allowed to link accounts (the Alexa skill), as configured."""

    client_id: str
    client_secret: str
    redirect_uris: frozenset[str]
    """Exact redirect URIs: Amazon shows them per skill in the account linking settings."""
    require_pkce: bool = True
    scopes: frozenset[str] = frozenset({SCOPE})


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request: what the login page carries through the sign-in."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str | None


@dataclass(frozen=True)
class TokenSet:
    """The token endpoint's answer; `refresh_token` only when a grant is created."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def as_json(self) -> dict[str, str | int]:
        """The JSON body of RFC 6749 section 5.1."""
        body: dict[str, str | int] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


def hash_secret(value: str) -> str:
    """The SHA-256 (hex) of a code or token: what the tables keep."""
    return hashlib.sha256(value.encode()).hexdigest()


def s256_challenge(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_client(client: OAuthClient | None, client_id: str, redirect_uri: str) -> None:
    """Refuse an unknown client or a redirect URI off the allow-list (never redirected)."""
    if client is None:
        raise OAuthError(
            "server_error", "account linking is not configured", redirect=False, status_code=503
        )
    if not hmac.compare_digest(client_id.encode(), client.client_id.encode()):
        raise OAuthError("invalid_client", "unknown client_id", redirect=False)
    if redirect_uri not in client.redirect_uris:
        raise OAuthError("invalid_request", "redirect_uri is not registered", redirect=False)


def check_authorization(
    client: OAuthClient | None,
    *,
    response_type: str,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> AuthorizationRequest:
    """Check an authorization request; OAuthError (redirectable once the client is known)."""
    check_client(client, client_id, redirect_uri)
    assert client is not None
    if response_type != "code":
        raise OAuthError("unsupported_response_type", "only response_type=code is supported")
    if len(state) > MAX_STATE:
        raise OAuthError("invalid_request", "state is too long")
    wanted = frozenset(scope.split()) or frozenset({SCOPE})
    if not wanted <= client.scopes:
        raise OAuthError("invalid_scope", f"unknown scope; use {' '.join(sorted(client.scopes))}")
    if code_challenge:
        if code_challenge_method != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not _CHALLENGE.fullmatch(code_challenge):
            raise OAuthError("invalid_request", "code_challenge is not an S256 challenge")
    elif client.require_pkce:
        raise OAuthError("invalid_request", "PKCE is required: send code_challenge (S256)")
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=" ".join(sorted(wanted)),
        state=state,
        code_challenge=code_challenge or None,
    )


def issue_code(
    db: Session, request: AuthorizationRequest, customer_id: int, *, clock: Clock = utc_now
) -> str:
    """A fresh authorization code for the signed-in customer; commit; return the code (once)."""
    code = _PREFIX_CODE + secrets.token_urlsafe(32)
    now = clock()
    begin_write(db)
    db.add(
        OAuthCode(
            code_hash=hash_secret(code),
            client_id=request.client_id,
            customer_id=customer_id,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            code_challenge=request.code_challenge,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            used_at=None,
            grant_id=None,
        )
    )
    db.commit()
    logger.info("authorization code issued to customer %d for %s", customer_id, request.client_id)
    return code


def authenticate_client(client: OAuthClient | None, client_id: str, client_secret: str) -> None:
    """The token endpoint's client check (HTTP Basic or form credentials): invalid_client."""
    if client is None:
        raise OAuthError("server_error", "account linking is not configured", status_code=503)
    same_id = hmac.compare_digest(client_id.encode(), client.client_id.encode())
    same_secret = hmac.compare_digest(client_secret.encode(), client.client_secret.encode())
    if not (same_id and same_secret):
        raise OAuthError("invalid_client", "client authentication failed", status_code=401)


def exchange_code(
    db: Session,
    client: OAuthClient,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    clock: Clock = utc_now,
) -> TokenSet:
    """Trade an authorization code for tokens; commit. A reused code revokes its grant."""
    now = clock()
    begin_write(db)
    row = db.scalars(
        select(OAuthCode).where(OAuthCode.code_hash == hash_secret(code)).with_for_update()
    ).first()
    if row is None or row.client_id != client.client_id:
        raise OAuthError("invalid_grant", "unknown authorization code")
    if row.used_at is not None:
        _revoke_grant(db, row.grant_id, now)
        db.commit()
        logger.warning("authorization code reused: grant %s revoked", row.grant_id)
        raise OAuthError("invalid_grant", "the authorization code was already used")
    if row.expires_at <= now:
        raise OAuthError("invalid_grant", "the authorization code has expired")
    if row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    _check_verifier(row.code_challenge, code_verifier, required=client.require_pkce)
    refresh = _PREFIX_REFRESH + secrets.token_urlsafe(32)
    grant = OAuthGrant(
        customer_id=row.customer_id,
        client_id=row.client_id,
        scope=row.scope,
        refresh_hash=hash_secret(refresh),
        created_at=now,
        revoked_at=None,
    )
    db.add(grant)
    db.flush()
    row.used_at = now
    row.grant_id = grant.id
    access = _new_access_token(db, grant.id, now)
    db.commit()
    logger.info(
        "customer %d linked to %s (grant %d)", grant.customer_id, client.client_id, grant.id
    )
    return TokenSet(access, _seconds(ACCESS_LIFETIME), grant.scope, refresh)


def _check_verifier(challenge: str | None, verifier: str | None, *, required: bool) -> None:
    """RFC 7636 section 4.6: the verifier must hash to the code's challenge."""
    if challenge is None:
        if required:
            raise OAuthError("invalid_grant", "the code was issued without PKCE")
        return
    if not verifier or not _VERIFIER.fullmatch(verifier):
        raise OAuthError("invalid_grant", "code_verifier is missing or malformed")
    if not hmac.compare_digest(s256_challenge(verifier).encode(), challenge.encode()):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")


def refresh_access(
    db: Session, client: OAuthClient, *, refresh_token: str, clock: Clock = utc_now
) -> TokenSet:
    """A new access token for a live grant; the refresh token stays the same; commit."""
    now = clock()
    begin_write(db)
    grant = db.scalars(
        select(OAuthGrant).where(OAuthGrant.refresh_hash == hash_secret(refresh_token))
    ).first()
    if grant is None or grant.client_id != client.client_id or grant.revoked_at is not None:
        raise OAuthError("invalid_grant", "the refresh token is not valid")
    access = _new_access_token(db, grant.id, now)
    db.commit()
    return TokenSet(access, _seconds(ACCESS_LIFETIME), grant.scope)


def _new_access_token(db: Session, grant_id: int, now: datetime) -> str:
    token = _PREFIX_ACCESS + secrets.token_urlsafe(32)
    db.add(
        OAuthAccessToken(
            token_hash=hash_secret(token),
            grant_id=grant_id,
            created_at=now,
            expires_at=now + ACCESS_LIFETIME,
        )
    )
    return token


def _revoke_grant(db: Session, grant_id: int | None, now: datetime) -> None:
    if grant_id is None:
        return
    db.execute(
        update(OAuthGrant)
        .where(OAuthGrant.id == grant_id, OAuthGrant.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.execute(delete(OAuthAccessToken).where(OAuthAccessToken.grant_id == grant_id))


def revoke_links(db: Session, customer_id: int, *, clock: Clock = utc_now) -> int:
    """Unlink every client from a customer (tokens stop working); commit; how many grants."""
    now = clock()
    begin_write(db)
    grants = list(
        db.scalars(
            select(OAuthGrant.id).where(
                OAuthGrant.customer_id == customer_id, OAuthGrant.revoked_at.is_(None)
            )
        )
    )
    for grant_id in grants:
        _revoke_grant(db, grant_id, now)
    db.commit()
    return len(grants)


def customer_for_access_token(db: Session, token: str, *, now: datetime) -> int | None:
    """The customer of a live access token, or None (unknown, expired or revoked)."""
    query = (
        select(OAuthGrant.customer_id)
        .join(OAuthAccessToken, OAuthAccessToken.grant_id == OAuthGrant.id)
        .where(
            OAuthAccessToken.token_hash == hash_secret(token),
            OAuthAccessToken.expires_at > now,
            OAuthGrant.revoked_at.is_(None),
        )
    )
    return db.scalars(query).first()


def purge_expired(db: Session, *, now: datetime) -> int:
    """Delete codes a day past expiry and expired access tokens; commit; how many rows went."""
    begin_write(db)
    # Used codes are kept a while longer, so that a replay still revokes its grant.
    codes = db.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - USED_CODE_KEPT))
    tokens = db.execute(delete(OAuthAccessToken).where(OAuthAccessToken.expires_at < now))
    db.commit()
    return int(getattr(codes, "rowcount", 0) or 0) + int(getattr(tokens, "rowcount", 0) or 0)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
