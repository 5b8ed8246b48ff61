"""The order service's error tree; every class carries its context and an HTTP status."""

# The names say what happened (CartEmpty, OrderNotFound) and are part of the API's JSON errors.
# ruff: noqa: N818

from __future__ import annotations

from collections.abc import Sequence

from catalog.errors import VoiceCartError

__all__ = [
    "CartEmpty",
    "CatalogNotLoaded",
    "ConfirmationRequired",
    "DatabaseNotMigrated",
    "FieldInvalid",
    "IdempotencyConflict",
    "IdentityTaken",
    "IllegalTransition",
    "LineNotFound",
    "LoginFailed",
    "NotAuthenticated",
    "NotPermitted",
    "NothingToReorder",
    "OptionInvalid",
    "OrderNotFound",
    "PickupPaused",
    "PickupUnavailable",
    "ProductNotFound",
    "ProductUnavailable",
    "QuantityInvalid",
    "StoreClosed",
    "StoreNotFound",
    "StoreRequired",
    "SubstitutionNotFound",
    "VoiceCartError",
]


class NotAuthenticated(VoiceCartError):
    """The caller sent no token, or a token that belongs to nobody."""

    status_code = 401

    def __init__(
        self, detail: str = "a valid 'Authorization: Bearer <token>' header is required"
    ) -> None:
        super().__init__(detail)


class FieldInvalid(VoiceCartError):
    """An input value the service refuses (empty name, over-long key, ...); names the field."""

    status_code = 422

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class IdentityTaken(VoiceCartError):
    """The channel identity (Alexa user id, phone) already belongs to another customer."""

    status_code = 409

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"this {kind} is already linked to another customer")


class ProductNotFound(VoiceCartError):
    """No product has this id in the catalog."""

    status_code = 404

    def __init__(self, product_id: str) -> None:
        self.product_id = product_id
        super().__init__(f"no product with id {product_id!r}")


class ProductUnavailable(VoiceCartError):
    """The product exists but cannot be sold here (not at this store, or it has no price)."""

    status_code = 409

    def __init__(self, product_id: str, reason: str) -> None:
        self.product_id = product_id
        self.reason = reason
        super().__init__(f"product {product_id!r} cannot be ordered: {reason}")


class StoreNotFound(VoiceCartError):
    """No store has this id."""

    status_code = 404

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        super().__init__(f"no store with id {store_id!r}")


class StoreRequired(VoiceCartError):
    """The operation needs a store and none was given, set on the cart or set as home store."""

    status_code = 422
    field = "store_id"

    def __init__(self) -> None:
        super().__init__("choose a store: pass store_id (the catalog has several stores)")


class OptionInvalid(VoiceCartError):
    """A chosen option does not fit the product (unknown group or choice, too many, missing)."""

    status_code = 422
    field = "options"

    def __init__(self, product_id: str, group_id: str, reason: str) -> None:
        self.product_id = product_id
        self.group_id = group_id
        self.reason = reason
        super().__init__(f"{product_id}: option {group_id!r}: {reason}")


class QuantityInvalid(VoiceCartError):
    """A quantity outside the allowed range."""

    status_code = 422
    field = "quantity"

    def __init__(self, quantity: int, *, low: int, high: int) -> None:
        self.quantity = quantity
        super().__init__(f"quantity must be between {low} and {high}, got {quantity}")


class LineNotFound(VoiceCartError):
    """The cart has no line with this id."""

    status_code = 404

    def __init__(self, line_id: int) -> None:
        self.line_id = line_id
        super().__init__(f"the cart has no line {line_id}")


class CartEmpty(VoiceCartError):
    """Checkout of an empty cart."""

    status_code = 409

    def __init__(self) -> None:
        super().__init__("the cart is empty: add something before checking out")


class ConfirmationRequired(VoiceCartError):
    """Checkout without an explicit yes from the shopper; nothing was ordered."""

    status_code = 409

    def __init__(self) -> None:
        super().__init__(
            "nothing was ordered: read the cart back to the shopper and send confirm: true "
            "once they said yes"
        )


class IdempotencyConflict(VoiceCartError):
    """The idempotency key was already used for a checkout with a different request."""

    status_code = 409

    def __init__(self, key: str, order_id: int) -> None:
        self.key = key
        self.order_id = order_id
        super().__init__(
            f"Idempotency-Key {key!r} was already used for order {order_id} with a different "
            "request body; use a new key for a new order"
        )


class OrderNotFound(VoiceCartError):
    """No order with this id for this customer (another customer's order looks the same)."""

    status_code = 404

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id
        super().__init__(f"no order {order_id}")


class IllegalTransition(VoiceCartError):
    """An order status change that the status machine (or the actor's role) does not allow."""

    status_code = 409

    def __init__(self, order_id: int, current: str, target: str, reason: str = "") -> None:
        self.order_id = order_id
        self.current = current
        self.target = target
        suffix = f": {reason}" if reason else ""
        super().__init__(f"order {order_id} cannot go from {current} to {target}{suffix}")


class StoreClosed(VoiceCartError):
    """The store is not open at the requested pickup time."""

    status_code = 409

    def __init__(self, store_id: str, at: str) -> None:
        self.store_id = store_id
        self.at = at
        super().__init__(f"store {store_id!r} is closed at {at}")


class PickupUnavailable(VoiceCartError):
    """A pickup order that cannot be taken (store without pickup, time in the past, ...)."""

    status_code = 409

    def __init__(self, store_id: str, reason: str) -> None:
        self.store_id = store_id
        self.reason = reason
        super().__init__(f"no pickup at {store_id!r}: {reason}")


class NothingToReorder(VoiceCartError):
    """A reorder found no earlier order to copy."""

    status_code = 404

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"nothing to reorder: {what}")


class CatalogNotLoaded(VoiceCartError):
    """The database holds no catalog yet."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__("no catalog is loaded: run `voicecart catalog load FILE` first")


class DatabaseNotMigrated(VoiceCartError):
    """The database schema is not at the migrations' head; says which command fixes it."""

    status_code = 503

    def __init__(self, url: str, current: Sequence[str], head: Sequence[str]) -> None:
        self.url = url
        self.current = tuple(current)
        self.head = tuple(head)
        at = ", ".join(self.current) or "empty"
        super().__init__(
            f"the database {url} is not migrated (at {at}, head is {', '.join(self.head)}): "
            f"run `voicecart db upgrade --database-url {url}` first"
        )


class LoginFailed(VoiceCartError):
    """A staff login or session that does not check out (the message never says which part)."""

    status_code = 401

    def __init__(self, detail: str = "wrong email or password") -> None:
        super().__init__(detail)


class NotPermitted(VoiceCartError):
    """Logged in, but this staff member may not do this (no role at the store, not a manager)."""

    status_code = 403

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"{action}: {reason}")


class PickupPaused(PickupUnavailable):
    """The store's manager paused pickup orders; the dialogue reads `detail` to the shopper."""

    def __init__(self, store_id: str, store_name: str) -> None:
        self.store_id = store_id
        self.store_name = store_name
        self.reason = "pickup orders are paused right now"
        VoiceCartError.__init__(self, f"{store_name} is not taking pickup orders right now")


class SubstitutionNotFound(VoiceCartError):
    """No open substitution offer with this id on this customer's order."""

    status_code = 404

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} has no substitution waiting for an answer")
