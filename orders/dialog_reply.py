"""What a dialogue turn hands back (Reply, with cart and order summaries) and the turn's context."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from catalog.match import ProductIndex
from catalog.model import Amount, Catalog, Store
from orders import tables
from orders.carts import CartView, PricedLine, read_cart
from orders.clock import Clock
from orders.dialog_state import DialogState
from orders.dialog_words import LineWords, Responses
from orders.pricing import ChosenOption
from orders.tables import Channel


class ReplyKind(StrEnum):
    """Machine-readable kind of a reply (tests and channels branch on it)."""

    ADDED = "added"
    ASK_OPTION = "ask_option"
    DISAMBIGUATE = "disambiguate"
    SKIPPED = "skipped"
    NOT_FOUND = "not_found"
    DID_YOU_MEAN = "did_you_mean"
    UNAVAILABLE = "unavailable"
    REMOVED = "removed"
    NOT_IN_CART = "not_in_cart"
    QUANTITY_SET = "quantity_set"
    OPTIONS_CHANGED = "options_changed"
    REQUEST_NOTED = "request_noted"
    CART = "cart"
    CART_EMPTY = "cart_empty"
    TOTAL = "total"
    CLEARED = "cleared"
    ASK_STORE = "ask_store"
    ASK_TIME = "ask_time"
    CONFIRM_ORDER = "confirm_order"
    ASK_PIN = "ask_pin"
    PIN_WRONG = "pin_wrong"
    PLACED = "placed"
    NOT_PLACED = "not_placed"
    CONFIRM_REORDER = "confirm_reorder"
    REORDERED = "reordered"
    NOTHING_TO_REORDER = "nothing_to_reorder"
    ORDER_STATUS = "order_status"
    NO_ORDERS = "no_orders"
    STORE_INFO = "store_info"
    SUBSTITUTE_OFFER = "substitute_offer"
    SUBSTITUTE_TAKEN = "substitute_taken"
    SUBSTITUTE_DECLINED = "substitute_declined"
    HELP = "help"
    NOTHING_PENDING = "nothing_pending"
    REPROMPT = "reprompt"
    GOODBYE = "goodbye"
    ERROR = "error"


@dataclass(frozen=True)
class LineSummary:
    """One cart or order line: names, options, quantity and prices in cents."""

    line_id: int
    product_id: str
    name: str
    options: tuple[str, ...]
    quantity: int
    unit_price: int | None
    line_total: int
    problem: str | None = None
    note: str | None = None
    """The shopper's special request for the line ("no lid")."""


@dataclass(frozen=True)
class CartSummary:
    """The cart a turn touched: lines and money in cents."""

    lines: tuple[LineSummary, ...]
    subtotal: int
    tax: int
    total: int
    currency: str
    store_id: str | None


@dataclass(frozen=True)
class OrderSummary:
    """The order a turn placed or reported on."""

    order_id: int
    status: str
    total: int
    currency: str
    store_id: str
    store_name: str
    promised_at: datetime | None
    requested_at: datetime | None


@dataclass(frozen=True)
class Reply:
    """What to say, what to show, and what the turn did; `kind` is one of ReplyKind."""

    speech: str
    display: str
    expects_answer: bool
    end_session: bool
    cart: CartSummary | None
    order: OrderSummary | None
    kind: str

    def then(self, other: Reply) -> Reply:
        """This reply followed by another ("Added a latte. Bounty or Viva?")."""
        return replace(
            other,
            speech=f"{self.speech} {other.speech}",
            display=f"{self.display} · {other.display}",
            cart=other.cart or self.cart,
            order=other.order or self.order,
        )


def option_words(line: PricedLine, words: Responses) -> tuple[str, ...]:
    """The options of a priced line as spoken ("extra Vanilla Syrup")."""
    return tuple(words.option(o.choice_name, o.amount) for o in line.options)


def said_line(
    catalog: Catalog, line: PricedLine, words: Responses, *, keep: Collection[str] = ()
) -> LineWords:
    """A priced line as spoken (see said_options)."""
    return said_options(
        catalog,
        line.product_id,
        name=line.name,
        quantity=line.quantity,
        options=line.options,
        words=words,
        keep=keep,
        note=line.note,
    )


def said_options(
    catalog: Catalog,
    product_id: str,
    *,
    name: str,
    quantity: int,
    options: Sequence[ChosenOption],
    words: Responses,
    keep: Collection[str] = (),
    note: str | None = None,
) -> LineWords:
    """A line as spoken: only options that differ from the product's defaults (and those of
    the groups in `keep`, which the shopper named); the size goes before the name, the special
    request (`note`, "no lid") last."""
    product = catalog.product(product_id)
    defaults = product.defaults if product is not None else {}
    said = [
        o
        for o in options
        if o.group in keep or defaults.get(o.group) != o.choice or o.amount is not Amount.REGULAR
    ]
    before = tuple(o.choice_name for o in said if _is_size(o.group, o.group_name))
    after = tuple(
        words.option(o.choice_name, o.amount) for o in said if not _is_size(o.group, o.group_name)
    ) + ((note,) if note else ())
    return LineWords(spoken_name(catalog, product_id, name), quantity, after, before)


