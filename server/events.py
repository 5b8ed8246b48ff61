"""The event bus: staff screens and shopper streams subscribe to topics; dispatchers publish.

Topics are "store.<id>" (a store's staff screens) and "customer.<id>" (a shopper's devices).
`LocalBus` fans out inside one process (the embedded default: SQLite, one process, no Redis).
`RedisBus` publishes through Redis pub/sub, and one listener task per process fans incoming
messages out to that process's subscribers, so a screen connected to process 1 sees what a
dispatcher in process 2 published. Pub/sub is fire-and-forget: the bus is only the fast path.
The database is the truth: a staff screen starts from a snapshot, a shopper stream replays
from its Last-Event-ID, and a subscription whose queue overflowed (or whose Redis connection
dropped) is closed so that its client reconnects and resyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis
from fastapi import Request

logger = logging.getLogger(__name__)

QUEUE_SIZE = 1000
"""Messages a slow subscriber may fall behind by before it is closed (and resyncs)."""
RECONNECT_SECONDS = 1.0


def store_topic(store_id: str) -> str:
    """The topic of a store's staff screens."""
    return f"store.{store_id}"


def customer_topic(customer_id: int | str) -> str:
    """The topic of a shopper's in-app streams."""
    return f"customer.{customer_id}"


class SubscriptionClosedError(Exception):
    """The subscription was closed by the bus (overflow or lost connection): resync."""


class Subscription:
    """One stream's queue of messages (JSON text) on some topics; use `async with`."""

    def __init__(self, hub: Hub, topics: Sequence[str]) -> None:
        self._hub = hub
        self.topics = tuple(topics)
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self._loop = asyncio.get_running_loop()
        self.closed = False

    async def __aenter__(self) -> Subscription:
        self._hub.add(self)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._hub.remove(self)

    async def get(self, timeout: float) -> str | None:
        """The next message, or None after `timeout` seconds; Closed when the bus closed it."""
        try:
            message = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if message is None:
            raise SubscriptionClosedError()
        return message

    def offer(self, message: str | None) -> None:
        """Queue a message from any thread (None closes the subscription)."""
        self._loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: str | None) -> None:
        """On the subscriber's loop: queue it, or close on overflow."""
        if self.closed:
            return
        if message is None or self._queue.full():
            self.closed = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(None)
            return
        self._queue.put_nowait(message)


class Hub:
    """This process's subscriptions by topic."""

    def __init__(self) -> None:
        self._topics: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()

    def add(self, subscription: Subscription) -> None:
        """Start receiving a subscription's topics."""
        with self._lock:
            for topic in subscription.topics:
                self._topics.setdefault(topic, set()).add(subscription)

    def remove(self, subscription: Subscription) -> None:
        """Stop receiving."""
        with self._lock:
            for topic in subscription.topics:
                subscribers = self._topics.get(topic)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._topics[topic]

    def fan_out(self, topic: str, message: str) -> int:
        """Hand a message to every local subscriber of the topic; returns how many."""
        with self._lock:
            subscribers = list(self._topics.get(topic, ()))
        for subscription in subscribers:
            subscription.offer(message)
        return len(subscribers)

    def close_all(self) -> None:
        """Close every subscription (their clients reconnect and resync)."""
        with self._lock:
            subscribers = {s for group in self._topics.values() for s in group}
        for subscription in subscribers:
            subscription.offer(None)


class EventBus(Protocol):
    """Publish from any thread; subscribe from the event loop."""

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Send a message to every subscriber of the topic, in every process."""
        ...

    def subscribe(self, topics: Sequence[str]) -> Subscription:
        """A subscription to use with `async with` on the running loop."""
        ...

    async def start(self) -> None:
        """Connect (called once the event loop runs)."""
        ...

    async def stop(self) -> None:
        """Disconnect and close every subscription."""
        ...


class LocalBus:
    """The in-process bus: publishing is a direct fan-out."""

    def __init__(self) -> None:
        self.hub = Hub()

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Fan out in this process."""
        self.hub.fan_out(topic, json.dumps(message))

    def subscribe(self, topics: Sequence[str]) -> Subscription:
        """A subscription on this process's hub."""
        return Subscription(self.hub, topics)

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Close every subscription."""
        self.hub.close_all()


class RedisBus:
    """Redis pub/sub between processes; one pattern subscription per process fans out locally."""

    def __init__(self, url: str, *, prefix: str = "voicecart") -> None:
        self._url = url
        self._prefix = f"{prefix}:"
        self._publisher = redis.Redis.from_url(url)
        self.hub = Hub()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """PUBLISH on the topic's channel (blocking; dispatchers call it from their thread)."""
        self._publisher.publish(self._prefix + topic, json.dumps(message))

    def subscribe(self, topics: Sequence[str]) -> Subscription:
        """A subscription on this process's hub."""
        return Subscription(self.hub, topics)

    async def start(self) -> None:
        """Start the listener task and wait until its first subscription is in place."""
        self.ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen_forever(), name="redis-bus")
        await asyncio.wait_for(self.ready.wait(), timeout=10)

    async def stop(self) -> None:
        """Stop listening, close subscriptions and connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.hub.close_all()
        self._publisher.close()

    async def _listen_forever(self) -> None:
        """Listen; after a lost connection, close local subscriptions (they resync), reconnect."""
        while True:
            try:
                await self._listen()
            except (redis.RedisError, OSError) as error:
                logger.warning("redis bus: %s; reconnecting in %.0f s", error, RECONNECT_SECONDS)
                self.hub.close_all()
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        """One connection's life: subscribe to every topic of the prefix and fan out."""
        client = aioredis.Redis.from_url(self._url)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.psubscribe(self._prefix + "*")
                self.ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    channel = _text(message["channel"])
                    self.hub.fan_out(channel.removeprefix(self._prefix), _text(message["data"]))
        finally:
            await client.aclose()


def _text(value: bytes | str) -> str:
    """Redis hands back bytes."""
    return value.decode() if isinstance(value, bytes) else value


async def get_bus(request: Request) -> EventBus:
    """The process's bus (server/live.py put it on the app); async, so no thread hop."""
    bus: EventBus = request.app.state.bus
    return bus


def make_bus(redis_url: str | None, *, prefix: str) -> EventBus:
    """Redis pub/sub when a Redis URL is set, else the in-process bus."""
    if redis_url:
        return RedisBus(redis_url, prefix=prefix)
    return LocalBus()
