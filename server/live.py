"""The live side of a server process: the event bus, the notification channels, the dispatchers.

`install` is called by the app factory: it hooks the outbox into the app's session factory (so
every status change writes its notifications in the same transaction), wires the channels
(store screens and shopper streams on the bus, webhooks, Alexa when configured), and adds the
staff and shopper-stream routes. `running` is entered by the app's lifespan: it connects the
bus and runs two dispatcher threads, one for the bus channels (fast, never waits on the
network) and one for webhooks and Alexa (slow receivers must not delay a staff screen).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from orders import outbox
from orders.notify import Channel, Dispatcher, Message, Outcome, Outgoing
from orders.webhook import WebhookChannel
from server.deps import Services
from server.events import EventBus, customer_topic, make_bus, store_topic
from server.routes import events as events_routes
from server.routes import staff, staff_actions
from server.settings import Settings
from skills.notify_channel import AlexaChannel
from skills.proactive import LwaTokens, ProactiveEvents, events_url

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = httpx.Timeout(5.0, connect=3.0)


class BusChannel:
    """Delivers by publishing on the event bus (staff screens, shopper streams)."""

    def __init__(
        self,
        name: str,
        bus: EventBus,
        *,
        topic: Callable[[str], str],
        body: Callable[[Message], dict[str, Any]],
    ) -> None:
        self.name = name
        self._bus = bus
        self._topic = topic
        self._body = body

    def deliver(self, item: Outgoing) -> Outcome:
        """Publish; a bus that is down is retried."""
        try:
            self._bus.publish(self._topic(item.target), self._body(item.message))
        except (OSError, ConnectionError) as error:
            return Outcome.retry(f"event bus: {error}")
        return Outcome.delivered()


@dataclass
class Live:
    """What `running` starts and stops."""

    bus: EventBus
    dispatchers: list[Dispatcher]
    poll: float
    clients: list[httpx.Client] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def wake(self, channels: frozenset[str] | None = None) -> None:
        """A transaction just committed deliveries on `channels` (None: any): deliver now."""
        for dispatcher in self.dispatchers:
            if channels is None or not channels.isdisjoint(dispatcher.channels):
                dispatcher.wake()


def install(app: FastAPI, settings: Settings, services: Services) -> Live:
    """Wire the outbox, channels, dispatchers and the staff/shopper-stream routes into the app."""
    bus = make_bus(settings.redis_url, prefix=settings.events_prefix)
    live = Live(bus=bus, dispatchers=[], poll=settings.outbox_poll_seconds)
    if settings.dispatcher:
        live.dispatchers = _dispatchers(settings, services, bus, live)
    outbox.install(services.sessions, on_commit=live.wake)
    app.state.live = live
    app.state.bus = bus
    app.state.cookie_secure = settings.cookie_secure
    app.include_router(staff.router)
    app.include_router(staff_actions.router)
    app.include_router(events_routes.router, prefix="/v1")
    return live


def _dispatchers(
    settings: Settings, services: Services, bus: EventBus, live: Live
) -> list[Dispatcher]:
    """The fast (bus) and the slow (network) dispatcher of this process."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    fast: list[Channel] = [
        BusChannel(outbox.STORE, bus, topic=store_topic, body=Message.staff_json),
        BusChannel(outbox.APP, bus, topic=customer_topic, body=Message.shopper_json),
    ]
    client = httpx.Client(timeout=WEBHOOK_TIMEOUT)
    live.clients.append(client)
    slow: list[Channel] = [WebhookChannel(sessions=services.sessions, client=client)]
    if settings.alexa_client_id and settings.alexa_client_secret:
        tokens = LwaTokens(
            client=client,
            client_id=settings.alexa_client_id,
            client_secret=settings.alexa_client_secret,
        )
        url = events_url(settings.alexa_region, development=settings.alexa_development)
        slow.append(AlexaChannel(ProactiveEvents(client=client, tokens=tokens, url=url)))
    common: dict[str, Any] = {
        "clock": services.clock,
        "lease": lease,
        "gather": settings.outbox_gather_seconds,
    }
    alone = services.engine.dialect.name == "sqlite"
    return [
        # SQLite means one process: its bus dispatcher is the only one (see outbox.due).
        Dispatcher(services.sessions, fast, worker=f"{worker}/bus", exclusive=alone, **common),
        Dispatcher(services.sessions, slow, worker=f"{worker}/net", parallel=4, **common),
    ]


@asynccontextmanager
async def running(live: Live) -> AsyncIterator[None]:
    """Connect the bus and run the dispatcher threads for the app's lifetime."""
    await live.bus.start()
    live.stop.clear()
    threads = [
        threading.Thread(
            target=dispatcher.serve,
            args=(live.stop,),
            kwargs={"poll": live.poll},
            name=f"dispatcher-{dispatcher.worker}",
            daemon=True,
        )
        for dispatcher in live.dispatchers
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        live.stop.set()
        live.wake()
        for thread in threads:
            await asyncio.to_thread(thread.join, 10)
        for dispatcher in live.dispatchers:
            dispatcher.close()
        for client in live.clients:
            client.close()
        await live.bus.stop()