def _is_size(group_id: str, group_name: str) -> bool:
    # Sizes read naturally before the name ("a Large Latte"); other options go after "with".
    return "size" in (group_id.lower(), group_name.lower())


_SHARED_NAMES: dict[int, tuple[Catalog, frozenset[str]]] = {}


def _shared_names(catalog: Catalog) -> frozenset[str]:
    """Names that several products carry (kept per catalog object, like parse.index_for)."""
    cached = _SHARED_NAMES.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    seen: set[str] = set()
    shared: set[str] = set()
    for product in catalog.products.values():
        key = product.name.lower()
        (shared if key in seen else seen).add(key)
    if len(_SHARED_NAMES) >= 8:
        _SHARED_NAMES.pop(next(iter(_SHARED_NAMES)))
    _SHARED_NAMES[id(catalog)] = (catalog, frozenset(shared))
    return frozenset(shared)


def spoken_name(catalog: Catalog, product_id: str, fallback: str) -> str:
    """The product's name, with the brand in front when another product has the same name."""
    product = catalog.product(product_id)
    if product is None:
        return fallback
    if product.brand and product.name.lower() in _shared_names(catalog):
        return f"{product.brand} {product.name}"
    return product.name


def summarize_cart(cart: CartView, words: Responses) -> CartSummary:
    """A CartView as the reply's cart summary."""
    lines = tuple(
        LineSummary(
            line.id,
            line.product_id,
            line.name,
            option_words(line, words),
            line.quantity,
            line.unit_price,
            line.line_total,
            line.problem,
            line.note,
        )
        for line in cart.lines
    )
    return CartSummary(lines, cart.subtotal, cart.tax, cart.total, cart.currency, cart.store_id)


def summarize_order(order: tables.Order, store: Store | None) -> OrderSummary:
    """An order row as the reply's order summary."""
    return OrderSummary(
        order.id,
        order.status.value,
        order.total,
        order.currency,
        order.store_id,
        store.name if store is not None else order.store_id,
        order.promised_at,
        order.requested_at,
    )


@dataclass
class Turn:
    """One turn's collaborators and the conversation state it changes."""

    db: Session
    customer_id: int
    channel: Channel
    catalog: Catalog
    index: ProductIndex
    clock: Clock
    words: Responses
    state: DialogState
    session_id: str
    now: datetime
    text: str = ""
    cart: CartView | None = field(default=None)

    def reply(
        self,
        kind: ReplyKind,
        key: str | None = None,
        *,
        asks: bool = False,
        end: bool = False,
        cart: CartView | None = None,
        order: OrderSummary | None = None,
        **fields: object,
    ) -> Reply:
        """A reply from the response file (the key defaults to the kind's value)."""
        speech, display = self.words.render(key or kind.value, **fields)
        touched = cart if cart is not None else self.current_cart()
        return Reply(
            speech, display, asks, end, summarize_cart(touched, self.words), order, kind.value
        )

    def store_name(self, store: Store) -> str:
        """How a store is named in speech: its name without the shared brand words."""
        peers = [s for s in self.catalog.stores if s.pickup == store.pickup]
        names = [s.name for s in peers]
        if len(names) < 2:
            return store.name
        prefix = _common_prefix(names)
        short = store.name[len(prefix) :].strip()
        return short or store.name

    def local(self, store: Store, at: datetime) -> datetime:
        """A moment on the store's clock."""
        return at.astimezone(ZoneInfo(store.timezone))

    def when(self, store: Store, at: datetime | None, *, estimate: bool = False) -> str:
        """ "at 8:30 AM", "tomorrow at 8:30 AM", or "as soon as possible"."""
        if at is None:
            return self.words.phrase("asap")
        local = self.local(store, at)
        today = self.local(store, self.now).date()
        clock = self.words.clock(local)
        if local.date() != today:
            return self.words.phrase("tomorrow_at", time=clock)
        return self.words.phrase("around" if estimate else "at", time=clock)

    def money(self, cents: int) -> str:
        """Spoken money in the catalog's currency."""
        return self.words.money(cents, self.catalog.currency)

    def money_short(self, cents: int) -> str:
        """Displayed money in the catalog's currency."""
        return self.words.money_short(cents, self.catalog.currency)

    def current_cart(self) -> CartView:
        """The cart as this turn last saw it (read once when first needed)."""
        if self.cart is None:
            self.cart = read_cart(self.db, self.customer_id, catalog=self.catalog)
        return self.cart

    def said(self, line: PricedLine, *, keep: Collection[str] = ()) -> LineWords:
        """A cart line as spoken (see said_line)."""
        return said_line(self.catalog, line, self.words, keep=keep)

    def last_line(self) -> PricedLine | None:
        """The line the conversation touched last, else the newest line of the cart."""
        lines = self.current_cart().lines
        for line in lines:
            if line.id == self.state.last_line:
                return line
        return max(lines, key=lambda line: line.id) if lines else None


def _common_prefix(names: Sequence[str]) -> str:
    """The words every name starts with ("VoiceCart Coffee")."""
    split = [n.split() for n in names]
    shared: list[str] = []
    for column in zip(*split, strict=False):
        if len(set(column)) != 1:
            break
        shared.append(column[0])
    if any(len(s) == len(shared) for s in split):
        return ""
    return " ".join(shared)
