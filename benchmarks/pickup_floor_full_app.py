"""The outbox skeleton grown to the whole of pickup_bench's load: the least #7's number costs.

Not VoiceCart: benchmarks/pickup_floor_outbox_app.py (sync routes in the thread pool,
SQLAlchemy Core on a pooled psycopg engine, Redis, a transactional outbox and a dispatcher
thread in every process) serving the very requests benchmarks/pickup_bench.py sends, so that
`pickup_floor.py --app full` can run pickup_bench's own load and report against it:
- POST /v1/cart/items, POST /v1/pickup/orders: as the outbox skeleton, with the price from
  the options chosen, the shopper's first name, and a ticket (items, options, amounts, the
  promised time) rendered into the notification;
- GET /staff/login, POST /staff/login, GET /staff: a session cookie and a CSRF token, once;
- POST /staff/orders/{id}/accept|start|ready: the staff session, its CSRF token, the store
  and the expected status checked in the one UPDATE that moves the order; the ticket read
  back and rendered; a notification with a delivery to the store's screens and one to the
  shopper, in the same transaction;
- GET /staff/stream?store=S, GET /v1/events: the store's and the shopper's server-sent events.
Placing also locks the store's row to read the manager's switches (paused, extra minutes) and
the ready-time queue in one statement, and a notification goes to the store's webhooks too
(looked up in the statement that writes its deliveries); FLOOR_STORE_READS=0 leaves these
reads out, as if every process held them in an exact cache. The dispatcher renders each delivery
for its channel (the ticket for screens, a sentence for the shopper). Still left out, so that
this stays a floor: opening hours, the status history, Alexa look-ups, the stream's session
check, password hashing, validation models and the ORM.

Settings from the environment as for pickup_floor_app.py.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Connection, Engine, text

from benchmarks.pickup_floor_app import Fanout, bearer_token, staff_stream, token_hash
from benchmarks.pickup_floor_outbox_app import lifespan
from benchmarks.pickup_floor_sync_app import add_item, placing

BASE_PRICE = 450
OPTION_PRICES = {("size", "large"): 75, ("milk", "oat"): 60}
PREP = timedelta(minutes=4)
HORIZON = timedelta(hours=2)
BARISTAS = 4
STEPS = {
    "accept": ("placed", "accepted"),
    "start": ("accepted", "preparing"),
    "ready": ("preparing", "ready"),
}
"""A staff button: the status it moves an order from, and to."""

_LOCK_CUSTOMER = text("SELECT id, name FROM customers WHERE token_hash = :hash FOR UPDATE")
_REPLAY = text(
    "SELECT id, placed_at FROM orders WHERE customer_id = :customer AND idempotency_key = :key"
)
_LINES = text("SELECT product_id, options, quantity FROM cart_lines WHERE customer_id = :customer")
_ORDER = text(
    "INSERT INTO orders (customer_id, store_id, total, placed_at, promised_at, idempotency_key)"
    " VALUES (:customer, :store, :total, :now, :promised, :key) RETURNING id"
)
_ORDER_LINE = text(
    "INSERT INTO order_lines (order_id, product_id, options, quantity)"
    " VALUES (:order, :product, :options, :quantity)"
)
_EMPTY_CART = text("DELETE FROM cart_lines WHERE customer_id = :customer")
_NOTIFY = text(
    "WITH n AS (INSERT INTO notifications (id, order_id, payload) VALUES (:id, :order, :payload))"
    " INSERT INTO deliveries (notification_id, topic)"
    " SELECT :id, :store UNION ALL SELECT :id, :customer"
    " UNION ALL SELECT :id, '\\:w' || id FROM webhooks WHERE store_id = :store_id"
)
_LOCK_STORE = text(
    "SELECT paused, extra_minutes, (SELECT coalesce(sum(prep_minutes), 0) FROM orders"
    "  WHERE store_id = stores.id AND promised_at < :cutoff"
    "  AND status IN ('placed', 'accepted', 'preparing', 'ready'))"
    " FROM stores WHERE id = :store FOR UPDATE"
)
_DELIVERIES_ONLY = text(
    "WITH n AS (INSERT INTO notifications (id, order_id, payload) VALUES (:id, :order, :payload))"
    " INSERT INTO deliveries (notification_id, topic) VALUES (:id, :store), (:id, :customer)"
)
READS = os.environ.get("FLOOR_STORE_READS", "1") == "1"
"""Off: no switches, queue or webhooks are read (as if every process cached them exactly)."""
_MOVE = text(
    "UPDATE orders SET status = :to WHERE id = :order AND status = :from AND store_id = ANY("
    " SELECT unnest(stores) FROM staff_sessions WHERE token_hash = :hash AND csrf = :csrf)"
    " RETURNING customer_id, store_id, total, placed_at, promised_at,"
    " (SELECT name FROM customers WHERE id = orders.customer_id)"
)
_ORDER_LINES = text("SELECT product_id, options, quantity FROM order_lines WHERE order_id = :order")
_STAFF = text("SELECT stores FROM staff WHERE email = :email")
_NEW_SESSION = text(
    "INSERT INTO staff_sessions (token_hash, csrf, stores) VALUES (:hash, :csrf, :stores)"
)
_SESSION_CSRF = text("SELECT csrf FROM staff_sessions WHERE token_hash = :hash")
_CUSTOMER = text("SELECT id FROM customers WHERE token_hash = :hash")

app = FastAPI(lifespan=lifespan)
app.add_api_route("/v1/cart/items", add_item, methods=["POST"])
app.add_api_route("/staff/stream", staff_stream)


def render(topic: str, payload: str) -> str:
    """A notification as one channel shows it: the ticket on screens, a sentence for shoppers."""
    event = json.loads(payload)
    if topic.startswith(":c"):
        if event["event"] != "order.ready":
            return json.dumps({key: event[key] for key in ("id", "event", "order_id")})
        text_ = f"Your {event['items']} is ready at {event['store']}."
        keys = ("id", "event", "order_id", "data")
        return json.dumps({**{key: event[key] for key in keys}, "text": text_})
    return json.dumps({key: event[key] for key in ("id", "event", "order_id", "html")})


app.state.render = render


def ticket(
    order_id: int, name: str, lines: list[Any], *, total: int, placed: datetime, promised: datetime
) -> str:
    """The staff's ticket: first name, items with every option and amount, the times."""
    items = "".join(
        f"<li>{quantity} x {escape(product)}"
        + "".join(f" <i>{escape(group)}: {escape(choice)}</i>" for group, choice in options.items())
        + f" <b>${_unit_price(options) * quantity / 100:.2f}</b></li>"
        for product, options, quantity in lines
    )
    return (
        f"<article class=ticket data-order={order_id}><h2>#{order_id} {escape(name)}</h2>"
        f"<ul>{items}</ul><p>Total ${total / 100:.2f}</p>"
        f"<time datetime={placed.isoformat()}>placed</time>"
        f"<time datetime={promised.isoformat()}>ready by {promised:%H:%M}</time></article>"
    )


