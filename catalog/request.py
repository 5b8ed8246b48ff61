"""What a shopper asked for: the typed result of parsing one utterance (or one Alexa intent)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from catalog.model import Amount


class Intent(StrEnum):
    """Everything a shopper can ask for in one turn."""

    ADD_ITEMS = "add_items"
    REMOVE_ITEMS = "remove_items"
    SET_QUANTITY = "set_quantity"
    READ_CART = "read_cart"
    CLEAR_CART = "clear_cart"
    CHECKOUT = "checkout"
    REORDER = "reorder"
    ORDER_STATUS = "order_status"
    STORE_INFO = "store_info"
    CONFIRM = "confirm"
    DENY = "deny"
    CANCEL = "cancel"
    HELP = "help"
    UNKNOWN = "unknown"


class ReorderTarget(StrEnum):
    """What "reorder" refers to."""

    LAST = "last"
    USUAL = "usual"
    PRODUCT = "product"


@dataclass(frozen=True)
class OptionValue:
    """A chosen option: the choice id and how much of it."""

    choice: str
    amount: Amount = Amount.REGULAR


@dataclass(frozen=True)
class Item:
    """One requested line: a product (or None when unresolved), quantity, unit and options.

    `alternatives` holds the matcher's other candidates, best first; `ambiguous` says the top
    two were too close to call, so the dialogue should ask. `spoken` is the text it came from.
    """

    product_id: str | None
    quantity: float = 1
    unit: str | None = None
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    alternatives: tuple[str, ...] = ()
    ambiguous: bool = False
    spoken: str = ""
    note: str | None = None
    """A special request the options cannot say ("no lid"), for the line's note."""


@dataclass(frozen=True)
class Request:
    """The structured meaning of one turn.

    `unmatched` lists spoken product phrases that matched nothing (for "Sorry, I couldn't find
    X" and the owner's unmatched-phrase report). `reorder` is set for Intent.REORDER.
    `store_query` and `time_query` carry the raw words for a pickup store and time.
    """

    intent: Intent
    items: tuple[Item, ...] = ()
    text: str = ""
    reorder: ReorderTarget | None = None
    unmatched: tuple[str, ...] = ()
    store_query: str | None = None
    time_query: str | None = None
    fulfilment: str | None = None
    """"pickup" or "delivery" when the shopper said so."""
    note: str | None = None
    """A special request said on its own ("and no lid"): for the item just ordered."""
    note_for: Item | None = None
    """The item that request names, when it names one ("no lid on the latte")."""
