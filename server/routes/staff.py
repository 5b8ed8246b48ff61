"""The staff pages: login and logout, the live queue, its event stream, the printable ticket."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session

from orders import staff as accounts
from orders import tables
from orders.db import end_read
from orders.errors import LoginFailed, NotPermitted, StoreNotFound
from orders.queue import open_orders, staff_order, tickets
from orders.staff import StaffIdentity, require_store
from orders.switches import read_switches
from server.deps import Services, ServicesDep, SessionDep
from server.events import EventBus, SubscriptionClosedError, get_bus, store_topic
from server.routes import ERRORS
from server.session_route import SessionRoute
from server.staff_auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    CheckedStaffDep,
    MaybeStaffDep,
    StaffDep,
    check_login_csrf,
    clear_session_cookie,
    set_login_csrf,
    set_session_cookie,
    templates,
)
from server.staff_cards import LABELS, card_html, card_payload, local_time, sse

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/staff", tags=["staff"], responses=ERRORS, route_class=SessionRoute)

STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_TYPES = {"staff.js": "text/javascript", "staff.css": "text/css"}
PING_SECONDS = 15.0
STREAM_SECONDS = 30 * 60
"""A stream ends after this long; EventSource reconnects (and re-checks the session)."""
BusDep = Annotated[EventBus, Depends(get_bus)]
StoreQuery = Annotated[str | None, Query(max_length=64, description="store id")]


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> Response:
    """The login form."""
    return _login_form(request, error=None, email="", status_code=200)


@router.post("/login", include_in_schema=False)
def login(
    *,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the password; start a session and go to the queue."""
    if not check_login_csrf(request, csrf_token):
        return _login_form(
            request, error="The form expired; try again.", email=email, status_code=403
        )
    try:
        token, _ = accounts.log_in(session, email, password, clock=services.clock)
    except LoginFailed as error:
        return _login_form(request, error=error.detail, email=email, status_code=401)
    response = RedirectResponse("/staff", status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
    return response


def _login_form(request: Request, *, error: str | None, email: str, status_code: int) -> Response:
    """The login page with a fresh double-submit CSRF token."""
    token = secrets.token_urlsafe(32)
    response = templates().TemplateResponse(
        request,
        "staff_login.html",
        {"csrf": token, "error": error, "email": email},
        status_code=status_code,
    )
    set_login_csrf(request, response, token)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, staff: CheckedStaffDep, session: SessionDep) -> Response:
    """End the session."""
    accounts.log_out(session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/staff/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def queue_page(
    request: Request, staff: MaybeStaffDep, session: SessionDep, store: StoreQuery = None
) -> Response:
    """The live queue of one of the member's stores (login first)."""
    if staff is None:
        return RedirectResponse("/staff/login", status_code=303)
    store_row = _store(session, staff, store)
    role = require_store(staff, store_row.id)
    cards = [
        card_html(ticket, csrf=staff.csrf_token, zone=store_row.timezone)
        for ticket in tickets(session, open_orders(session, store_row.id))
    ]
    return templates().TemplateResponse(
        request,
        "staff.html",
        {
            "csrf": staff.csrf_token,
            "staff": staff,
            "role": role.value,
            "store": store_row,
            "stores": staff.store_ids,
            "switches": read_switches(session, store_row.id),
            "cards": cards,
        },
    )


@router.get("/queue")
def queue(staff: StaffDep, session: SessionDep, store: StoreQuery = None) -> dict[str, Any]:
    """The queue as JSON: the store's open pickup orders (tickets) and its switches."""
    store_row = _store(session, staff, store)
    require_store(staff, store_row.id)
    return {
        "store_id": store_row.id,
        "tickets": tickets(session, open_orders(session, store_row.id)),
        "switches": vars(read_switches(session, store_row.id)),
    }


@router.get("/stream", response_class=StreamingResponse)
def stream(
    *,
    staff: StaffDep,
    session: SessionDep,
    services: ServicesDep,
    bus: BusDep,
    request: Request,
    store: StoreQuery = None,
) -> StreamingResponse:
    """Server-Sent Events: a snapshot of the queue, then every change of the store's tickets."""
    store_row = _store(session, staff, store)
    require_store(staff, store_row.id)
    cookie = request.cookies.get(COOKIE, "")
    events = _staff_events(
        bus, services, staff, store_id=store_row.id, zone=store_row.timezone, cookie=cookie
    )
    return StreamingResponse(events, media_type="text/event-stream", headers=_SSE_HEADERS)


_SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


async def _staff_events(
    bus: EventBus,
    services: Services,
    staff: StaffIdentity,
    *,
    store_id: str,
    zone: str,
    cookie: str,
) -> AsyncIterator[str]:
    """Subscribe, send the snapshot, then live tickets (the page drops stale ones)."""
    async with bus.subscribe([store_topic(store_id)]) as subscription:
        snapshot = await asyncio.to_thread(_snapshot, services, store_id)
        cards = [card_html(t, csrf=staff.csrf_token, zone=zone) for t in snapshot["tickets"]]
        yield sse("snapshot", {"cards": cards, "switches": snapshot["switches"]})
        started = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            try:
                message = await subscription.get(PING_SECONDS)
            except SubscriptionClosedError:
                return
            if message is None:
                if not await asyncio.to_thread(_still_logged_in, services, cookie):
                    yield sse("logout", {})
                    return
                yield ": ping\n\n"
                continue
            yield _staff_event(json.loads(message), staff, zone)


def _staff_event(data: dict[str, Any], staff: StaffIdentity, zone: str) -> str:
    """A bus message as the page's event: a ticket card or the store's switches."""
    if data.get("event") == "store.switches":
        return sse("switches", data["switches"])
    payload = card_payload(
        data["ticket"],
        csrf=staff.csrf_token,
        zone=zone,
        notification=data["id"],
        event=data["event"],
    )
    return sse("ticket", payload, event_id=data["id"])


def _snapshot(services: Services, store_id: str) -> dict[str, Any]:
    """The store's open tickets and switches, straight from the database."""
    with services.sessions() as session:
        result = {
            "tickets": tickets(session, open_orders(session, store_id)),
            "switches": vars(read_switches(session, store_id)),
        }
        end_read(session)
    return result


def _still_logged_in(services: Services, cookie: str) -> bool:
    """Whether the stream's session is still valid (logout ends open streams too)."""
    with services.sessions() as session:
        identity = accounts.identify(session, cookie, clock=services.clock)
        end_read(session)
    return identity is not None


@router.get("/orders/{order_id}/ticket", response_class=HTMLResponse, include_in_schema=False)
def printable_ticket(
    order_id: int, request: Request, staff: StaffDep, session: SessionDep
) -> Response:
    """A printable ticket (80 mm receipt width) of one of the member's orders."""
    order = staff_order(session, staff, order_id)
    ticket = tickets(session, [order])[0]
    store_row = session.get(tables.Store, order.store_id)
    zone = store_row.timezone if store_row is not None else "UTC"
    return templates().TemplateResponse(
        request,
        "staff_print.html",
        {
            "t": ticket,
            "store_name": store_row.name if store_row is not None else order.store_id,
            "placed": local_time(ticket["placed_at"], zone, "%a %H:%M"),
            "promised": local_time(ticket["promised_at"], zone),
            "labels": LABELS,
        },
    )


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    """The page's script and style sheet."""
    if name not in STATIC_TYPES:
        return Response(status_code=404)
    return FileResponse(STATIC / name, media_type=STATIC_TYPES[name])


def _store(session: Session, staff: StaffIdentity, store_id: str | None) -> tables.Store:
    """The requested store (or the member's first); NotPermitted when it is not theirs."""
    chosen = store_id or (staff.store_ids[0] if staff.store_ids else None)
    if chosen is None:
        raise NotPermitted("the queue", "you are not a member of any store")
    require_store(staff, chosen)
    row = session.get(tables.Store, chosen)
    if row is None:
        raise StoreNotFound(chosen)
    return row
