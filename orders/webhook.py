"""Signed webhooks for SMS gateways and store systems: endpoints, the signature, the channel.

Each POST carries the notification as JSON and three headers:
  VoiceCart-Id         the notification id (the same on every retry: drop duplicates by it)
  VoiceCart-Timestamp  Unix seconds when this attempt was signed
  VoiceCart-Signature  "v1=" + hex HMAC-SHA256(secret, f"{timestamp}.{body}")
A receiver recomputes the HMAC over the raw body, compares in constant time, and refuses a
timestamp more than a few minutes old (replays). Any 2xx answer is delivered; 408, 429 and 5xx
(or no answer) are retried with exponential backoff; 410 Gone is dead at once; other 4xx are
retried too (a receiver being redeployed often answers 404 for a minute) until the dispatcher's
attempts run out, and then the delivery is dead (`voicecart staff webhooks dead` lists them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from orders.clock import Clock, utc_now
from orders.db import begin_write
from orders.errors import FieldInvalid, StoreNotFound
from orders.notify import Outcome, Outgoing
from orders.outbox import WEBHOOK
from orders.staff_tables import WebhookEndpoint
from orders.tables import Store

logger = logging.getLogger(__name__)

ID_HEADER = "VoiceCart-Id"
TIMESTAMP_HEADER = "VoiceCart-Timestamp"
SIGNATURE_HEADER = "VoiceCart-Signature"
TOLERANCE_SECONDS = 300
"""How old a signed timestamp a receiver should still accept."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value of a body signed at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(
    secret: str,
    *,
    body: bytes,
    timestamp: str,
    signature: str,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - signed_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, signed_at, body), signature)


def add_endpoint(
    session: Session,
    *,
    url: str,
    store_id: str | None,
    events: Sequence[str] = (),
    secret: str | None = None,
    clock: Clock = utc_now,
) -> WebhookEndpoint:
    """Register an endpoint (a fresh secret unless one is given); commits."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FieldInvalid("url", "must be an http:// or https:// URL")
    begin_write(session)
    if store_id is not None and session.get(Store, store_id) is None:
        raise StoreNotFound(store_id)
    endpoint = WebhookEndpoint(
        store_id=store_id,
        url=url,
        secret=secret or secrets.token_urlsafe(32),
        events=list(events),
        active=True,
        created_at=clock(),
    )
    session.add(endpoint)
    session.commit()
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every registered endpoint, oldest first."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def set_active(session: Session, endpoint_id: int, active: bool) -> bool:
    """Switch an endpoint on or off; commits; False when there is no such endpoint."""
    begin_write(session)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        return False
    endpoint.active = active
    session.commit()
    return True


def body_of(item: Outgoing) -> bytes:
    """The JSON body of one webhook delivery (compact, keys sorted: what gets signed)."""
    message = item.message
    payload = {
        "id": message.id,
        "event": message.event,
        "created_at": message.created_at.isoformat(),
        "attempt": item.attempts,
        "store": {"id": message.store_id, "name": message.store_name},
        "text": message.text,
        "order": message.ticket,
        "data": message.data,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class WebhookChannel:
    """Delivers to registered endpoints; the endpoint (URL, secret) is read at each attempt."""

    name = WEBHOOK

    def __init__(
        self,
        *,
        sessions: Callable[[], Session],
        client: httpx.Client,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._now = now

    def deliver(self, item: Outgoing) -> Outcome:
        """POST the signed body; map the answer to delivered, retry or failed."""
        query = select(WebhookEndpoint.url, WebhookEndpoint.secret).where(
            WebhookEndpoint.id == int(item.target), WebhookEndpoint.active.is_(True)
        )
        with self._sessions() as session:
            endpoint = session.execute(query).first()
        if endpoint is None:
            return Outcome.failed(f"webhook endpoint {item.target} is gone or switched off")
        url, secret = endpoint
        body = body_of(item)
        stamp = int(self._now())
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: item.message.id,
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(secret, stamp, body),
        }
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Outcome.retry(f"{type(error).__name__}: {error}")
        return _outcome(response)


def _outcome(response: httpx.Response) -> Outcome:
    """Delivered on 2xx; dead on 410; otherwise retried (honouring Retry-After seconds)."""
    code = response.status_code
    if 200 <= code < 300:
        return Outcome.delivered()
    detail = f"HTTP {code}: {response.text[:200]}"
    if code == 410:
        return Outcome.failed(detail)
    after = response.headers.get("Retry-After", "")
    retry_after = float(after) if after.strip().isdigit() else None
    return Outcome.retry(detail, after=retry_after)
