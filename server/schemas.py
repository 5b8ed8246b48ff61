"""Request and response bodies of the HTTP API; money is in integer cents of `currency`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from catalog.model import Amount
from catalog.request import OptionValue, ReorderTarget
from orders.pricing import MAX_QUANTITY
from orders.tables import NOTE_LENGTH, ActorKind, Channel, Fulfilment, OrderStatus

ID = Field(min_length=1, max_length=64)


class Error(BaseModel):
    """Every error: its name, a human-readable detail, and the failing field when there is one."""

    error: str = Field(examples=["OrderNotFound"])
    detail: str = Field(examples=["no order 42"])
    field: str | None = Field(default=None, examples=["quantity"])


class OptionIn(BaseModel):
    """One chosen option: a choice id and how much of it."""

    model_config = ConfigDict(extra="forbid")

    choice: str = Field(min_length=1, max_length=64)
    amount: Amount = Amount.REGULAR


OptionsIn = dict[str, str | OptionIn | list[str | OptionIn]]
"""Per option group: a choice id, {"choice", "amount"}, or a list of them."""


def option_values(options: OptionsIn) -> dict[str, list[OptionValue]]:
    """The API's options as the service takes them."""
    result: dict[str, list[OptionValue]] = {}
    for group, given in options.items():
        items = given if isinstance(given, list) else [given]
        result[group] = [
            OptionValue(item) if isinstance(item, str) else OptionValue(item.choice, item.amount)
            for item in items
        ]
    return result


class CartItemIn(BaseModel):
    """A product to add to the cart."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"product_id": "latte", "quantity": 1, "options": {"size": "large", "milk": "oat"}},
                {"product_id": "latte", "options": {"size": "small"}, "note": "extra hot, no lid"},
            ]
        },
    )

    product_id: str = ID
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    options: OptionsIn = Field(default_factory=dict)
    note: str | None = Field(
        default=None,
        max_length=NOTE_LENGTH,
        description="a special request for this line, shown on the store's ticket; the same "
        "product and options with another note make a line of their own",
    )


class QuantityIn(BaseModel):
    """A line's new quantity; 0 removes the line."""

    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=0, le=MAX_QUANTITY)


class NoteIn(BaseModel):
    """A line's special request; null or blank clears it."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(max_length=NOTE_LENGTH, examples=["no lid"])


class StoreChoiceIn(BaseModel):
    """The store the cart shops at."""

    model_config = ConfigDict(extra="forbid")

    store_id: str = ID


class CheckoutIn(BaseModel):
    """Checkout: `confirm` must be true, sent only after the shopper said yes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"fulfilment": "pickup", "store_id": "cafe", "confirm": True}]
        },
    )

    confirm: bool
    fulfilment: Fulfilment = Fulfilment.DELIVERY
    store_id: str | None = Field(default=None, min_length=1, max_length=64)
    pickup_at: AwareDatetime | None = None
    address: str | None = Field(default=None, max_length=1000)
    channel: Channel = Channel.APP


class PickupOrderIn(BaseModel):
    """A pickup order: at a store, at a time or as soon as possible."""

    model_config = ConfigDict(extra="forbid")

    confirm: bool
    store_id: str | None = Field(default=None, min_length=1, max_length=64)
    pickup_at: AwareDatetime | None = None
    channel: Channel = Channel.APP


class ReorderIn(BaseModel):
    """What to reorder: the last order, "my usual", or a product (by id or by words)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"target": "product", "query": "paper towels"}]},
    )

    target: ReorderTarget
    product_id: str | None = Field(default=None, min_length=1, max_length=64)
    query: str | None = Field(default=None, min_length=1, max_length=200)
    store_id: str | None = Field(default=None, min_length=1, max_length=64)


class ChosenOptionOut(BaseModel):
    """A chosen option with its names and price delta."""

    model_config = ConfigDict(from_attributes=True)

    group: str
    group_name: str
    choice: str
    choice_name: str
    amount: Amount
    price_delta: int


class CartLineOut(BaseModel):
    """A cart line priced now; `problem` says why it cannot be checked out as it is."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: str
    name: str
    quantity: int
    options: list[ChosenOptionOut]
    unit_price: int | None
    line_total: int
    available: bool
    problem: str | None
    note: str | None = Field(description="the shopper's special request for this line")


class CartOut(BaseModel):
    """The customer's cart with totals (tax by the cart's store)."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    store_id: str | None
    currency: str
    lines: list[CartLineOut]
    item_count: int
    subtotal: int
    tax_rate: Decimal
    tax: int
    total: int


class OrderLineOut(BaseModel):
    """An ordered line as it was priced at checkout."""

    model_config = ConfigDict(from_attributes=True)

    product_id: str
    name: str
    quantity: int
    base_price: int
    unit_price: int
    line_total: int
    options: list[ChosenOptionOut]
    note: str | None = Field(description="the shopper's special request for this line")


class OrderEventOut(BaseModel):
    """One status change: from, to, who, when."""

    model_config = ConfigDict(from_attributes=True)

    from_status: OrderStatus | None
    to_status: OrderStatus
    actor_kind: ActorKind
    actor_id: str
    at: datetime
    note: str


class OrderSummaryOut(BaseModel):
    """An order in the history list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: OrderStatus
    store_id: str
    fulfilment: Fulfilment
    channel: Channel
    currency: str
    subtotal: int
    tax_rate: Decimal
    tax: int
    total: int
    placed_at: datetime
    requested_at: datetime | None
    promised_at: datetime | None
    address: str | None
    lines: list[OrderLineOut]


class OrderOut(OrderSummaryOut):
    """An order with its status history."""

    events: list[OrderEventOut]


class SkippedOut(BaseModel):
    """A reordered item that could not go in the cart, and why."""

    model_config = ConfigDict(from_attributes=True)

    product_id: str
    reason: str


class ReorderOut(BaseModel):
    """The cart after a reorder; check out (with confirm) to place it."""

    model_config = ConfigDict(from_attributes=True)

    order_id: int
    cart: CartOut
    skipped: list[SkippedOut]


class EstimateOut(BaseModel):
    """When a pickup of the current cart would be ready, and why."""

    model_config = ConfigDict(from_attributes=True)

    store_id: str
    ready_at: datetime
    own_minutes: int
    queue_minutes: int
    orders_ahead: int


class StoreOut(BaseModel):
    """A store, and whether it is open now."""

    id: str
    name: str
    timezone: str
    address: str
    phone: str
    pickup: bool
    tax_rate: Decimal
    open_now: bool
    hours: dict[str, list[str]] | None


class ChoiceOut(BaseModel):
    """One choice of an option group."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    price_delta: int


class OptionGroupOut(BaseModel):
    """An option group a product offers."""

    id: str
    name: str
    required: bool
    max: int
    amounts: bool
    default: str | None
    choices: list[ChoiceOut]


class ProductOut(BaseModel):
    """A product with its options."""

    id: str
    name: str
    price: int | None
    category: str
    brand: str
    size: str
    stores: list[str] | None
    options: list[OptionGroupOut]


class MatchOut(BaseModel):
    """A search result: the product, how well it matched, and why."""

    product_id: str
    name: str
    score: float
    why: str
    price: int | None
    category: str


class SearchOut(BaseModel):
    """Products that the words may mean, best first (empty when nothing is close)."""

    query: str
    currency: str
    matches: list[MatchOut]
