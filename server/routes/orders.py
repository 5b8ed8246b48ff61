"""Checkout, orders (status and history), cancel, and reorder for the authenticated customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from sqlalchemy.orm import Session

from catalog.request import ReorderTarget
from orders import checkout as checkout_
from orders import pickup, queries, reorders
from orders.catalog_store import CatalogSnapshot
from orders.errors import FieldInvalid, NothingToReorder
from orders.tables import Order
from server.deps import ShopperDep
from server.routes import ERRORS
from server.schemas import CheckoutIn, OrderOut, OrderSummaryOut, ReorderIn, ReorderOut
from server.session_route import SessionRoute

router = APIRouter(tags=["orders"], responses=ERRORS, route_class=SessionRoute)

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="chosen by the client; a retry with the same key returns the same order",
    ),
]
REPLAYED = "Idempotent-Replayed"


def order_response(response: Response, order: Order, created: bool) -> OrderOut:
    """201 for a new order; 200 and `Idempotent-Replayed: true` for a retry."""
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    if not created:
        response.headers[REPLAYED] = "true"
    return OrderOut.model_validate(order)


@router.post("/checkout", status_code=status.HTTP_201_CREATED)
def checkout(
    *,
    body: CheckoutIn,
    idempotency_key: IdempotencyKey,
    response: Response,
    shopper: ShopperDep,
) -> OrderOut:
    """Place the cart as an order (delivery or pickup); needs `confirm: true`."""
    request = checkout_.CheckoutRequest(
        fulfilment=body.fulfilment,
        store_id=body.store_id,
        pickup_at=body.pickup_at,
        address=body.address,
        channel=body.channel,
    )
    order, created = checkout_.checkout(
        shopper.session,
        shopper.customer.id,
        request,
        catalog=shopper.catalog.catalog,
        idempotency_key=idempotency_key,
        confirmed=body.confirm,
        clock=shopper.services.clock,
    )
    return order_response(response, order, created)


@router.get("/orders")
def order_history(
    shopper: ShopperDep,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 20,
    before: Annotated[int | None, Query(description="an order id: page to older orders")] = None,
) -> list[OrderSummaryOut]:
    """The customer's orders, newest first."""
    orders = queries.order_history(
        shopper.session, shopper.customer.id, limit=limit, before_id=before
    )
    return [OrderSummaryOut.model_validate(order) for order in orders]


@router.get("/orders/{order_id}")
def get_order(order_id: int, shopper: ShopperDep) -> OrderOut:
    """One order with its status history; another customer's order is 404."""
    return OrderOut.model_validate(
        queries.get_order(shopper.session, shopper.customer.id, order_id)
    )


@router.post("/orders/{order_id}/cancel")
def cancel_order(order_id: int, shopper: ShopperDep) -> OrderOut:
    """Cancel an order the store has not accepted yet."""
    order = pickup.cancel_order(
        shopper.session, shopper.customer.id, order_id, clock=shopper.services.clock
    )
    return OrderOut.model_validate(order)


@router.post("/reorder")
def reorder(
    body: ReorderIn,
    shopper: ShopperDep,
) -> ReorderOut:
    """Put an earlier order (or product) back in the cart; check out to place it."""
    snapshot, clock = shopper.catalog.catalog, shopper.services.clock
    if body.target is ReorderTarget.LAST:
        result = reorders.reorder_last(
            shopper.session, shopper.customer.id, catalog=snapshot, clock=clock
        )
    elif body.target is ReorderTarget.USUAL:
        result = reorders.reorder_usual(
            shopper.session,
            shopper.customer.id,
            catalog=snapshot,
            store_id=body.store_id,
            clock=clock,
        )
    else:
        product_id = body.product_id or _bought_product(
            shopper.session, shopper.customer.id, shopper.catalog, body.query
        )
        result = reorders.reorder_product(
            shopper.session, shopper.customer.id, product_id, catalog=snapshot, clock=clock
        )
    if result is None:
        raise NothingToReorder(_nothing(body))
    return ReorderOut.model_validate(result)


def _bought_product(
    session: Session, customer_id: int, catalog: CatalogSnapshot, query: str | None
) -> str:
    """The product the words mean among those the customer bought before."""
    if query is None:
        raise FieldInvalid("product_id", "give product_id or query for a product reorder")
    bought = reorders.bought_products(session, customer_id)
    for match in catalog.index.match(query, limit=10, history=bought):
        if match.product_id in bought:
            return match.product_id
    raise NothingToReorder(f"you have not bought anything like {query!r}")


def _nothing(body: ReorderIn) -> str:
    """Why a reorder found nothing."""
    if body.target is ReorderTarget.LAST:
        return "there is no earlier order"
    if body.target is ReorderTarget.USUAL:
        return "no order was placed at least twice here yet, so there is no usual"
    return f"{body.product_id or body.query!r} was never bought"
