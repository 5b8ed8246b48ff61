"""The skill's intents and slots as data: what the model generator writes, what handlers must read.

Sample templates may use `{option}` and `{option2}`: the generator writes one sample per option
group (or ordered pair of groups) of the catalog, with that group's slot. Templates that also use
`{amount}` are written only for groups that take amounts ("extra soy milk").
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.model import Amount
from catalog.request import Intent, ReorderTarget
from skills import samples

PRODUCT_TYPE = "PRODUCT"
STORE_TYPE = "STORE"
AMOUNT_TYPE = "AMOUNT"
REORDER_TYPE = "REORDER_TARGET"
FULFILMENT_TYPE = "FULFILMENT"
SEARCH_QUERY = "AMAZON.SearchQuery"
"""Free words; Alexa requires a carrier phrase and no other slot in each of its samples."""
OPTION_PLACEHOLDER = "{option}"
SECOND_OPTION_PLACEHOLDER = "{option2}"
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class SlotSpec:
    """One slot; with `prompts` it is required, and Alexa asks one of them when it is missing."""

    name: str
    type: str
    prompts: tuple[str, ...] = ()
    samples: tuple[str, ...] = ()
    """What a shopper says when answering the prompt."""

    @property
    def required(self) -> bool:
        """Whether the dialog model makes Alexa elicit this slot."""
        return bool(self.prompts)


@dataclass(frozen=True)
class IntentSpec:
    """One Alexa intent, the Request intent it becomes, its slots and sample templates."""

    name: str
    intent: Intent
    slots: tuple[SlotSpec, ...] = ()
    samples: tuple[str, ...] = ()
    options: bool = False
    """Whether the catalog's option-group slots are added to this intent."""
    dialog: bool = False
    """In the dialog model even without required slots: the skill confirms this intent
    (Dialog.ConfirmIntent) or elicits one of its slots (Dialog.ElicitSlot)."""

    @property
    def builtin(self) -> bool:
        """Amazon's built-in intents (AMAZON.*) need no samples of ours."""
        return self.name.startswith("AMAZON.")


@dataclass(frozen=True)
class ValueSpec:
    """One value of a fixed slot type: the id the handler reads and what shoppers say."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()


def identifier(text: str) -> str:
    """An Alexa-safe name part: ASCII letters and underscores only (digits spelled out)."""
    out: list[str] = []
    for char in text.lower():
        if "a" <= char <= "z":
            out.append(char)
        elif char.isdigit() and char.isascii():
            out.append(f"_{_DIGITS[int(char)]}_")
        else:
            out.append("_")
    return "_".join(part for part in "".join(out).split("_") if part)


def option_slot_name(group_id: str) -> str:
    """The slot that carries a choice of this option group."""
    return f"option_{identifier(group_id)}"


def option_type_name(group_id: str) -> str:
    """The custom slot type that lists this option group's choices."""
    return f"OPTION_{identifier(group_id).upper()}"


STATIC_TYPES: dict[str, tuple[ValueSpec, ...]] = {
    AMOUNT_TYPE: (
        ValueSpec(Amount.NONE, "no", ("without", "hold the", "none of the")),
        ValueSpec(Amount.LIGHT, "light", ("a little", "a bit of", "a splash of", "a dash of")),
        ValueSpec(Amount.EXTRA, "extra", ("lots of", "a lot of", "double", "more")),
    ),
    REORDER_TYPE: (
        ValueSpec(ReorderTarget.LAST, "last order", ("last time", "previous order", "last one")),
        ValueSpec(ReorderTarget.USUAL, "usual", ("the usual", "usual order", "regular")),
    ),
    FULFILMENT_TYPE: (
        ValueSpec("pickup", "pickup", ("pick up", "collection", "carry out", "takeout")),
        ValueSpec("delivery", "delivery", ("deliver", "delivered", "home delivery")),
    ),
}

PRODUCT = SlotSpec("product", PRODUCT_TYPE)
QUANTITY = SlotSpec("quantity", "AMAZON.NUMBER")
WANTED_PRODUCT = SlotSpec(
    "product",
    PRODUCT_TYPE,
    prompts=("What would you like?", "What can I get you?"),
    samples=(
        "{product}",
        "a {product}",
        "{quantity} {product}",
        "i'd like a {product}",
        "{quantity} {product} please",
        "a {product} please",
    ),
)

