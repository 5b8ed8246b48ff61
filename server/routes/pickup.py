"""Pickup: when would the cart be ready, and place a pickup order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime

from orders import checkout as checkout_
from orders import pickup
from server.deps import ShopperDep
from server.routes import ERRORS
from server.routes.orders import IdempotencyKey, order_response
from server.schemas import EstimateOut, OrderOut, PickupOrderIn
from server.session_route import SessionRoute

router = APIRouter(prefix="/pickup", tags=["pickup"], responses=ERRORS, route_class=SessionRoute)


@router.get("/estimate")
def estimate(
    *,
    shopper: ShopperDep,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    pickup_at: Annotated[AwareDatetime | None, Query()] = None,
) -> EstimateOut:
    """When the current cart would be ready at a store; places nothing."""
    store, ready = pickup.quote_pickup(
        shopper.session,
        shopper.customer.id,
        catalog=shopper.catalog.catalog,
        store_id=store_id,
        pickup_at=pickup_at,
        clock=shopper.services.clock,
    )
    return EstimateOut(
        store_id=store.id,
        ready_at=ready.ready_at,
        own_minutes=ready.own_minutes,
        queue_minutes=ready.queue_minutes,
        orders_ahead=ready.orders_ahead,
    )


@router.post("/orders", status_code=status.HTTP_201_CREATED)
def place_pickup_order(
    *,
    body: PickupOrderIn,
    idempotency_key: IdempotencyKey,
    response: Response,
    shopper: ShopperDep,
) -> OrderOut:
    """Place the cart for pickup (needs `confirm: true`); `promised_at` is the ready time."""
    order, created = checkout_.place_pickup_order(
        shopper.session,
        shopper.customer.id,
        catalog=shopper.catalog.catalog,
        store_id=body.store_id,
        pickup_at=body.pickup_at,
        idempotency_key=idempotency_key,
        confirmed=body.confirm,
        channel=body.channel,
        clock=shopper.services.clock,
    )
    return order_response(response, order, created)
