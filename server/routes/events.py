"""The shopper's event stream (GET /v1/events) and answers to substitution offers.

The stream is Server-Sent Events with the customer's bearer token (the /app page reads it
with fetch, which can send the Authorization header; EventSource cannot). Every event's `id`
is the notification id: a client keeps the ids it has seen and drops duplicates, because
delivery is at least once. A reconnect with `Last-Event-ID` first replays what the shopper
may have missed, from the database.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from orders import outbox, tables
from orders.db import end_read
from orders.errors import SubstitutionNotFound
from orders.notify import Message, render
from orders.queries import get_order
from orders.queue import open_offer, tickets
from orders.substitutes import accept_substitute, decline_substitute
from server.deps import CustomerDep, Services, ServicesDep, ShopperDep
from server.events import EventBus, SubscriptionClosedError, customer_topic, get_bus
from server.routes import ERRORS
from server.schemas import OrderOut
from server.session_route import SessionRoute
from server.staff_cards import sse

router = APIRouter(tags=["events"], responses=ERRORS, route_class=SessionRoute)

PING_SECONDS = 15.0
STREAM_SECONDS = 30 * 60
BusDep = Annotated[EventBus, Depends(get_bus)]


@router.get("/events", response_class=StreamingResponse)
def shopper_events(
    customer: CustomerDep,
    services: ServicesDep,
    bus: BusDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> StreamingResponse:
    """Server-Sent Events of the shopper's orders: `event: notification`, `id` = notification id."""
    events = _shopper_events(bus, services, customer.id, last_event_id)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _shopper_events(
    bus: EventBus, services: Services, customer_id: int, last_event_id: str | None
) -> AsyncIterator[str]:
    """Subscribe, replay what a reconnecting client missed, then stream live notifications."""
    async with bus.subscribe([customer_topic(customer_id)]) as subscription:
        yield ": connected\n\n"
        for message in await asyncio.to_thread(_replay, services, customer_id, last_event_id):
            yield sse("notification", message.shopper_json(), event_id=message.id)
        started = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            try:
                text = await subscription.get(PING_SECONDS)
            except SubscriptionClosedError:
                return
            if text is None:
                yield ": ping\n\n"
                continue
            event_id = str(json.loads(text).get("id", ""))
            yield f"id: {event_id}\nevent: notification\ndata: {text}\n\n"


def _replay(services: Services, customer_id: int, after: str | None) -> Sequence[Message]:
    """The notifications since `after`, rendered as the live ones are."""
    with services.sessions() as session:
        ids = [row.id for row in outbox.replay(session, customer_id=customer_id, after=after)]
        messages = render(session, ids)
        end_read(session)
    return [messages[i] for i in ids if i in messages]


class SubstituteIn(BaseModel):
    """The shopper's pick among the offered substitutes (default: the first offered)."""

    model_config = ConfigDict(extra="forbid")

    product_id: str | None = Field(default=None, min_length=1, max_length=64)


@router.get("/orders/{order_id}/substitution")
def substitution(order_id: int, shopper: ShopperDep) -> dict[str, object]:
    """The offer waiting for the shopper's answer on this order (404 when there is none)."""
    order = get_order(shopper.session, shopper.customer.id, order_id)
    offer = open_offer(shopper.session, order.id)
    if offer is None:
        raise SubstitutionNotFound(order_id)
    ticket = tickets(shopper.session, [order])[0]
    return dict(ticket["substitution"])


@router.post("/orders/{order_id}/substitution/accept")
def accept(
    *,
    order_id: int,
    body: SubstituteIn,
    shopper: ShopperDep,
) -> OrderOut:
    """Take a substitute: the line is swapped and re-priced, the store is told."""
    order = accept_substitute(
        shopper.session,
        shopper.customer.id,
        order_id,
        product_id=body.product_id,
        catalog=shopper.catalog.catalog,
        clock=shopper.services.clock,
    )
    return OrderOut.model_validate(_with_events(shopper.session, order.id, shopper.customer.id))


@router.post("/orders/{order_id}/substitution/decline")
def decline(order_id: int, shopper: ShopperDep) -> OrderOut:
    """None of the substitutes: the order is cancelled, the store is told."""
    order = decline_substitute(
        shopper.session, shopper.customer.id, order_id, clock=shopper.services.clock
    )
    return OrderOut.model_validate(_with_events(shopper.session, order.id, shopper.customer.id))


def _with_events(session: Session, order_id: int, customer_id: int) -> tables.Order:
    """The order re-read with lines and events, as OrderOut needs them."""
    session.expire_all()
    return get_order(session, customer_id, order_id)
