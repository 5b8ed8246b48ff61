"""Proactive events against a local HTTP server that plays LWA's token endpoint and Alexa's API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from skills.proactive import (
    LwaTokens,
    OrderStatus,
    Outcome,
    ProactiveError,
    ProactiveEvents,
    SendResult,
    events_url,
    order_status_event,
)
from tests.skills.conftest import FakeAmazon, Recorded, Reply

TOKEN_PATH = "/auth/o2/token"
EVENTS_PATH = "/v1/proactiveEvents/stages/development"
USER = "amzn1.ask.account.TESTUSER"
START = datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def token_reply(token: str, expires_in: int = 3600) -> Reply:
    body = {
        "access_token": token,
        "scope": "alexa::proactive_events",
        "token_type": "bearer",
        "expires_in": expires_in,
    }
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


ACCEPTED: Reply = (202, {}, b"")


def error_reply(status: int, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, b'{"code":"X"}'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


@pytest.fixture
def events(amazon: FakeAmazon, client: httpx.Client, clock: FakeClock) -> ProactiveEvents:
    tokens = LwaTokens(
        client=client,
        client_id="amzn1.application-oa2-client.TEST",
        client_secret="s3cret",
        token_url=amazon.base_url + TOKEN_PATH,
        clock=clock,
    )
    return ProactiveEvents(
        client=client, tokens=tokens, url=amazon.base_url + EVENTS_PATH, clock=clock
    )


def send(events: ProactiveEvents, reference_id: str = "order-42-ready") -> SendResult:
    return events.send_order_ready(user_id=USER, reference_id=reference_id, store_name="Bench Cafe")


def bearer(request: Recorded) -> str:
    return request.headers["authorization"]


def test_order_ready_sends_the_exact_token_and_event_requests(
    amazon: FakeAmazon, events: ProactiveEvents
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"))
    amazon.script(EVENTS_PATH, ACCEPTED)

    result = events.send_order_ready(
        user_id=USER, reference_id="order-42-ready", store_name="Bench Cafe"
    )

    assert result.outcome is Outcome.SENT
    assert result.delivered
    assert not result.retryable
    [token_request] = amazon.on(TOKEN_PATH)
    assert token_request.method == "POST"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["amzn1.application-oa2-client.TEST"],
        "client_secret": ["s3cret"],
        "scope": ["alexa::proactive_events"],
    }
    [event_request] = amazon.on(EVENTS_PATH)
    assert event_request.method == "POST"
    assert bearer(event_request) == "Bearer tok-1"
    assert event_request.headers["content-type"] == "application/json"
    assert json.loads(event_request.body) == {
        "timestamp": "2025-03-01T12:00:00.250Z",
        "referenceId": "order-42-ready",
        "expiryTime": "2025-03-01T14:00:00.250Z",
        "event": {
            "name": "AMAZON.OrderStatus.Updated",
            "payload": {
                "state": {"status": "ORDER_DELIVERED"},
                "order": {"seller": {"name": "localizedattribute:sellerName"}},
            },
        },
        "localizedAttributes": [{"locale": "en-US", "sellerName": "Bench Cafe"}],
        "relevantAudience": {"type": "Unicast", "payload": {"user": USER}},
    }


def test_token_is_cached_until_just_before_expiry(
    amazon: FakeAmazon, events: ProactiveEvents, clock: FakeClock
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1", 3600), token_reply("tok-2", 3600))
    amazon.script(EVENTS_PATH, ACCEPTED)
    send(events, "a")
    clock.advance(3500)  # within the hour, but less than 60 s margin is left after 3540 s
    send(events, "b")
    clock.advance(41)  # 3541 s: inside the early-refresh margin
    send(events, "c")
    assert len(amazon.on(TOKEN_PATH)) == 2
    assert [bearer(r) for r in amazon.on(EVENTS_PATH)] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_401_refreshes_the_token_once_and_retries(
    amazon: FakeAmazon, events: ProactiveEvents
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"), token_reply("tok-2"))
    amazon.script(EVENTS_PATH, error_reply(401), ACCEPTED)
    result = send(events)
    assert result.outcome is Outcome.SENT
    assert [bearer(r) for r in amazon.on(EVENTS_PATH)] == ["Bearer tok-1", "Bearer tok-2"]
    assert len(amazon.on(TOKEN_PATH)) == 2


def test_a_second_401_is_reported_without_looping(
    amazon: FakeAmazon, events: ProactiveEvents
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"), token_reply("tok-2"))
    amazon.script(EVENTS_PATH, error_reply(401))
    result = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Bench Cafe")
    assert result.outcome is Outcome.UNAUTHORIZED
    assert result.status_code == 401
    assert not result.retryable
    assert len(amazon.on(EVENTS_PATH)) == 2
    assert len(amazon.on(TOKEN_PATH)) == 2


def test_403_is_forbidden_without_refresh_or_retry(
    amazon: FakeAmazon, events: ProactiveEvents
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"))
    amazon.script(EVENTS_PATH, error_reply(403))
    result = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Bench Cafe")
    assert result.outcome is Outcome.FORBIDDEN
    assert not result.delivered
    assert not result.retryable
    assert len(amazon.on(EVENTS_PATH)) == 1
    assert len(amazon.on(TOKEN_PATH)) == 1


def test_409_duplicate_reference_id_counts_as_already_sent(
    amazon: FakeAmazon, events: ProactiveEvents
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"))
    amazon.script(EVENTS_PATH, error_reply(409))
    result = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Bench Cafe")
    assert result.outcome is Outcome.ALREADY_SENT
    assert result.delivered
    assert not result.retryable


def test_429_backs_off_for_retry_after_and_does_not_call_amazon_meanwhile(
    amazon: FakeAmazon, events: ProactiveEvents, clock: FakeClock
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"))
    amazon.script(EVENTS_PATH, error_reply(429, {"Retry-After": "30"}), ACCEPTED)
    first = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Bench Cafe")
    assert first.outcome is Outcome.RATE_LIMITED
    assert first.retry_after == 30
    clock.advance(10)
    second = events.send_order_ready(user_id=USER, reference_id="r2", store_name="Bench Cafe")
    assert second.outcome is Outcome.RATE_LIMITED
    assert second.retry_after == pytest.approx(20)
    assert len(amazon.on(EVENTS_PATH)) == 1
    clock.advance(21)
    third = events.send_order_ready(user_id=USER, reference_id="r2", store_name="Bench Cafe")
    assert third.outcome is Outcome.SENT
    assert len(amazon.on(EVENTS_PATH)) == 2


def test_429_without_retry_after_doubles_the_back_off(
    amazon: FakeAmazon, events: ProactiveEvents, clock: FakeClock
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"))
    amazon.script(EVENTS_PATH, error_reply(429))
    waits = []
    for _ in range(4):
        result = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Bench Cafe")
        waits.append(result.retry_after)
        clock.advance(result.retry_after or 0)
    assert waits == [1, 2, 4, 8]
    assert len(amazon.on(EVENTS_PATH)) == 4


def test_refused_client_credentials_are_reported_without_sending(
    amazon: FakeAmazon, events: ProactiveEvents
) -> None:
    body = {"error": "invalid_client", "error_description": "Client authentication failed"}
    amazon.script(
        TOKEN_PATH, (401, {"Content-Type": "application/json"}, json.dumps(body).encode())
    )
    result = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Bench Cafe")
    assert result.outcome is Outcome.UNAUTHORIZED
    assert "Client authentication failed" in result.detail
    assert "s3cret" not in result.detail
    assert amazon.on(EVENTS_PATH) == []


def test_server_errors_are_retryable_and_bad_requests_are_not(
    amazon: FakeAmazon, events: ProactiveEvents
) -> None:
    amazon.script(TOKEN_PATH, token_reply("tok-1"))
    amazon.script(EVENTS_PATH, error_reply(503), error_reply(400))
    unavailable = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Cafe")
    assert unavailable.outcome is Outcome.UNAVAILABLE
    assert unavailable.retryable
    rejected = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Cafe")
    assert rejected.outcome is Outcome.REJECTED
    assert rejected.status_code == 400
    assert not rejected.retryable


def test_network_failure_is_retryable(client: httpx.Client, clock: FakeClock) -> None:
    dead = FakeAmazon()  # bound but never started, then closed: nothing listens on its port
    url = dead.base_url
    dead.close_unstarted()
    tokens = LwaTokens(
        client=client, client_id="c", client_secret="s", token_url=url + TOKEN_PATH, clock=clock
    )
    events = ProactiveEvents(client=client, tokens=tokens, url=url + EVENTS_PATH, clock=clock)
    result = events.send_order_ready(user_id=USER, reference_id="r1", store_name="Cafe")
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.retryable


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reference_id": "has spaces"}, "reference id"),
        ({"reference_id": "x" * 101}, "reference id"),
        ({"ttl": timedelta(minutes=4)}, "expire"),
        ({"ttl": timedelta(hours=25)}, "expire"),
        ({"user_id": ""}, "user id"),
        ({"now": datetime(2025, 1, 1, 12, 0)}, "UTC"),
    ],
)
def test_invalid_events_are_refused_before_sending(change: dict[str, object], message: str) -> None:
    options: dict[str, object] = {
        "user_id": USER,
        "reference_id": "ok-1",
        "seller_name": "Cafe",
        "status": OrderStatus.ORDER_PREPARING,
        "now": START,
        "ttl": timedelta(hours=1),
    }
    options.update(change)
    with pytest.raises(ProactiveError, match=message):
        order_status_event(**options)  # type: ignore[arg-type]


def test_events_url_per_region_and_stage() -> None:
    assert events_url("NA", development=True) == (
        "https://api.amazonalexa.com/v1/proactiveEvents/stages/development"
    )
    assert (
        events_url("EU", development=False) == "https://api.eu.amazonalexa.com/v1/proactiveEvents"
    )
    assert (
        events_url("FE", development=False) == "https://api.fe.amazonalexa.com/v1/proactiveEvents"
    )
    with pytest.raises(ProactiveError):
        events_url("MARS", development=False)
