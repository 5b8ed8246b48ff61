"""A dialogue Reply as an Alexa response: speech, reprompt, card, and Dialog directives.

The dialogue says what to ask; this module says how Alexa asks it. When the question belongs to
the intent the shopper just used, the response carries a Dialog directive so that Alexa listens
for the right slot: "What size?" after AddItemsIntent elicits that option's slot, "Bounty or
Viva?" elicits the product again, "What time?" and "Which store?" after CheckoutIntent elicit
its slots, and "Shall I place it?" / "Shall I add that?" confirm CheckoutIntent / ReorderIntent
(Dialog.ConfirmIntent: the answer comes back as the same intent, CONFIRMED or DENIED). Dialog
directives never change the intent (no intent chaining): any other question is plain speech
with a reprompt, and the shopper's answer arrives as AMAZON.YesIntent, NoIntent, PinIntent or
one of our intents, which the dialogue reads just as well.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from ask_sdk_model.dialog.confirm_intent_directive import ConfirmIntentDirective
from ask_sdk_model.dialog.elicit_slot_directive import ElicitSlotDirective
from ask_sdk_model.intent import Intent
from ask_sdk_model.intent_confirmation_status import IntentConfirmationStatus
from ask_sdk_model.slot import Slot
from ask_sdk_model.slot_confirmation_status import SlotConfirmationStatus
from ask_sdk_model.ui.link_account_card import LinkAccountCard
from ask_sdk_model.ui.simple_card import SimpleCard

from orders.dialog import Reply
from orders.dialog_state import Pending, PendingKind
from skills.intents import option_slot_name

ANYTHING_ELSE = "Anything else?"
ANYTHING_ELSE_REPROMPT = "What else would you like? You can also say check out."
LINK_ACCOUNT = (
    "To order with Alexa, please link your VoiceCart account. I've sent a card to your Alexa "
    "app: open it and sign in with your VoiceCart token."
)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")

_ELICIT: dict[tuple[PendingKind, str], str] = {
    (PendingKind.DISAMBIGUATE, "AddItemsIntent"): "product",
    (PendingKind.PICKUP_TIME, "CheckoutIntent"): "pickup_time",
    (PendingKind.PICKUP_STORE, "CheckoutIntent"): "store",
}
_CONFIRM: dict[PendingKind, str] = {
    PendingKind.CONFIRM_ORDER: "CheckoutIntent",
    PendingKind.CONFIRM_REORDER: "ReorderIntent",
}
DIRECTIVE_INTENTS = frozenset({"AddItemsIntent", *_CONFIRM.values()})
"""The intents whose questions may get a Dialog directive."""


def ssml(text: str) -> str:
    """Plain text made safe inside <speak> ("Breve (Half & Half)" has an ampersand)."""
    return escape(text)


def reprompt_of(speech: str) -> str:
    """What to say again if the shopper is silent: the speech from its last question on."""
    sentences = _SENTENCE_END.split(speech.strip())
    for position in range(len(sentences) - 1, -1, -1):
        if sentences[position].endswith("?"):
            return " ".join(sentences[position:])
    return speech


def respond(
    handler_input: Any,
    reply: Reply,
    *,
    title: str,
    pending: Pending | None = None,
    end: bool = False,
) -> Any:
    """The Alexa response for a dialogue Reply (`end` forces the session to close)."""
    builder = handler_input.response_builder
    builder.set_card(SimpleCard(title=title, content=reply.display))
    if reply.end_session or end:
        return builder.speak(ssml(reply.speech)).set_should_end_session(True).response
    if not reply.expects_answer:
        speech = f"{reply.speech} {ANYTHING_ELSE}"
        return builder.speak(ssml(speech)).ask(ssml(ANYTHING_ELSE_REPROMPT)).response
    builder.speak(ssml(reply.speech)).ask(ssml(reprompt_of(reply.speech)))
    directive = dialog_directive(pending, getattr(handler_input.request_envelope, "request", None))
    if directive is not None:
        builder.add_directive(directive)
    return builder.response


def dialog_directive(pending: Pending | None, request: Any) -> Any | None:
    """The Dialog directive for the open question, when it belongs to the current intent."""
    intent = getattr(request, "intent", None)
    name = getattr(intent, "name", None)
    if pending is None or intent is None or not isinstance(name, str):
        return None
    if _CONFIRM.get(pending.kind) == name:
        return ConfirmIntentDirective(updated_intent=updated_intent(intent, clear=None))
    slot = _ELICIT.get((pending.kind, name))
    if pending.kind is PendingKind.OPTION and name == "AddItemsIntent" and pending.group:
        slot = option_slot_name(pending.group)
    if slot is None or slot not in (intent.slots or {}):
        return None
    return ElicitSlotDirective(
        updated_intent=updated_intent(intent, clear=slot), slot_to_elicit=slot
    )


def updated_intent(intent: Any, *, clear: str | None) -> Any:
    """The intent as the shopper left it, unconfirmed, with the slot to ask for emptied."""
    slots = {}
    for name, slot in (intent.slots or {}).items():
        if name == clear:
            slots[name] = Slot(name=name, confirmation_status=SlotConfirmationStatus.NONE)
        else:
            slots[name] = slot
    return Intent(name=intent.name, slots=slots, confirmation_status=IntentConfirmationStatus.NONE)


def link_account(handler_input: Any, *, speech: str = LINK_ACCOUNT) -> Any:
    """Tell an unlinked shopper how to link, with the LinkAccount card; ends the session."""
    builder = handler_input.response_builder
    builder.speak(ssml(speech)).set_card(LinkAccountCard()).set_should_end_session(True)
    return builder.response


def speak(
    handler_input: Any, speech: str, *, reprompt: str | None, title: str | None = None
) -> Any:
    """A plain response: speech, and a reprompt (session open) or none (session ends)."""
    builder = handler_input.response_builder.speak(ssml(speech))
    if title is not None:
        builder.set_card(SimpleCard(title=title, content=speech))
    if reprompt is None:
        return builder.set_should_end_session(True).response
    return builder.ask(ssml(reprompt)).response
