"""Opening the skill, the end of a session, and the catch-all exception handler (registered last).

Opening the skill greets the shopper; one with an order in progress also hears its status,
through the dialogue's order-status turn ("Order 12 is ready for pickup."), and the store's
question when an item is out of stock ("Would you like a Blueberry Muffin instead?"). A
SessionEndedRequest (the shopper went quiet, said nothing Alexa understood, or an error) deletes
the conversation's state; the cart stays. The exception handler logs the error and apologises.
"""

from __future__ import annotations

import logging
from typing import Any

from ask_sdk_core.dispatch_components.exception_components import AbstractExceptionHandler
from ask_sdk_core.dispatch_components.request_components import AbstractRequestHandler
from ask_sdk_core.utils.predicate import is_request_type
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.request import Intent, Request
from orders import tables
from orders.tables import FINAL
from skills.handlers import title_of
from skills.handlers_reply import ANYTHING_ELSE_REPROMPT, link_account, speak
from skills.interceptors import VISIT, Visit, visit_of

logger = logging.getLogger(__name__)

WELCOME = "Welcome to {store}. What would you like?"
WELCOME_BACK = "Welcome back to {store}. {status} What would you like?"
ASKED_BACK = "Welcome back to {store}. {status}"
WELCOME_REPROMPT = "You can say add a latte, order my usual, or what's in my cart."
LINK_FIRST = (
    "Welcome! To order with Alexa, please link your VoiceCart account. I've sent a card to "
    "your Alexa app: open it and sign in with your VoiceCart token."
)
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
SPOKEN_REQUESTS = frozenset({"LaunchRequest", "IntentRequest"})


class LaunchHandler(AbstractRequestHandler):
    """ "Alexa, open bench cafe"."""

    def can_handle(self, handler_input: Any) -> bool:
        """LaunchRequest."""
        return bool(is_request_type("LaunchRequest")(handler_input))

    def handle(self, handler_input: Any) -> Any:
        """Greet; read an open order's status; unlinked shoppers hear how to link."""
        visit = visit_of(handler_input)
        if visit.customer_id is None:
            return link_account(handler_input, speech=LINK_FIRST)
        title = title_of(visit)
        if has_open_order(visit.db, visit.customer_id):
            status = visit.turn(Request(Intent.ORDER_STATUS))
            if status.expects_answer:  # the store asks about an out-of-stock item
                speech = ASKED_BACK.format(store=title, status=status.speech.strip())
                return speak(handler_input, speech, reprompt=status.speech, title=title)
            speech = WELCOME_BACK.format(store=title, status=status.speech.strip())
        else:
            speech = WELCOME.format(store=title)
        return speak(handler_input, speech, reprompt=WELCOME_REPROMPT, title=title)


def has_open_order(db: Session, customer_id: int) -> bool:
    """Whether the customer has an order not finished yet (one indexed query, no lines)."""
    query = (
        select(tables.Order.id)
        .where(tables.Order.customer_id == customer_id, tables.Order.status.not_in(FINAL))
        .limit(1)
    )
    return db.scalar(query) is not None


class SessionEndedHandler(AbstractRequestHandler):
    """The session ended on Alexa's side: forget the conversation (the cart is kept)."""

    def can_handle(self, handler_input: Any) -> bool:
        """SessionEndedRequest."""
        return bool(is_request_type("SessionEndedRequest")(handler_input))

    def handle(self, handler_input: Any) -> Any:
        """Clean up; Alexa allows no speech here."""
        request = handler_input.request_envelope.request
        reason = getattr(getattr(request, "reason", None), "value", None)
        error = getattr(request, "error", None)
        if error is not None:
            logger.warning(
                "Alexa ended the session with an error: %s %s",
                getattr(getattr(error, "object_type", None), "value", error.object_type),
                error.message,
            )
        else:
            logger.info("Alexa session ended: %s", reason)
        visit = visit_of(handler_input)
        if visit.customer_id is not None:
            visit.forget()
        return handler_input.response_builder.response


class CatchAll(AbstractExceptionHandler):
    """Any exception, from a handler, an interceptor or the dispatcher: log and apologise."""

    def can_handle(self, handler_input: Any, exception: Exception) -> bool:
        """Every exception."""
        return True

    def handle(self, handler_input: Any, exception: Exception) -> Any:
        """Roll back and close the request's database session; say sorry; keep listening."""
        request = handler_input.request_envelope.request
        logger.error(
            "Alexa %s failed", getattr(request, "object_type", "request"), exc_info=exception
        )
        visit = handler_input.attributes_manager.request_attributes.get(VISIT)
        if isinstance(visit, Visit):
            visit.close()
        if getattr(request, "object_type", None) not in SPOKEN_REQUESTS:
            # SessionEnded, System.ExceptionEncountered, skill events: Alexa takes no speech.
            return handler_input.response_builder.response
        return speak(handler_input, SORRY, reprompt=ANYTHING_ELSE_REPROMPT)