INTENTS: tuple[IntentSpec, ...] = (
    IntentSpec(
        "AddItemsIntent",
        Intent.ADD_ITEMS,
        (
            WANTED_PRODUCT,
            QUANTITY,
            SlotSpec("product_two", PRODUCT_TYPE),
            SlotSpec("quantity_two", "AMAZON.NUMBER"),
            SlotSpec("amount", AMOUNT_TYPE),
            SlotSpec("pickup_time", "AMAZON.TIME"),
        ),
        samples.ADD,
        options=True,
    ),
    IntentSpec(
        "RemoveItemsIntent",
        Intent.REMOVE_ITEMS,
        (
            SlotSpec(
                "product",
                PRODUCT_TYPE,
                prompts=("Which item should I remove?",),
                samples=("{product}", "the {product}", "remove the {product}"),
            ),
            QUANTITY,
        ),
        samples.REMOVE,
    ),
    IntentSpec(
        "SetQuantityIntent",
        Intent.SET_QUANTITY,
        (
            PRODUCT,
            SlotSpec(
                "quantity",
                "AMAZON.NUMBER",
                prompts=("How many would you like?",),
                samples=("{quantity}", "{quantity} please", "make it {quantity}"),
            ),
        ),
        samples.SET_QUANTITY,
    ),
    IntentSpec("ReadCartIntent", Intent.READ_CART, (), samples.READ_CART),
    IntentSpec("ClearCartIntent", Intent.CLEAR_CART, (), samples.CLEAR_CART),
    IntentSpec(
        "CheckoutIntent",
        Intent.CHECKOUT,
        (
            SlotSpec("pickup_time", "AMAZON.TIME"),
            SlotSpec("store", STORE_TYPE),
            SlotSpec("fulfilment", FULFILMENT_TYPE),
        ),
        samples.CHECKOUT,
        dialog=True,
    ),
    IntentSpec(
        "ReorderIntent",
        Intent.REORDER,
        (SlotSpec("reorder", REORDER_TYPE), PRODUCT),
        samples.REORDER,
        dialog=True,
    ),
    IntentSpec("OrderStatusIntent", Intent.ORDER_STATUS, (), samples.ORDER_STATUS),
    IntentSpec(
        "StoreInfoIntent", Intent.STORE_INFO, (SlotSpec("store", STORE_TYPE),), samples.STORE_INFO
    ),
    # A special request on its own ("and no lid"), read by the dialogue as the in-app mic's.
    IntentSpec(
        "SpecialRequestIntent",
        Intent.ADD_ITEMS,
        (SlotSpec("request", SEARCH_QUERY),),
        samples.SPECIAL_REQUEST,
    ),
    # A spoken voice PIN has no intent of its own: the dialogue reads it as the answer it asked for.
    IntentSpec("PinIntent", Intent.UNKNOWN, (SlotSpec("pin", "AMAZON.NUMBER"),), samples.PIN),
    IntentSpec("AMAZON.YesIntent", Intent.CONFIRM),
    IntentSpec("AMAZON.NoIntent", Intent.DENY),
    IntentSpec("AMAZON.CancelIntent", Intent.CANCEL),
    IntentSpec("AMAZON.StopIntent", Intent.CANCEL),
    IntentSpec("AMAZON.NavigateHomeIntent", Intent.CANCEL),
    IntentSpec("AMAZON.HelpIntent", Intent.HELP),
    IntentSpec("AMAZON.FallbackIntent", Intent.UNKNOWN),
)

REQUIRED_BUILTINS = frozenset(
    {
        "AMAZON.HelpIntent",
        "AMAZON.StopIntent",
        "AMAZON.CancelIntent",
        "AMAZON.FallbackIntent",
        "AMAZON.YesIntent",
        "AMAZON.NoIntent",
        "AMAZON.NavigateHomeIntent",
    }
)


def intent_spec(name: str) -> IntentSpec | None:
    """The spec of an Alexa intent by name, or None."""
    for spec in INTENTS:
        if spec.name == name:
            return spec
    return None
