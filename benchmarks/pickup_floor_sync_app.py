"""The skeleton of benchmarks/pickup_floor_app.py built the way VoiceCart is built.

Not VoiceCart: the same statements and the same answers as pickup_floor_app.py, but in
VoiceCart's architecture instead of the fastest one: sync route functions that FastAPI runs
in its thread pool (8 threads, as VoiceCart's default), SQLAlchemy Core on a pooled sync
engine (psycopg), the event published with the sync Redis client from the request's thread.
No ORM, no validation models, no catalog, no history. `benchmarks/pickup_floor.py --app sync`
runs it: the gap between the two skeletons is what the architecture costs (threads and
SQLAlchemy's engine); the gap between this one and VoiceCart is what VoiceCart's own work costs.

Settings from the environment as for pickup_floor_app.py.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis import asyncio as aioredis
from sqlalchemy import Connection, Engine, create_engine, text

from benchmarks.pickup_floor_app import (
    PRICE,
    Fanout,
    bearer_token,
    placed_event,
    staff_stream,
    token_hash,
)

THREADS = 8

_CUSTOMER = text("SELECT id FROM customers WHERE token_hash = :hash")
_LOCK_CUSTOMER = text("SELECT id FROM customers WHERE token_hash = :hash FOR UPDATE")
_ADD_LINE = text(
    "INSERT INTO cart_lines (customer_id, product_id, options, quantity)"
    " VALUES (:customer, :product, :options, 1)"
)
_REPLAY = text(
    "SELECT id, placed_at FROM orders WHERE customer_id = :customer AND idempotency_key = :key"
)
_LINES = text("SELECT product_id, options, quantity FROM cart_lines WHERE customer_id = :customer")
_ORDER = text(
    "INSERT INTO orders (customer_id, store_id, total, placed_at, idempotency_key)"
    " VALUES (:customer, :store, :total, :now, :key) RETURNING id"
)
_ORDER_LINE = text(
    "INSERT INTO order_lines (order_id, product_id, options, quantity)"
    " VALUES (:order, :product, :options, :quantity)"
)
_OUTBOX = text(
    "INSERT INTO outbox (id, order_id, store_id, payload) VALUES (:id, :order, :store, :payload)"
)
_EMPTY_CART = text("DELETE FROM cart_lines WHERE customer_id = :customer")
_DELIVERED = text("UPDATE outbox SET delivered_at = now() WHERE id = :id")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The engine, the Redis clients and the subscription."""
    url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    pool = int(os.environ["FLOOR_POOL"])
    app.state.engine = create_engine(url, pool_size=pool, max_overflow=pool)
    app.state.publisher = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
    listening = aioredis.from_url(os.environ["FLOOR_REDIS_URL"])
    app.state.fanout, app.state.prefix = Fanout(), os.environ["FLOOR_PREFIX"]
    to_thread.current_default_thread_limiter().total_tokens = THREADS
    listener = asyncio.create_task(app.state.fanout.run(listening, app.state.prefix))
    yield
    listener.cancel()
    app.state.engine.dispose()
    app.state.publisher.close()
    await listening.aclose()


app = FastAPI(lifespan=lifespan)


@app.post("/cart/items")
def add_item(request: Request, item: dict[str, object]) -> JSONResponse:
    """Add one line to the caller's cart."""
    token = bearer_token(request)
    if token is None:
        return JSONResponse({"error": "not authenticated"}, status_code=401)
    engine: Engine = request.app.state.engine
    with engine.begin() as connection:
        customer = connection.execute(_CUSTOMER, {"hash": token_hash(token)}).scalar()
        if customer is None:
            return JSONResponse({"error": "not authenticated"}, status_code=401)
        connection.execute(
            _ADD_LINE,
            {
                "customer": customer,
                "product": item["product_id"],
                "options": json.dumps(item["options"]),
            },
        )
    return JSONResponse({"added": item["product_id"]})


@dataclass(frozen=True)
class Placed:
    """An order inserted in the caller's transaction, and the cart lines it was made of."""

    customer: int
    order_id: int
    lines: list[Any]


def insert_order(
    connection: Connection, *, token: str, key: str, store: str, now: datetime
) -> Placed | JSONResponse:
    """Token -> locked customer, idempotent replay, the cart's lines, the order and its lines,
    the cart emptied; the answer instead when there is nothing to insert."""
    customer = connection.execute(_LOCK_CUSTOMER, {"hash": token_hash(token)}).scalar()
    if customer is None:
        return JSONResponse({"error": "not authenticated"}, status_code=401)
    replay = connection.execute(_REPLAY, {"customer": customer, "key": key}).first()
    if replay is not None:
        return JSONResponse({"id": replay[0], "placed_at": replay[1].isoformat()})
    lines = list(connection.execute(_LINES, {"customer": customer}).all())
    if not lines:
        return JSONResponse({"error": "cart empty"}, status_code=409)
    total = PRICE * sum(int(quantity) for _, _, quantity in lines)
    order_id = connection.execute(
        _ORDER, {"customer": customer, "store": store, "total": total, "now": now, "key": key}
    ).scalar_one()
    connection.execute(
        _ORDER_LINE,
        [
            {"order": order_id, "product": p, "options": json.dumps(o), "quantity": q}
            for p, o, q in lines
        ],
    )
    connection.execute(_EMPTY_CART, {"customer": customer})
    return Placed(customer, order_id, lines)


def placing(request: Request, body: dict[str, object]) -> tuple[str, str, str] | JSONResponse:
    """The token, idempotency key and store of a placing request, or the 400 answer."""
    token, key = bearer_token(request), request.headers.get("idempotency-key", "")
    if token is None or not key:
        return JSONResponse({"error": "token and key required"}, status_code=400)
    return token, key, str(body["store_id"])


@app.post("/pickup/orders", status_code=201)
def place(request: Request, body: dict[str, object]) -> JSONResponse:
    """Place the cart for pickup, write its outbox row, publish it, mark it delivered."""
    asked = placing(request, body)
    if isinstance(asked, JSONResponse):
        return asked
    token, key, store = asked
    now = datetime.now(UTC)
    engine: Engine = app.state.engine
    with engine.connect() as connection:
        with connection.begin():
            placed = insert_order(connection, token=token, key=key, store=store, now=now)
            if isinstance(placed, JSONResponse):
                return placed
            event_id, payload = placed_event(placed.order_id, placed.lines)
            connection.execute(
                _OUTBOX,
                {"id": event_id, "order": placed.order_id, "store": store, "payload": payload},
            )
        app.state.publisher.publish(f"{app.state.prefix}:{store}", payload)
        with connection.begin():
            connection.execute(_DELIVERED, {"id": event_id})
    return JSONResponse({"id": placed.order_id, "placed_at": now.isoformat()}, status_code=201)


app.add_api_route("/staff/stream", staff_stream)
