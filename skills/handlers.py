"""One ask-sdk request handler per intent; each runs the shared dialogue on the slots' Request.

Every intent handler does the same four steps (`DialogueHandler.handle`): the shopper must have
linked their account (else: how to link, and a LinkAccount card); skills.slots turns the intent
into a Request; orders.dialog runs the turn (state in the database); skills.handlers_reply turns
the Reply into speech, reprompt, card and Dialog directive. The classes differ in the intent
they answer and in what an unlinked shopper hears. `INTENT_HANDLERS` lists them; the launch,
session-end and catch-all handlers are in skills.handlers_launch, the order in skills.builder.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ask_sdk_core.dispatch_components.request_components import AbstractRequestHandler
from ask_sdk_core.utils.predicate import is_intent_name

from skills.handlers_reply import DIRECTIVE_INTENTS, LINK_ACCOUNT, link_account, respond, speak
from skills.interceptors import Visit, visit_of
from skills.slots import read_intent, to_request

DEFAULT_TITLE = "VoiceCart"
HELP_UNLINKED = (
    "With this skill you can order from the store by voice: fill your cart, check out for "
    "pickup and hear when your order is ready. " + LINK_ACCOUNT
)
GOODBYE = "Goodbye!"


def title_of(visit: Visit) -> str:
    """The card title: the words the pickup stores' names share ("Bench Coffee"), else the
    first pickup store's name."""
    stores = visit.menu().catalog.stores
    names = [s.name for s in stores if s.pickup] or [s.name for s in stores]
    if not names:
        return DEFAULT_TITLE
    shared: list[str] = []
    for words in zip(*(name.split() for name in names), strict=False):
        if len(set(words)) != 1:
            break
        shared.append(words[0])
    return " ".join(shared) if shared and len(names) > 1 else names[0]


class DialogueHandler(AbstractRequestHandler):
    """Answers one intent through the dialogue."""

    intent_name: ClassVar[str] = ""
    ends: ClassVar[bool] = False
    """Whether the response always ends the session (Stop, Cancel, NavigateHome)."""

    def can_handle(self, handler_input: Any) -> bool:
        """This handler's intent, and only that."""
        return bool(is_intent_name(self.intent_name)(handler_input))

    def handle(self, handler_input: Any) -> Any:
        """Linked shoppers get a dialogue turn; unlinked ones hear how to link."""
        visit = visit_of(handler_input)
        if visit.customer_id is None:
            return self.unlinked(handler_input)
        menu = visit.menu()
        intent = read_intent(handler_input.request_envelope.request.intent)
        request = to_request(intent, catalog=menu.catalog, index=menu.index)
        reply = visit.turn(request)
        asks = reply.expects_answer and not (reply.end_session or self.ends)
        # Only these intents' questions can become Dialog directives (skills.handlers_reply).
        pending = visit.pending() if asks and intent.name in DIRECTIVE_INTENTS else None
        return respond(handler_input, reply, title=title_of(visit), pending=pending, end=self.ends)

    def unlinked(self, handler_input: Any) -> Any:
        """Ordering needs a linked account (Amazon's rule for physical goods)."""
        return link_account(handler_input)


class AddItemsHandler(DialogueHandler):
    """ "Add a grande oat latte", and answers to "what size?" or "Bounty or Viva?"."""

    intent_name = "AddItemsIntent"


class RemoveItemsHandler(DialogueHandler):
    """ "Remove the croissant"."""

    intent_name = "RemoveItemsIntent"


class SetQuantityHandler(DialogueHandler):
    """ "Make it three"."""

    intent_name = "SetQuantityIntent"


class ReadCartHandler(DialogueHandler):
    """ "What's in my cart?"."""

    intent_name = "ReadCartIntent"


class ClearCartHandler(DialogueHandler):
    """ "Clear my cart"."""

    intent_name = "ClearCartIntent"


class CheckoutHandler(DialogueHandler):
    """ "Check out", "pick it up at 8:30", and the answer to "Shall I place it?"."""

    intent_name = "CheckoutIntent"


class ReorderHandler(DialogueHandler):
    """ "Order my usual", and the answer to "Shall I add that?"."""

    intent_name = "ReorderIntent"


class OrderStatusHandler(DialogueHandler):
    """ "Is my order ready?"."""

    intent_name = "OrderStatusIntent"


class StoreInfoHandler(DialogueHandler):
    """ "When are you open?"."""

    intent_name = "StoreInfoIntent"


class SpecialRequestHandler(DialogueHandler):
    """ "And no lid": a request for the item just ordered."""

    intent_name = "SpecialRequestIntent"


class PinHandler(DialogueHandler):
    """The spoken voice PIN, when the dialogue asked for it."""

    intent_name = "PinIntent"


class YesHandler(DialogueHandler):
    """ "Yes" to a plain question ("Did you mean ...?")."""

    intent_name = "AMAZON.YesIntent"


class NoHandler(DialogueHandler):
    """ "No" to a plain question."""

    intent_name = "AMAZON.NoIntent"


class FallbackHandler(DialogueHandler):
    """Words that fit no intent: the dialogue reprompts, then says goodbye."""

    intent_name = "AMAZON.FallbackIntent"


class HelpHandler(DialogueHandler):
    """What the shopper can say (unlinked shoppers also hear how to link)."""

    intent_name = "AMAZON.HelpIntent"

    def unlinked(self, handler_input: Any) -> Any:
        """Help for a shopper who has not linked yet."""
        return link_account(handler_input, speech=HELP_UNLINKED)


class _Leaving(DialogueHandler):
    """Stop, Cancel and NavigateHome: the dialogue drops any open question; the session ends."""

    ends = True

    def unlinked(self, handler_input: Any) -> Any:
        """Nothing to cancel for an unlinked shopper."""
        return speak(handler_input, GOODBYE, reprompt=None)


class StopHandler(_Leaving):
    """ "Stop"."""

    intent_name = "AMAZON.StopIntent"


class CancelHandler(_Leaving):
    """ "Cancel"."""

    intent_name = "AMAZON.CancelIntent"


class NavigateHomeHandler(_Leaving):
    """ "Go home" (on devices with a screen)."""

    intent_name = "AMAZON.NavigateHomeIntent"


INTENT_HANDLERS: tuple[type[DialogueHandler], ...] = (
    AddItemsHandler,
    RemoveItemsHandler,
    SetQuantityHandler,
    ReadCartHandler,
    ClearCartHandler,
    CheckoutHandler,
    ReorderHandler,
    OrderStatusHandler,
    StoreInfoHandler,
    SpecialRequestHandler,
    PinHandler,
    YesHandler,
    NoHandler,
    FallbackHandler,
    HelpHandler,
    StopHandler,
    CancelHandler,
    NavigateHomeHandler,
)


def handler_for(intent_name: str) -> type[DialogueHandler] | None:
    """The handler class of an intent, or None."""
    return next((h for h in INTENT_HANDLERS if h.intent_name == intent_name), None)
