"""'Your order is ready' on the Echo: Alexa Proactive Events with an LWA client-credentials token.

The notification dispatcher calls `ProactiveEvents.send_order_ready` when a pickup order becomes
ready. Every answer from Amazon becomes a `SendResult`: 202 sent; 401 refreshes the token once
and retries; 403 forbidden; 409 means this reference id was already sent (so: delivered); 429
backs off (the result says when to retry, and sends before then are not attempted). Nothing
sleeps here: the outbox reschedules retryable results.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx

from catalog.errors import VoiceCartError
from orders.clock import Clock, utc_now

logger = logging.getLogger(__name__)

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
PROACTIVE_SCOPE = "alexa::proactive_events"
EVENT_HOSTS = {
    "NA": "https://api.amazonalexa.com",
    "EU": "https://api.eu.amazonalexa.com",
    "FE": "https://api.fe.amazonalexa.com",
}
ORDER_STATUS_EVENT = "AMAZON.OrderStatus.Updated"
MIN_TTL = timedelta(minutes=5)
MAX_TTL = timedelta(hours=24)
_REFERENCE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


class OrderStatus(StrEnum):
    """The states of Amazon's AMAZON.OrderStatus.Updated schema (it has no "ready for pickup")."""

    PREORDER_RECEIVED = "PREORDER_RECEIVED"
    ORDER_RECEIVED = "ORDER_RECEIVED"
    ORDER_PREPARING = "ORDER_PREPARING"
    ORDER_SHIPPED = "ORDER_SHIPPED"
    ORDER_OUT_FOR_DELIVERY = "ORDER_OUT_FOR_DELIVERY"
    ORDER_DELIVERED = "ORDER_DELIVERED"


# The schema's closest state to "ready at the counter"; Alexa reads it as "...has been delivered".
PICKUP_READY_STATUS = OrderStatus.ORDER_DELIVERED


