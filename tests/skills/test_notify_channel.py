"""'Your order is ready' on the Echo: outbox -> dispatcher -> AlexaChannel -> Amazon (a local
HTTP server playing LWA and the Proactive Events API)."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from orders import outbox
from orders.notify import Dispatcher, Message, Outgoing, Result
from orders.pickup import Actor, transition
from orders.staff_tables import Delivery, DeliveryStatus
from orders.tables import ActorKind, OrderStatus
from skills.notify_channel import AlexaChannel
from skills.proactive import LwaTokens, ProactiveEvents
from tests.orders.database import backend, clock, database_url, empty_url, engine, sessions
from tests.orders.factories import FakeClock
from tests.skills.conftest import FakeAmazon
from tests.skills.flows import linked, orders
from tests.skills.shopping import Alexa, Shop, invoke, load_shop

__all__ = ["backend", "clock", "database_url", "empty_url", "engine", "sessions"]

TOKEN_REPLY = (
    200,
    {"Content-Type": "application/json"},
    b'{"access_token":"t1","expires_in":3600}',
)
EVENTS = "/v1/proactiveEvents/stages/development"
STAFF = Actor(ActorKind.STAFF, "barista")


def channel(amazon: FakeAmazon, client: httpx.Client, clock: FakeClock) -> AlexaChannel:
    tokens = LwaTokens(
        client=client,
        client_id="amzn1.application-oa2-client.test",
        client_secret="lwa-secret-for-tests",
        token_url=amazon.base_url + "/auth/o2/token",
        clock=clock,
    )
    events = ProactiveEvents(
        client=client, tokens=tokens, url=amazon.base_url + EVENTS, clock=clock
    )
    return AlexaChannel(events)


def ready_order(shop: Shop, user_id: str) -> tuple[int, int]:
    """A shopper linked on Alexa orders by voice; the barista marks it ready: (customer, order)."""
    send = invoke(shop.skill())

    def connect(token: str | None) -> Alexa:
        return Alexa(send, shop.catalog, user_id=user_id, access_token=token)

    alexa = linked(shop, connect)
    alexa.intent("AddItemsIntent", product="grande oat latte")
    alexa.intent("CheckoutIntent")
    assert alexa.yes().ends
    assert alexa.customer_id is not None
    order = orders(shop, alexa.customer_id)[0]
    with shop.sessions() as db:
        for status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
            transition(db, order.id, status, actor=STAFF, clock=shop.clock)
    return alexa.customer_id, order.id


def alexa_deliveries(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as db:
        query = select(Delivery).where(Delivery.channel == outbox.ALEXA)
        return list(db.scalars(query.order_by(Delivery.id)))


@pytest.fixture
def wired_shop(sessions: sessionmaker[Session], clock: FakeClock) -> Shop:
    outbox.install(sessions)
    return load_shop(sessions, clock)


def test_a_ready_order_reaches_the_linked_echo(
    wired_shop: Shop, amazon: FakeAmazon, clock: FakeClock
) -> None:
    amazon.script("/auth/o2/token", TOKEN_REPLY)
    amazon.script(EVENTS, (202, {}, b""))
    _, order_id = ready_order(wired_shop, "amzn1.ask.account.READY")
    [pending] = alexa_deliveries(wired_shop.sessions)
    assert pending.target == "amzn1.ask.account.READY"
    with httpx.Client(timeout=5) as client:
        dispatcher = Dispatcher(
            wired_shop.sessions, [channel(amazon, client, clock)], worker="test", clock=clock
        )
        assert dispatcher.run_once() == 1
    [sent] = amazon.on(EVENTS)
    event = json.loads(sent.body)
    assert sent.headers["authorization"] == "Bearer t1"
    assert event["event"]["name"] == "AMAZON.OrderStatus.Updated"
    assert event["event"]["payload"]["state"]["status"] == "ORDER_DELIVERED"
    assert event["relevantAudience"] == {
        "type": "Unicast",
        "payload": {"user": "amzn1.ask.account.READY"},
    }
    assert event["localizedAttributes"] == [
        {"locale": "en-US", "sellerName": "VoiceCart Coffee Main Street"}
    ]
    [delivered] = alexa_deliveries(wired_shop.sessions)
    assert delivered.status is DeliveryStatus.DELIVERED
    assert event["referenceId"] == delivered.notification_id
    assert order_id > 0


def test_a_shopper_who_did_not_allow_notifications_is_not_retried(
    wired_shop: Shop, amazon: FakeAmazon, clock: FakeClock
) -> None:
    amazon.script("/auth/o2/token", TOKEN_REPLY)
    amazon.script(EVENTS, (403, {}, b'{"message":"no permission"}'))
    ready_order(wired_shop, "amzn1.ask.account.NOPERM")
    with httpx.Client(timeout=5) as client:
        dispatcher = Dispatcher(
            wired_shop.sessions, [channel(amazon, client, clock)], worker="test", clock=clock
        )
        dispatcher.run_once()
    [dead] = alexa_deliveries(wired_shop.sessions)
    assert dead.status is DeliveryStatus.DEAD
    assert "forbidden" in dead.last_error


def _outgoing(event: str = "order.ready") -> Outgoing:
    from datetime import UTC, datetime

    message = Message(
        id="0b9c7f2e-1111-4222-8333-444455556666",
        event=event,
        status="ready",
        created_at=datetime(2025, 3, 4, 16, tzinfo=UTC),
        order_id=7,
        customer_id=1,
        store_id="cafe",
        store_name="Bench Cafe",
        text="Your latte is ready at Bench Cafe",
        ticket={},
    )
    return Outgoing(1, outbox.ALEXA, "amzn1.ask.account.X", 1, message)


def test_rate_limits_are_retried_after_amazons_wait(amazon: FakeAmazon, clock: FakeClock) -> None:
    amazon.script("/auth/o2/token", TOKEN_REPLY)
    amazon.script(EVENTS, (429, {"Retry-After": "120"}, b"slow down"), (202, {}, b""))
    with httpx.Client(timeout=5) as client:
        alexa = channel(amazon, client, clock)
        outcome = alexa.deliver(_outgoing())
        assert (outcome.result, outcome.retry_after) == (Result.RETRY, 120.0)
        clock.advance(seconds=121)
        assert alexa.deliver(_outgoing()).result is Result.DELIVERED


def test_duplicates_count_as_delivered_and_unknown_events_fail(
    amazon: FakeAmazon, clock: FakeClock
) -> None:
    amazon.script("/auth/o2/token", TOKEN_REPLY)
    amazon.script(EVENTS, (409, {}, b"already"))
    with httpx.Client(timeout=5) as client:
        alexa = channel(amazon, client, clock)
        assert alexa.deliver(_outgoing()).result is Result.DELIVERED
        assert alexa.deliver(_outgoing("order.picked_up")).result is Result.FAILED
    assert len(amazon.on(EVENTS)) == 1
