"""The order service's use cases in one place; each lives in the module of its use case.

Every use case takes the session (and the catalog, a clock, ...) as arguments and is one
transaction: a use case that changes something commits before it returns.
"""

from __future__ import annotations

from orders.carts import (
    CartItem,
    CartView,
    PricedLine,
    Skipped,
    add_items,
    add_to_cart,
    choose_store,
    clear_cart,
    read_cart,
    remove_line,
    set_quantity,
)
from orders.catalog_store import CatalogCache, CatalogSnapshot, load_catalog_into, read_catalog
from orders.checkout import CheckoutRequest, checkout, place_pickup_order
from orders.customers import (
    create_customer,
    customer_for_identity,
    customer_for_token,
    issue_token,
    link_identity,
)
from orders.pickup import (
    Actor,
    ReadyEstimate,
    cancel_order,
    estimate_ready,
    is_open,
    quote_pickup,
    transition,
)
from orders.queries import get_order, open_orders, order_history
from orders.reorders import Reorder, bought_products, reorder_last, reorder_product, reorder_usual

__all__ = [
    "Actor",
    "CartItem",
    "CartView",
    "CatalogCache",
    "CatalogSnapshot",
    "CheckoutRequest",
    "PricedLine",
    "ReadyEstimate",
    "Reorder",
    "Skipped",
    "add_items",
    "add_to_cart",
    "bought_products",
    "cancel_order",
    "checkout",
    "choose_store",
    "clear_cart",
    "create_customer",
    "customer_for_identity",
    "customer_for_token",
    "estimate_ready",
    "get_order",
    "is_open",
    "issue_token",
    "link_identity",
    "load_catalog_into",
    "open_orders",
    "order_history",
    "place_pickup_order",
    "quote_pickup",
    "read_cart",
    "read_catalog",
    "remove_line",
    "reorder_last",
    "reorder_product",
    "reorder_usual",
    "set_quantity",
    "transition",
]