class Outcome(StrEnum):
    """What became of one proactive event."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class SendResult:
    """The outcome of sending one event; `retry_after` (seconds) is set when it may be retried."""

    outcome: Outcome
    reference_id: str
    status_code: int | None = None
    retry_after: float | None = None
    detail: str = ""

    @property
    def delivered(self) -> bool:
        """Amazon has the event (now or from an earlier send with the same reference id)."""
        return self.outcome in (Outcome.SENT, Outcome.ALREADY_SENT)

    @property
    def retryable(self) -> bool:
        """Sending the same event later may succeed."""
        return self.retry_after is not None


class ProactiveError(VoiceCartError):
    """An event or token request that cannot be made as asked (bad id, expiry, refused token)."""


def events_url(region: str = "NA", *, development: bool) -> str:
    """The Proactive Events endpoint for a region; development goes to the test stage."""
    try:
        host = EVENT_HOSTS[region]
    except KeyError as error:
        raise ProactiveError(f"unknown Alexa region {region!r} (NA, EU or FE)") from error
    stage = "/stages/development" if development else ""
    return f"{host}/v1/proactiveEvents{stage}"


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as the API's examples write it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def order_status_event(
    *,
    user_id: str,
    reference_id: str,
    seller_name: str,
    status: OrderStatus,
    now: datetime,
    ttl: timedelta,
    locale: str = "en-US",
) -> dict[str, Any]:
    """The body of an AMAZON.OrderStatus.Updated event, unicast to one Alexa user."""
    if not _REFERENCE_ID.fullmatch(reference_id):
        raise ProactiveError(f"reference id must be 1-100 of [A-Za-z0-9_-]: {reference_id!r}")
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ProactiveError("an event must expire between 5 minutes and 24 hours after it is sent")
    if not user_id or not seller_name:
        raise ProactiveError("an order status event needs a user id and a seller name")
    if now.utcoffset() != timedelta(0):
        raise ProactiveError("event times must be UTC")
    return {
        "timestamp": _timestamp(now),
        "referenceId": reference_id,
        "expiryTime": _timestamp(now + ttl),
        "event": {
            "name": ORDER_STATUS_EVENT,
            "payload": {
                "state": {"status": str(status)},
                "order": {"seller": {"name": "localizedattribute:sellerName"}},
            },
        },
        "localizedAttributes": [{"locale": locale, "sellerName": seller_name}],
        "relevantAudience": {"type": "Unicast", "payload": {"user": user_id}},
    }


class LwaTokens:
    """Client-credentials access tokens from Login with Amazon, cached until just before expiry."""

    def __init__(
        self,
        *,
        client: httpx.Client,
        client_id: str,
        client_secret: str,
        token_url: str = LWA_TOKEN_URL,
        scope: str = PROACTIVE_SCOPE,
        clock: Clock = utc_now,
        early: timedelta = timedelta(seconds=60),
    ) -> None:
        self._client = client
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
        }
        self._url = token_url
        self._clock = clock
        self._early = early
        self._token: str | None = None
        self._expires = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def get(self) -> str:
        """A valid access token, fetched only when none is cached or it is about to expire."""
        with self._lock:
            if self._token is not None and self._clock() < self._expires:
                return self._token
            token, lifetime = self._fetch()
            self._token = token
            self._expires = self._clock() + timedelta(seconds=lifetime) - self._early
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` (Amazon refused it) unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        """POST the client credentials; raise ProactiveError when LWA refuses."""
        response = self._client.post(self._url, data=self._form)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {}
        if response.status_code != 200 or not isinstance(data.get("access_token"), str):
            reason = data.get("error_description") or data.get("error") or "no token in the answer"
            code = response.status_code
            raise ProactiveError(f"LWA token request failed (HTTP {code}): {reason}")
        lifetime = float(data.get("expires_in", 3600))
        logger.info("got an LWA token for %s, valid %.0f s", self._form["scope"], lifetime)
        return data["access_token"], lifetime


class ProactiveEvents:
    """Sends proactive events; one instance per process so its back-off state is shared."""

    def __init__(
        self,
        *,
        client: httpx.Client,
        tokens: LwaTokens,
        url: str,
        clock: Clock = utc_now,
        backoff: timedelta = timedelta(seconds=1),
        max_backoff: timedelta = timedelta(minutes=5),
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._url = url
        self._clock = clock
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._limited_until: datetime | None = None
        self._limited_streak = 0
        self._lock = threading.Lock()

    def send_order_ready(
        self,
        *,
        user_id: str,
        reference_id: str,
        store_name: str,
        ttl: timedelta = timedelta(hours=2),
        status: OrderStatus = PICKUP_READY_STATUS,
        locale: str = "en-US",
    ) -> SendResult:
        """Tell one linked Alexa user that their pickup order at `store_name` is ready."""
        event = order_status_event(
            user_id=user_id,
            reference_id=reference_id,
            seller_name=store_name,
            status=status,
            now=self._clock(),
            ttl=ttl,
            locale=locale,
        )
        return self.send(event)

    def send(self, event: Mapping[str, Any]) -> SendResult:
        """POST one event body; refresh the token once on 401; map the answer to a SendResult."""
        reference_id = str(event.get("referenceId", ""))
        waiting = self._backing_off()
        if waiting is not None:
            return SendResult(
                Outcome.RATE_LIMITED,
                reference_id,
                retry_after=waiting,
                detail="backing off after HTTP 429",
            )
        try:
            response, token = self._post(event)
            if response.status_code == 401:
                logger.info("proactive event %s: token refused, refreshing once", reference_id)
                self._tokens.invalidate(token)
                response, token = self._post(event)
        except ProactiveError as error:
            return SendResult(Outcome.UNAUTHORIZED, reference_id, detail=error.detail)
        except httpx.TransportError as error:
            return SendResult(
                Outcome.UNAVAILABLE,
                reference_id,
                retry_after=30.0,
                detail=f"network error: {error}",
            )
        return self._result(response, reference_id)

    def _post(self, event: Mapping[str, Any]) -> tuple[httpx.Response, str]:
        """One authorised POST of the event, and the token it used."""
        token = self._tokens.get()
        headers = {"Authorization": f"Bearer {token}"}
        return self._client.post(self._url, json=dict(event), headers=headers), token

    def _result(self, response: httpx.Response, reference_id: str) -> SendResult:
        """Map Amazon's status code to an outcome (and track 429 back-off)."""
        code = response.status_code
        detail = response.text[:300]
        if code == 429:
            wait = self._rate_limited(response)
            logger.warning("proactive events rate-limited; retry in %.0f s", wait)
            return SendResult(
                Outcome.RATE_LIMITED, reference_id, code, retry_after=wait, detail=detail
            )
        with self._lock:
            self._limited_streak = 0
        outcomes = {
            202: Outcome.SENT,
            409: Outcome.ALREADY_SENT,
            403: Outcome.FORBIDDEN,
            401: Outcome.UNAUTHORIZED,
        }
        if code in outcomes:
            outcome = outcomes[code]
            if outcome is Outcome.ALREADY_SENT:
                logger.info("proactive event %s was already sent (409)", reference_id)
            elif outcome is not Outcome.SENT:
                logger.error("proactive event %s refused: HTTP %s %s", reference_id, code, detail)
            return SendResult(outcome, reference_id, code, detail="" if code == 202 else detail)
        if code >= 500:
            return SendResult(
                Outcome.UNAVAILABLE, reference_id, code, retry_after=60.0, detail=detail
            )
        logger.error("proactive event %s rejected: HTTP %s %s", reference_id, code, detail)
        return SendResult(Outcome.REJECTED, reference_id, code, detail=detail)

    def _backing_off(self) -> float | None:
        """Seconds left in the current 429 back-off, or None."""
        with self._lock:
            if self._limited_until is None:
                return None
            left = (self._limited_until - self._clock()).total_seconds()
            if left <= 0:
                self._limited_until = None
                return None
            return left

    def _rate_limited(self, response: httpx.Response) -> float:
        """Start a back-off: Retry-After when Amazon gives one, else doubling from `backoff`."""
        now = self._clock()
        with self._lock:
            self._limited_streak += 1
            wait = _retry_after(response.headers.get("Retry-After"), now)
            if wait is None:
                doubled = self._backoff * (2 ** (self._limited_streak - 1))
                wait = min(doubled, self._max_backoff).total_seconds()
            self._limited_until = now + timedelta(seconds=wait)
            return wait


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())
