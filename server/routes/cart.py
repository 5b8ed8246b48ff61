"""The authenticated customer's cart: read, add, change quantity or request, remove, clear,
choose store."""

from __future__ import annotations

from fastapi import APIRouter

from orders import carts
from server.deps import ShopperDep
from server.routes import ERRORS
from server.schemas import CartItemIn, CartOut, NoteIn, QuantityIn, StoreChoiceIn, option_values
from server.session_route import SessionRoute

router = APIRouter(prefix="/cart", tags=["cart"], responses=ERRORS, route_class=SessionRoute)


@router.get("")
def read_cart(shopper: ShopperDep) -> CartOut:
    """The cart, priced with today's catalog (lines it cannot sell say why)."""
    view = carts.read_cart(shopper.session, shopper.customer.id, catalog=shopper.catalog.catalog)
    return CartOut.model_validate(view)


@router.post("/items")
def add_item(item: CartItemIn, shopper: ShopperDep) -> CartOut:
    """Add a product with options; the same product and options add to the existing line."""
    view = carts.add_to_cart(
        shopper.session,
        shopper.customer.id,
        catalog=shopper.catalog.catalog,
        product_id=item.product_id,
        quantity=item.quantity,
        options=option_values(item.options),
        note=item.note,
        clock=shopper.services.clock,
    )
    return CartOut.model_validate(view)


@router.patch("/items/{line_id}")
def change_quantity(
    *,
    line_id: int,
    change: QuantityIn,
    shopper: ShopperDep,
) -> CartOut:
    """Set a line's quantity; 0 removes it."""
    view = carts.set_quantity(
        shopper.session,
        shopper.customer.id,
        line_id,
        change.quantity,
        catalog=shopper.catalog.catalog,
        clock=shopper.services.clock,
    )
    return CartOut.model_validate(view)


@router.put("/items/{line_id}/note")
def change_note(
    *,
    line_id: int,
    change: NoteIn,
    shopper: ShopperDep,
) -> CartOut:
    """Set or clear a line's special request; a line that then equals another joins it."""
    view = carts.set_note(
        shopper.session,
        shopper.customer.id,
        line_id,
        change.note,
        catalog=shopper.catalog.catalog,
        clock=shopper.services.clock,
    )
    return CartOut.model_validate(view)


@router.delete("/items/{line_id}")
def remove_item(
    line_id: int,
    shopper: ShopperDep,
) -> CartOut:
    """Remove one line."""
    view = carts.remove_line(
        shopper.session,
        shopper.customer.id,
        line_id,
        catalog=shopper.catalog.catalog,
        clock=shopper.services.clock,
    )
    return CartOut.model_validate(view)


@router.delete("")
def clear_cart(shopper: ShopperDep) -> CartOut:
    """Empty the cart."""
    view = carts.clear_cart(
        shopper.session,
        shopper.customer.id,
        catalog=shopper.catalog.catalog,
        clock=shopper.services.clock,
    )
    return CartOut.model_validate(view)


@router.put("/store")
def choose_store(
    choice: StoreChoiceIn,
    shopper: ShopperDep,
) -> CartOut:
    """Shop at another store (prices, availability and tax follow it)."""
    view = carts.choose_store(
        shopper.session,
        shopper.customer.id,
        choice.store_id,
        catalog=shopper.catalog.catalog,
        clock=shopper.services.clock,
    )
    return CartOut.model_validate(view)
