"""Staff actions: the ticket buttons, out of stock with substitutes, the manager's switches.

Every action needs the session's CSRF token (header or form field). The page's script gets
JSON back (the new card); a plain form gets a redirect to the queue.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from catalog.model import Catalog
from orders import tables
from orders.queue import staff_action, staff_order, tickets
from orders.staff import StaffIdentity, require_store
from orders.substitutes import candidates, offer_substitutes
from orders.switches import MAX_EXTRA_MINUTES, set_switches
from server.deps import CatalogDep, ServicesDep, SessionDep
from server.events import EventBus, get_bus, store_topic
from server.routes import ERRORS
from server.session_route import SessionRoute
from server.staff_auth import CheckedStaffDep, StaffDep, wants_json
from server.staff_cards import card_payload

router = APIRouter(prefix="/staff", tags=["staff"], responses=ERRORS, route_class=SessionRoute)

Action = Literal["accept", "start", "ready", "picked-up", "cancel"]
BusDep = Annotated[EventBus, Depends(get_bus)]


@router.post("/orders/{order_id}/{action}")
def act(
    *,
    order_id: int,
    action: Action,
    request: Request,
    staff: CheckedStaffDep,
    session: SessionDep,
    services: ServicesDep,
    catalog: CatalogDep,
) -> Response:
    """Press a ticket button: accept, start, ready, picked-up or cancel."""
    order = staff_action(session, staff, order_id, action, clock=services.clock)
    return _answer(request, session, staff, order, catalog.catalog)


@router.get("/orders/{order_id}/lines/{line_id}/substitutes")
def substitutes(
    order_id: int, line_id: int, staff: StaffDep, session: SessionDep, catalog: CatalogDep
) -> list[dict[str, Any]]:
    """What the catalog offers instead of a line's product (same category, closest price)."""
    order = staff_order(session, staff, order_id)
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None:
        return []
    found = candidates(catalog.catalog, order.store_id, line.product_id)
    return [{"product_id": p.id, "name": p.name, "price": p.price} for p in found]


@router.post("/orders/{order_id}/lines/{line_id}/out-of-stock")
def out_of_stock(
    *,
    order_id: int,
    line_id: int,
    request: Request,
    staff: CheckedStaffDep,
    session: SessionDep,
    services: ServicesDep,
    catalog: CatalogDep,
    product_id: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Mark a line out of stock and offer substitutes; the shopper is told at once."""
    offer_substitutes(
        session,
        staff,
        order_id,
        line_id,
        product_id or None,
        catalog=catalog.catalog,
        clock=services.clock,
    )
    return _answer(request, session, staff, staff_order(session, staff, order_id), catalog.catalog)


@router.post("/stores/{store_id}/switches")
def switches(
    *,
    store_id: str,
    request: Request,
    staff: CheckedStaffDep,
    session: SessionDep,
    services: ServicesDep,
    bus: BusDep,
    pickup_paused: Annotated[bool, Form()] = False,
    extra_prep_minutes: Annotated[int, Form(ge=0, le=MAX_EXTRA_MINUTES)] = 0,
) -> Response:
    """A manager pauses pickup orders or sets extra preparation minutes; every screen updates."""
    require_store(staff, store_id, manager=True)
    state = set_switches(
        session,
        store_id,
        pickup_paused=pickup_paused,
        extra_prep_minutes=extra_prep_minutes,
        by=staff.email,
        clock=services.clock,
    )
    bus.publish(store_topic(store_id), {"event": "store.switches", "switches": vars(state)})
    if wants_json(request):
        return JSONResponse(vars(state))
    return RedirectResponse(f"/staff?store={store_id}", status_code=303)


def _answer(
    request: Request, session: Session, staff: StaffIdentity, order: tables.Order, catalog: Catalog
) -> Response:
    """The new card for the page's script, or back to the queue for a plain form.

    The store's time zone comes from the catalog snapshot, which the request has already.
    """
    if not wants_json(request):
        return RedirectResponse(f"/staff?store={order.store_id}", status_code=303)
    store = catalog.store(order.store_id)
    zone = store.timezone if store is not None else "UTC"
    ticket = tickets(session, [order])[0]
    return JSONResponse(card_payload(ticket, csrf=staff.csrf_token, zone=zone))
