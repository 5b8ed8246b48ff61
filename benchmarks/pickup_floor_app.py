"""The least a pickup order can cost on VoiceCart's stack: the app benchmarks/pickup_floor.py runs.

Not VoiceCart: a skeleton with the same fixed parts (uvicorn, FastAPI, PostgreSQL through
psycopg, Redis pub/sub, server-sent events) doing only what no implementation of the
pickup path can skip, written for speed (async routes, raw SQL, no ORM, no validation
models, one transaction per request):
- POST /cart/items       token -> customer, insert the cart line;
- POST /pickup/orders    token -> customer (locked), idempotency look-up, the cart's lines,
                         insert the order, its lines and its outbox row, empty the cart,
                         commit; publish the event to Redis; mark the outbox row delivered;
- GET  /staff/stream     the store's events from Redis, as server-sent events.
What the real path does on top (prices and options from the catalog, the ready-time queue,
the status history, staff sessions, rendering, the dispatcher's claim, a shopper stream)
only adds to this, so its throughput bounds VoiceCart's from above.

Settings from the environment: FLOOR_DATABASE_URL (a libpq URL), FLOOR_REDIS_URL,
FLOOR_PREFIX (Redis channel prefix), FLOOR_POOL (connections per process).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from redis import asyncio as aioredis

SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, token_hash text UNIQUE NOT NULL,
                        store_id text NOT NULL, name text NOT NULL DEFAULT 'Shopper');
CREATE TABLE cart_lines (id bigserial PRIMARY KEY, customer_id int NOT NULL,
                         product_id text NOT NULL, options jsonb NOT NULL, quantity int NOT NULL);
CREATE INDEX cart_lines_customer ON cart_lines (customer_id);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, store_id text NOT NULL,
                     total int NOT NULL, placed_at timestamptz NOT NULL,
                     idempotency_key text NOT NULL, UNIQUE (customer_id, idempotency_key),
                     status text NOT NULL DEFAULT 'placed', promised_at timestamptz);
CREATE TABLE order_lines (id bigserial PRIMARY KEY, order_id bigint NOT NULL,
                          product_id text NOT NULL, options jsonb NOT NULL, quantity int NOT NULL);
CREATE TABLE outbox (id text PRIMARY KEY, order_id bigint NOT NULL, store_id text NOT NULL,
                     payload jsonb NOT NULL, delivered_at timestamptz);
-- the outbox skeleton's (pickup_floor_outbox_app.py): a notification, a delivery per channel
CREATE TABLE notifications (id text PRIMARY KEY, order_id bigint NOT NULL, payload jsonb NOT NULL);
CREATE TABLE deliveries (id bigserial PRIMARY KEY, notification_id text NOT NULL,
                         topic text NOT NULL, worker text, attempts int NOT NULL DEFAULT 0,
                         lease_until timestamptz NOT NULL DEFAULT '-infinity',
                         delivered_at timestamptz);
CREATE INDEX deliveries_due ON deliveries (id) WHERE delivered_at IS NULL;
-- the full skeleton's (pickup_floor_full_app.py): staff, their sessions, the manager's
-- switches, the stores' webhooks, the ready-time queue
CREATE TABLE staff (email text PRIMARY KEY, stores text[] NOT NULL);
CREATE TABLE staff_sessions (token_hash text PRIMARY KEY, csrf text NOT NULL,
                             stores text[] NOT NULL);
CREATE TABLE stores (id text PRIMARY KEY, paused boolean NOT NULL DEFAULT false,
                     extra_minutes int NOT NULL DEFAULT 0);
CREATE TABLE webhooks (id serial PRIMARY KEY, store_id text NOT NULL, url text NOT NULL);
CREATE INDEX webhooks_store ON webhooks (store_id);
ALTER TABLE orders ADD COLUMN prep_minutes int NOT NULL DEFAULT 4;
CREATE INDEX orders_queue ON orders (store_id, promised_at)
    WHERE status IN ('placed', 'accepted', 'preparing', 'ready');
"""
PRICE = 585


def placed_event(order_id: int, lines: Sequence[Sequence[Any]]) -> tuple[str, str]:
    """The "order placed" event of an order with these cart lines (product, options,
    quantity): its id, and its JSON with the ticket's HTML, for the outbox and for Redis."""
    event_id = uuid.uuid4().hex
    items = ", ".join(f"{q} x {p} ({o})" for p, o, q in lines)
    payload = {
        "id": event_id,
        "event": "order.placed",
        "order_id": order_id,
        "html": f"<article class=ticket><h2>#{order_id}</h2><p>{items}</p></article>",
    }
    return event_id, json.dumps(payload)


