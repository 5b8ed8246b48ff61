"""Signed webhooks against a real HTTP receiver: signature, retries with backoff, dead letters."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.model import Catalog
from orders import outbox
from orders.notify import Dispatcher, RetryPolicy
from orders.staff_tables import Delivery, DeliveryStatus
from orders.webhook import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    add_endpoint,
    set_active,
    sign,
    verify,
)
from tests.orders.factories import FakeClock
from tests.orders.test_notify import place
from tests.server.staff_support import WebhookReceiver, free_port

SECRET = "whsec-test-0123456789"


@pytest.fixture
def wired(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """The test sessions with the outbox listening."""
    outbox.install(sessions)
    return sessions


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The HTTP client the channel posts with."""
    with httpx.Client(timeout=5) as client:
        yield client


def test_signature_verifies_and_refuses_tampering_and_old_timestamps() -> None:
    body = b'{"id":"n1"}'
    now = int(time.time())
    signature = sign(SECRET, now, body)
    assert signature.startswith("v1=")
    assert len(signature) == 3 + 64
    assert verify(SECRET, body=body, timestamp=str(now), signature=signature)
    assert not verify(SECRET, body=body + b" ", timestamp=str(now), signature=signature)
    assert not verify("other", body=body, timestamp=str(now), signature=signature)
    assert not verify(SECRET, body=body, timestamp=str(now - 1000), signature=signature)
    assert not verify(SECRET, body=body, timestamp="soon", signature=signature)


def _webhook_rows(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).where(Delivery.channel == "webhook")))


def test_delivered_signed_after_a_retry_with_the_same_id(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock, client: httpx.Client
) -> None:
    receiver = WebhookReceiver(statuses=[503])
    try:
        with wired() as session:
            add_endpoint(session, url=receiver.url, store_id="cafe", secret=SECRET, clock=clock)
        _, order_id = place(wired, catalog, clock)
        channel = WebhookChannel(sessions=wired, client=client)
        policy = RetryPolicy(base=timedelta(seconds=5), jitter=0)
        dispatcher = Dispatcher(wired, [channel], worker="w", clock=clock, policy=policy)
        assert dispatcher.run_once() == 1
        (row,) = _webhook_rows(wired)
        assert row.status is DeliveryStatus.PENDING
        assert row.last_error.startswith("HTTP 503")
        assert row.next_attempt_at == clock.now + timedelta(seconds=5)
        assert dispatcher.run_once() == 0
        clock.advance(seconds=6)
        assert dispatcher.run_once() == 1
        (row,) = _webhook_rows(wired)
        assert row.status is DeliveryStatus.DELIVERED
        assert row.attempts == 2
        first, second = receiver.received
    finally:
        receiver.close()
    assert first.headers[ID_HEADER] == second.headers[ID_HEADER] == row.notification_id
    for call in (first, second):
        assert verify(
            SECRET,
            body=call.body,
            timestamp=call.headers[TIMESTAMP_HEADER],
            signature=call.headers[SIGNATURE_HEADER],
        )
    payload = json.loads(second.body)
    assert payload["event"] == "order.placed"
    assert payload["order"]["order_id"] == order_id
    assert payload["attempt"] == 2
    assert payload["text"].startswith("Order received: your medium oat milk latte at Bench Cafe")


def test_gone_is_dead_at_once_and_no_answer_is_retried(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock, client: httpx.Client
) -> None:
    receiver = WebhookReceiver(statuses=[410])
    try:
        with wired() as session:
            add_endpoint(session, url=receiver.url, store_id=None, secret=SECRET, clock=clock)
            add_endpoint(
                session, url=f"http://127.0.0.1:{free_port()}/x", store_id=None, clock=clock
            )
        place(wired, catalog, clock)
        channel = WebhookChannel(sessions=wired, client=client)
        Dispatcher(wired, [channel], worker="w", clock=clock).run_once()
    finally:
        receiver.close()
    gone, refused = _webhook_rows(wired)
    assert gone.status is DeliveryStatus.DEAD
    assert gone.last_error.startswith("HTTP 410")
    assert refused.status is DeliveryStatus.PENDING
    assert "ConnectError" in refused.last_error


def test_a_switched_off_endpoint_is_not_called(
    wired: sessionmaker[Session], catalog: Catalog, clock: FakeClock, client: httpx.Client
) -> None:
    receiver = WebhookReceiver()
    try:
        with wired() as session:
            endpoint = add_endpoint(session, url=receiver.url, store_id=None, clock=clock)
        place(wired, catalog, clock)
        with wired() as session:
            set_active(session, endpoint.id, False)
        Dispatcher(
            wired, [WebhookChannel(sessions=wired, client=client)], worker="w", clock=clock
        ).run_once()
        assert receiver.received == []
    finally:
        receiver.close()
    (row,) = _webhook_rows(wired)
    assert row.status is DeliveryStatus.DEAD