def _unit_price(options: dict[str, str]) -> int:
    return BASE_PRICE + sum(OPTION_PRICES.get(chosen, 0) for chosen in options.items())


def notify(
    connection: Connection, *, order_id: int, customer: int, store: str, event: dict[str, Any]
) -> None:
    """The notification and its deliveries (the store's screens, the shopper), in one statement."""
    event_id = uuid.uuid4().hex
    payload = json.dumps({"id": event_id, "order_id": order_id, **event})
    topics = {"store": f":{store}", "customer": f":c{customer}", "store_id": store}
    statement = _NOTIFY if READS else _DELIVERIES_ONLY
    connection.execute(statement, {"id": event_id, "order": order_id, "payload": payload, **topics})


@app.post("/v1/pickup/orders", status_code=201)
def place(request: Request, body: dict[str, object]) -> JSONResponse:
    """Place the cart for pickup with its ticket, notification and deliveries."""
    asked = placing(request, body)
    if isinstance(asked, JSONResponse):
        return asked
    token, key, store = asked
    now = datetime.now(UTC)
    engine: Engine = request.app.state.engine
    with engine.begin() as connection:
        found = connection.execute(_LOCK_CUSTOMER, {"hash": token_hash(token)}).first()
        if found is None:
            return JSONResponse({"error": "not authenticated"}, status_code=401)
        customer, name = found
        replay = connection.execute(_REPLAY, {"customer": customer, "key": key}).first()
        if replay is not None:
            return JSONResponse({"id": replay[0], "placed_at": replay[1].isoformat()})
        lines = list(connection.execute(_LINES, {"customer": customer}).all())
        if not lines:
            return JSONResponse({"error": "cart empty"}, status_code=409)
        total = sum(_unit_price(options) * quantity for _, options, quantity in lines)
        promised = now + PREP
        if READS:
            cutoff = now + HORIZON
            queue = connection.execute(_LOCK_STORE, {"store": store, "cutoff": cutoff}).first()
            if queue is None or queue[0]:
                return JSONResponse({"error": "pickup paused or no such store"}, status_code=409)
            promised += timedelta(minutes=queue[1] + queue[2] // BARISTAS)
        values = {"customer": customer, "store": store, "total": total, "now": now}
        values |= {"promised": promised, "key": key}
        order_id = connection.execute(_ORDER, values).scalar_one()
        connection.execute(
            _ORDER_LINE,
            [
                {"order": order_id, "product": p, "options": json.dumps(o), "quantity": q}
                for p, o, q in lines
            ],
        )
        html = ticket(order_id, name, lines, total=total, placed=now, promised=promised)
        event = {"event": "order.placed", "html": html}
        notify(connection, order_id=order_id, customer=customer, store=store, event=event)
        connection.execute(_EMPTY_CART, {"customer": customer})
    request.app.state.dispatcher.wake.set()
    return JSONResponse({"id": order_id, "placed_at": now.isoformat()}, status_code=201)


@app.post("/staff/orders/{order_id}/{action}")
def press(request: Request, order_id: int, action: str) -> JSONResponse:
    """A staff button: the order moves, its ticket is re-rendered, both channels are told."""
    cookie, csrf = request.cookies.get("staff", ""), request.headers.get("x-csrf-token", "")
    if action not in STEPS or not cookie or not csrf:
        return JSONResponse({"error": "unknown action or not logged in"}, status_code=403)
    before, after = STEPS[action]
    engine: Engine = request.app.state.engine
    with engine.begin() as connection:
        moved = connection.execute(
            _MOVE,
            {"to": after, "from": before, "order": order_id}
            | {"hash": token_hash(cookie), "csrf": csrf},
        ).first()
        if moved is None:
            return JSONResponse({"error": "no such order in this state"}, status_code=409)
        customer, store, total, placed, promised, name = moved
        lines = list(connection.execute(_ORDER_LINES, {"order": order_id}).all())
        html = ticket(order_id, name, lines, total=total, placed=placed, promised=promised)
        items = " and ".join(product for product, _, _ in lines)
        event = {"event": f"order.{after}", "html": html, "items": items, "store": store}
        event["data"] = {"at": datetime.now(UTC).isoformat(), "status": after}
        notify(connection, order_id=order_id, customer=customer, store=store, event=event)
    request.app.state.dispatcher.wake.set()
    return JSONResponse({"id": order_id, "status": after})


@app.get("/v1/events")
def shopper_stream(request: Request) -> Response:
    """The shopper's events as server-sent events (subscribed to the shopper's topic)."""
    token = bearer_token(request)
    engine: Engine = request.app.state.engine
    with engine.connect() as connection:
        customer = connection.execute(_CUSTOMER, {"hash": token_hash(token or "")}).scalar()
    if customer is None:
        return JSONResponse({"error": "not authenticated"}, status_code=401)
    fanout: Fanout = request.app.state.fanout
    return fanout.stream(f"c{customer}")


@app.get("/staff/login")
def login_form() -> HTMLResponse:
    """A login form with its CSRF field (what pickup_bench's staff_login reads)."""
    return HTMLResponse(f'<input name="csrf_token" value="{secrets.token_urlsafe(16)}">')


@app.post("/staff/login")
async def login(request: Request) -> Response:
    """A staff session for the e-mail (no password hashing: logins are not what is measured)."""
    email = parse_qs((await request.body()).decode())["email"][0]
    engine: Engine = request.app.state.engine
    session = secrets.token_urlsafe(24)
    with engine.begin() as connection:
        stores = connection.execute(_STAFF, {"email": email}).scalar_one()
        row = {"hash": token_hash(session), "csrf": secrets.token_urlsafe(24), "stores": stores}
        connection.execute(_NEW_SESSION, row)
    answer = Response(status_code=204)
    answer.set_cookie("staff", session, httponly=True, samesite="strict")
    return answer


@app.get("/staff")
def staff_page(request: Request) -> HTMLResponse:
    """The page's CSRF token for the session."""
    engine: Engine = request.app.state.engine
    with engine.connect() as connection:
        hashed = token_hash(request.cookies.get("staff", ""))
        csrf = connection.execute(_SESSION_CSRF, {"hash": hashed}).scalar_one()
    return HTMLResponse(f'<meta name="csrf-token" content="{csrf}">')