def token_hash(token: str) -> str:
    """How tokens are stored (as VoiceCart stores them: a SHA-256 digest)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Pool:
    """A fixed set of async connections handed out one request at a time."""

    def __init__(self, connections: list[psycopg.AsyncConnection[tuple[object, ...]]]) -> None:
        self._free: asyncio.Queue[psycopg.AsyncConnection[tuple[object, ...]]] = asyncio.Queue()
        for connection in connections:
            self._free.put_nowait(connection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
        """Borrow a connection."""
        connection = await self._free.get()
        try:
            yield connection
        finally:
            self._free.put_nowait(connection)


class Fanout:
    """One Redis subscription per process, fanned out to the streams of each store."""

    def __init__(self) -> None:
        self.streams: dict[str, set[asyncio.Queue[bytes]]] = {}

    async def run(self, redis: aioredis.Redis, prefix: str) -> None:
        """Forward every published event to the queues of its store."""
        pubsub = redis.pubsub()
        await pubsub.psubscribe(f"{prefix}:*")
        async for message in pubsub.listen():
            if message["type"] != "pmessage":
                continue
            store = message["channel"].decode().rpartition(":")[2]
            for queue in self.streams.get(store, ()):
                queue.put_nowait(message["data"])

    def stream(self, key: str) -> StreamingResponse:
        """The events published to `key` (a store, or `c<customer id>`) as server-sent events."""
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.streams.setdefault(key, set()).add(queue)

        async def events() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while True:
                    yield b"data: " + await queue.get() + b"\n\n"
            finally:
                self.streams[key].discard(queue)

        return StreamingResponse(events(), media_type="text/event-stream")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the connections and the subscription."""
    url = os.environ["FLOOR_DATABASE_URL"]
    connections = [
        await psycopg.AsyncConnection.connect(url) for _ in range(int(os.environ["FLOOR_POOL"]))
    ]
    redis = aioredis.from_url(os.environ["FLOOR_REDIS_URL"])
    app.state.pool, app.state.redis, app.state.fanout = Pool(connections), redis, Fanout()
    app.state.prefix = os.environ["FLOOR_PREFIX"]
    listener = asyncio.create_task(app.state.fanout.run(redis, app.state.prefix))
    yield
    listener.cancel()
    for connection in connections:
        await connection.close()
    await redis.aclose()


app = FastAPI(lifespan=lifespan)


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


@app.post("/cart/items")
async def add_item(request: Request) -> JSONResponse:
    """Add one line to the caller's cart."""
    token, item = bearer_token(request), json.loads(await request.body())
    if token is None:
        return JSONResponse({"error": "not authenticated"}, status_code=401)
    async with app.state.pool.connection() as connection, connection.transaction():
        found = await (
            await connection.execute(
                "SELECT id FROM customers WHERE token_hash = %s", (token_hash(token),)
            )
        ).fetchone()
        if found is None:
            return JSONResponse({"error": "not authenticated"}, status_code=401)
        await connection.execute(
            "INSERT INTO cart_lines (customer_id, product_id, options, quantity)"
            " VALUES (%s, %s, %s, 1)",
            (found[0], item["product_id"], json.dumps(item["options"])),
        )
    return JSONResponse({"added": item["product_id"]})


@app.post("/pickup/orders", status_code=201)
async def place(request: Request) -> JSONResponse:
    """Place the cart for pickup, write its outbox row, publish it, mark it delivered."""
    token, body = bearer_token(request), json.loads(await request.body())
    key = request.headers.get("idempotency-key", "")
    if token is None or not key:
        return JSONResponse({"error": "token and key required"}, status_code=400)
    store, now = body["store_id"], datetime.now(UTC)
    async with app.state.pool.connection() as connection:
        async with connection.transaction():
            found = await (
                await connection.execute(
                    "SELECT id FROM customers WHERE token_hash = %s FOR UPDATE",
                    (token_hash(token),),
                )
            ).fetchone()
            if found is None:
                return JSONResponse({"error": "not authenticated"}, status_code=401)
            customer = found[0]
            replay = await (
                await connection.execute(
                    "SELECT id, placed_at FROM orders WHERE customer_id = %s"
                    " AND idempotency_key = %s",
                    (customer, key),
                )
            ).fetchone()
            if replay is not None:
                return JSONResponse({"id": replay[0], "placed_at": replay[1].isoformat()})
            lines = await (
                await connection.execute(
                    "SELECT product_id, options, quantity FROM cart_lines WHERE customer_id = %s",
                    (customer,),
                )
            ).fetchall()
            if not lines:
                return JSONResponse({"error": "cart empty"}, status_code=409)
            total = PRICE * sum(int(quantity) for _, _, quantity in lines)
            order = await (
                await connection.execute(
                    "INSERT INTO orders (customer_id, store_id, total, placed_at, idempotency_key)"
                    " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    (customer, store, total, now, key),
                )
            ).fetchone()
            assert order is not None
            order_id = order[0]
            async with connection.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO order_lines (order_id, product_id, options, quantity)"
                    " VALUES (%s, %s, %s, %s)",
                    [(order_id, p, json.dumps(o), q) for p, o, q in lines],
                )
            event_id, payload = placed_event(order_id, lines)
            await connection.execute(
                "INSERT INTO outbox (id, order_id, store_id, payload) VALUES (%s, %s, %s, %s)",
                (event_id, order_id, store, payload),
            )
            await connection.execute("DELETE FROM cart_lines WHERE customer_id = %s", (customer,))
        await app.state.redis.publish(f"{app.state.prefix}:{store}", payload)
        async with connection.transaction():
            await connection.execute(
                "UPDATE outbox SET delivered_at = now() WHERE id = %s", (event_id,)
            )
    return JSONResponse({"id": order_id, "placed_at": now.isoformat()}, status_code=201)


@app.get("/staff/stream")
async def staff_stream(request: Request, store: str) -> StreamingResponse:
    """The store's events as server-sent events."""
    fanout: Fanout = request.app.state.fanout
    return fanout.stream(store)
