"""SIGKILL between commit and delivery: the notification is still delivered after a restart.

Real server processes on the test database (SQLite file, and PostgreSQL when configured), a
real webhook receiver, the shopper's real event stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from orders.staff_tables import Delivery, DeliveryStatus, Notification
from orders.webhook import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, add_endpoint, verify
from tests.orders.factories import FakeClock
from tests.server.staff_fixtures import Shop, login, make_shop, place_latte
from tests.server.staff_support import ServerProcess, SseReader, WebhookReceiver

SECRET = "crash-test-secret-0123456789"


@pytest.fixture
def shop(session: Session, clock: FakeClock) -> Shop:
    """The shop in the test database."""
    return make_shop(session, clock)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A receiver that holds the first call until released."""
    hook = WebhookReceiver(hold=1)
    yield hook
    hook.close()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """One process on the test database, with a short claim lease."""
    return {
        "VOICECART_DATABASE_URL": database_url,
        "VOICECART_REDIS_URL": "",
        "VOICECART_OUTBOX_LEASE_SECONDS": "2",
        "VOICECART_OUTBOX_POLL_SECONDS": "0.2",
        **extra,
    }


def make_ready(base: str, shop: Shop) -> int:
    """Ada orders at Main St; a barista accepts, starts and readies it. The order id."""
    with httpx.Client(timeout=10) as client:
        order = place_latte(client, shop.ada, key="crash", base=base)
        csrf = login(client, shop.barista, base=base)
        for action in ("accept", "start", "ready"):
            answer = client.post(
                f"{base}/staff/orders/{order['id']}/{action}",
                headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
            )
            assert answer.status_code == 200, answer.text
    return int(str(order["id"]))


def ready_deliveries(sessions: sessionmaker[Session]) -> list[Delivery]:
    """The deliveries of the "order.ready" notification."""
    with sessions() as session:
        query = (
            select(Delivery)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Notification.event == "order.ready")
            .order_by(Delivery.id)
        )
        return list(session.scalars(query))


def wait_all_delivered(sessions: sessionmaker[Session], timeout: float = 20) -> list[Delivery]:
    """Poll until every "ready" delivery is delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = ready_deliveries(sessions)
        if rows and all(row.status is DeliveryStatus.DELIVERED for row in rows):
            return rows
        time.sleep(0.2)
    raise TimeoutError(f"not delivered: {[(r.channel, r.status) for r in rows]}")


def shopper_hears_ready(base: str, shop: Shop) -> str:
    """The shopper's stream on the restarted server: the "ready" notification's id."""
    reader = SseReader(f"{base}/v1/events", headers=shop.ada.auth)
    try:
        while True:
            event = reader.next("notification", timeout=15)
            if event.data["event"] == "order.ready":
                assert event.data["text"] == "Your large oat milk latte is ready at Main St"
                return event.id
    finally:
        reader.close()


def test_a_delivery_in_flight_at_sigkill_is_delivered_again(
    database_url: str, sessions: sessionmaker[Session], shop: Shop, receiver: WebhookReceiver
) -> None:
    with sessions() as session:
        add_endpoint(
            session, url=receiver.url, store_id="cafe", events=["order.ready"], secret=SECRET
        )
    first = ServerProcess(server_env(database_url)).start()
    try:
        make_ready(first.base, shop)
        assert receiver.arrived.wait(15), "the dispatcher never called the webhook"
        (webhook,) = [d for d in ready_deliveries(sessions) if d.channel == "webhook"]
        assert webhook.status is DeliveryStatus.PENDING
        assert webhook.attempts == 1
        assert first.process is not None
        assert webhook.locked_by.endswith(f":{first.process.pid}/net")
    finally:
        first.kill()  # mid-request: the receiver has the call, the database has no answer
    receiver.release()
    second = ServerProcess(server_env(database_url)).start()
    try:
        calls = receiver.wait_for(2)
        rows = wait_all_delivered(sessions)
        heard = shopper_hears_ready(second.base, shop)
    finally:
        second.stop()
    (webhook,) = [row for row in rows if row.channel == "webhook"]
    assert second.process is not None
    assert webhook.locked_by.endswith(f":{second.process.pid}/net")
    assert webhook.attempts == 2
    assert calls[0].headers[ID_HEADER] == calls[1].headers[ID_HEADER] == webhook.notification_id
    assert heard == webhook.notification_id  # one id everywhere: receivers drop the repeat
    for call in calls:
        assert verify(
            SECRET,
            body=call.body,
            timestamp=call.headers[TIMESTAMP_HEADER],
            signature=call.headers[SIGNATURE_HEADER],
        )


def test_notifications_committed_by_a_killed_process_are_delivered_after_restart(
    database_url: str, sessions: sessionmaker[Session], shop: Shop, receiver: WebhookReceiver
) -> None:
    receiver.release()  # answer at once
    with sessions() as session:
        add_endpoint(
            session, url=receiver.url, store_id="cafe", events=["order.ready"], secret=SECRET
        )
    web_only = ServerProcess(server_env(database_url, VOICECART_DISPATCHER="false")).start()
    try:
        make_ready(web_only.base, shop)
        pending = ready_deliveries(sessions)
        assert {(d.channel, d.status, d.attempts) for d in pending} == {
            ("store", DeliveryStatus.PENDING, 0),
            ("app", DeliveryStatus.PENDING, 0),
            ("webhook", DeliveryStatus.PENDING, 0),
        }
    finally:
        web_only.kill()
    killed_at = datetime.now(UTC)
    assert receiver.received == []
    restarted = ServerProcess(server_env(database_url)).start()
    try:
        rows = wait_all_delivered(sessions)
        calls = receiver.wait_for(1)
        heard = shopper_hears_ready(restarted.base, shop)
    finally:
        restarted.stop()
    assert restarted.process is not None
    assert all(row.delivered_at is not None and row.delivered_at > killed_at for row in rows)
    (webhook,) = [row for row in rows if row.channel == "webhook"]
    assert f":{restarted.process.pid}/" in webhook.locked_by
    (notification_id,) = {row.notification_id for row in rows}
    assert calls[0].headers[ID_HEADER] == notification_id == heard
