"""The sync skeleton with the delivery design #7 asks for: a transactional outbox and dispatchers.

Not VoiceCart: pickup_floor_sync_app.py (VoiceCart's architecture: sync routes in the thread
pool, SQLAlchemy Core on a pooled psycopg engine, Redis) with its direct publish replaced by
what the issue requires of every implementation:
- placing writes the order, its lines, one notification and a delivery row per channel
  (the store's staff screens and the shopper's in-app stream) in the order's transaction;
- a dispatcher thread in every process claims due deliveries with `FOR UPDATE SKIP LOCKED`
  under a lease, publishes them to Redis (one pipeline per round) and records them as
  delivered; a commit wakes the process's dispatcher, which otherwise polls, and a round that
  delivered waits GATHER_SECONDS for more, as VoiceCart's does.
Still left out, so that this stays a floor under VoiceCart's cost: prices and options from the
catalog, staff sessions, the staff's button presses, ticket rendering, the status history,
webhooks and Alexa, validation models and the ORM. `benchmarks/pickup_floor.py --app outbox`
runs it.

Settings from the environment as for pickup_floor_app.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import redis
from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis import asyncio as aioredis
from sqlalchemy import Engine, bindparam, create_engine, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, TEXT

from benchmarks.pickup_floor_app import (
    Fanout,
    placed_event,
    staff_stream,
)
from benchmarks.pickup_floor_sync_app import THREADS, add_item, insert_order, placing

BATCH = 200
POLL_SECONDS = 0.5
GATHER_SECONDS = 0.03
LEASE = "30 seconds"

_NOTIFICATION = text(
    "INSERT INTO notifications (id, order_id, payload) VALUES (:id, :order, :payload)"
)
_DELIVERIES = text(
    "INSERT INTO deliveries (notification_id, topic) VALUES (:id, :store), (:id, :customer)"
)
_CLAIM = text(
    "UPDATE deliveries SET worker = :worker, lease_until = now() + interval '" + LEASE + "',"
    " attempts = attempts + 1"
    " WHERE id IN (SELECT id FROM deliveries WHERE delivered_at IS NULL AND lease_until < now()"
    " ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED)"
    " RETURNING id, notification_id, topic"
)
_PAYLOADS = text("SELECT id, payload::text FROM notifications WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(TEXT))
)
_DELIVERED = text(
    "UPDATE deliveries SET delivered_at = now() WHERE id = ANY(:ids) AND worker = :worker"
).bindparams(bindparam("ids", type_=ARRAY(BIGINT)))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The engine, the Redis clients, the subscription and this process's dispatcher."""
    url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    pool = int(os.environ["FLOOR_POOL"])
    app.state.engine = create_engine(url, pool_size=pool, max_overflow=pool)
    app.state.prefix = os.environ["FLOOR_PREFIX"]
    publisher = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
    listening = aioredis.from_url(os.environ["FLOOR_REDIS_URL"])
    app.state.fanout = Fanout()
    to_thread.current_default_thread_limiter().total_tokens = THREADS
    render = getattr(app.state, "render", None)
    dispatcher = Dispatcher(app.state.engine, publisher, prefix=app.state.prefix, render=render)
    app.state.dispatcher = dispatcher
    thread = threading.Thread(target=dispatcher.serve, name="dispatcher", daemon=True)
    thread.start()
    listener = asyncio.create_task(app.state.fanout.run(listening, app.state.prefix))
    yield
    listener.cancel()
    dispatcher.stop.set()
    dispatcher.wake.set()
    thread.join(5)
    app.state.engine.dispose()
    publisher.close()
    await listening.aclose()


class Dispatcher:
    """Claims due deliveries, publishes them, records them delivered; safe in every process."""

    def __init__(
        self,
        engine: Engine,
        publisher: redis.Redis,
        *,
        prefix: str,
        render: Callable[[str, str], str] | None = None,
    ) -> None:
        self.engine = engine
        self.render = render
        self.publisher = publisher
        self.prefix = prefix
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.wake = threading.Event()
        self.stop = threading.Event()

    def serve(self) -> None:
        """Rounds until stopped: at once when woken, else every POLL_SECONDS."""
        while not self.stop.is_set():
            self.wake.clear()
            delivered = self.round()
            if delivered and delivered < BATCH:
                self.stop.wait(GATHER_SECONDS)
            if delivered < BATCH:
                self.wake.wait(POLL_SECONDS)

    def round(self) -> int:
        """Claim one batch, publish it in one pipeline, record it; how many were claimed."""
        with self.engine.begin() as connection:
            claimed = connection.execute(_CLAIM, {"worker": self.worker, "batch": BATCH}).all()
            if not claimed:
                return 0
            ids = sorted({notification for _, notification, _ in claimed})
            payloads: dict[str, str] = dict(connection.execute(_PAYLOADS, {"ids": ids}).all())
        pipeline = self.publisher.pipeline(transaction=False)
        for _, notification, topic in claimed:
            payload = payloads[notification]
            if self.render is not None:
                payload = self.render(topic, payload)
            pipeline.publish(f"{self.prefix}{topic}", payload)
        pipeline.execute()
        with self.engine.begin() as connection:
            ids = [delivery for delivery, _, _ in claimed]
            connection.execute(_DELIVERED, {"ids": ids, "worker": self.worker})
        return len(claimed)


app = FastAPI(lifespan=lifespan)


@app.post("/pickup/orders", status_code=201)
def place(request: Request, body: dict[str, object]) -> JSONResponse:
    """Place the cart for pickup with its notification and deliveries; wake the dispatcher."""
    asked = placing(request, body)
    if isinstance(asked, JSONResponse):
        return asked
    token, key, store = asked
    now = datetime.now(UTC)
    engine: Engine = app.state.engine
    with engine.begin() as connection:
        placed = insert_order(connection, token=token, key=key, store=store, now=now)
        if isinstance(placed, JSONResponse):
            return placed
        event_id, payload = placed_event(placed.order_id, placed.lines)
        connection.execute(
            _NOTIFICATION, {"id": event_id, "order": placed.order_id, "payload": payload}
        )
        topics = {"store": f":{store}", "customer": f"-customer:{placed.customer}"}
        connection.execute(_DELIVERIES, {"id": event_id, **topics})
    app.state.dispatcher.wake.set()
    return JSONResponse({"id": placed.order_id, "placed_at": now.isoformat()}, status_code=201)


app.add_api_route("/cart/items", add_item, methods=["POST"])
app.add_api_route("/staff/stream", staff_stream)
