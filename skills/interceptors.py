"""Request and response interceptors: logging, and the per-request Visit that holds the database.

The skill keeps nothing in memory or in Alexa's session attributes: every request opens a
`Visit` (request interceptor `LoadVisit`): one database session, the customer found from the
account-linking access token (the Alexa user id is linked to that customer on the way), and the
conversation key under which the dialogue keeps its state in dialog_sessions (keyed by Alexa
user and session). The dialogue loads and saves that state inside its own turn. The response
interceptor `SaveVisit` forgets the conversation when the response ends the session, sends no
session attributes back, and closes the database session. The catch-all exception handler
closes the visit too, since response interceptors do not run after a failed handler.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ask_sdk_core.dispatch_components.request_components import (
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from catalog.match import ProductIndex
from catalog.model import Catalog
from catalog.request import Request
from orders.clock import Clock
from orders.db import begin_write
from orders.dialog import Reply, handle_turn
from orders.dialog_state import DialogState, Pending
from orders.dialog_tables import DialogSession
from orders.oauth_links import customer_for_alexa, forget_alexa_user
from orders.tables import Channel

logger = logging.getLogger(__name__)

VISIT = "voicecart.visit"
"""The request attribute that holds the Visit."""
LOCALE = "en"


class Menu(Protocol):
    """A catalog and its product index (orders.catalog_store.CatalogSnapshot is one)."""

    @property
    def catalog(self) -> Catalog:
        """The catalog."""
        ...

    @property
    def index(self) -> ProductIndex:
        """Its fuzzy product index."""
        ...


MenuSource = Callable[[Session], Menu]
"""Gives the current catalog and index, reading what it needs through the session."""


def conversation_key(user_id: str, session_id: str) -> str:
    """The dialogue session id of one Alexa session of one user (hashed: ids are long)."""
    digest = hashlib.sha256(f"{user_id}\n{session_id}".encode()).hexdigest()
    return f"alexa:{digest}"


@dataclass
class Visit:
    """One request's database session, customer and conversation."""

    db: Session
    clock: Clock
    menus: MenuSource
    user_id: str | None
    customer_id: int | None
    conversation: str
    _menu: Menu | None = field(default=None, repr=False)
    closed: bool = False

    def menu(self) -> Menu:
        """The catalog and index (read once per request)."""
        if self._menu is None:
            self._menu = self.menus(self.db)
        return self._menu

    def turn(self, request: Request | None) -> Reply:
        """One dialogue turn for the linked customer (the dialogue saves its state)."""
        if self.customer_id is None:
            raise RuntimeError("a dialogue turn needs a linked customer")
        menu = self.menu()
        return handle_turn(
            request,
            session_id=self.conversation,
            customer_id=self.customer_id,
            channel=Channel.ALEXA.value,
            db=self.db,
            catalog=menu.catalog,
            index=menu.index,
            clock=self.clock,
            locale=LOCALE,
        )

    def pending(self) -> Pending | None:
        """The question the dialogue is waiting on after the turn (from the saved state)."""
        row = self.db.get(DialogSession, self.conversation)
        return DialogState.from_json(row.state).pending if row is not None else None

    def forget(self) -> None:
        """Delete the conversation's state (the cart stays); commit."""
        begin_write(self.db)
        self.db.execute(delete(DialogSession).where(DialogSession.id == self.conversation))
        self.db.commit()

    def close(self) -> None:
        """Give the database session back (idempotent; anything uncommitted is rolled back)."""
        if not self.closed:
            self.closed = True
            self.db.close()


def visit_of(handler_input: Any) -> Visit:
    """The Visit that LoadVisit put on this request."""
    visit = handler_input.attributes_manager.request_attributes.get(VISIT)
    if not isinstance(visit, Visit):
        raise RuntimeError("no Visit on this request: is LoadVisit registered?")
    return visit


def _system_user(envelope: Any) -> Any:
    system = getattr(getattr(envelope, "context", None), "system", None)
    user = getattr(system, "user", None)
    return user if user is not None else getattr(getattr(envelope, "session", None), "user", None)


class LoadVisit(AbstractRequestInterceptor):
    """Opens the request's Visit: database session, linked customer, conversation key."""

    def __init__(self, sessions: sessionmaker[Session], menus: MenuSource, clock: Clock) -> None:
        self._sessions = sessions
        self._menus = menus
        self._clock = clock

    def process(self, handler_input: Any) -> None:
        """Find the customer of the access token, link the Alexa user, store the Visit."""
        envelope = handler_input.request_envelope
        user = _system_user(envelope)
        user_id = getattr(user, "user_id", None)
        token = getattr(user, "access_token", None)
        session_id = getattr(getattr(envelope, "session", None), "session_id", None)
        db = self._sessions()
        try:
            customer_id = None
            if isinstance(token, str) and token:
                user = user_id if isinstance(user_id, str) else None
                customer_id = customer_for_alexa(db, token, user, clock=self._clock)
                if customer_id is None:
                    logger.info("Alexa request with an unknown or expired access token")
            elif isinstance(user_id, str) and user_id:
                # No token at all: the shopper is not (or no longer) linked.
                forget_alexa_user(db, user_id)
            # End the read transaction: the dialogue's turn starts its own.
            db.commit()
        except BaseException:
            db.close()
            raise
        request_id = getattr(envelope.request, "request_id", "") or ""
        key = conversation_key(str(user_id or ""), str(session_id or request_id))
        handler_input.attributes_manager.request_attributes[VISIT] = Visit(
            db=db,
            clock=self._clock,
            menus=self._menus,
            user_id=user_id if isinstance(user_id, str) else None,
            customer_id=customer_id,
            conversation=key,
        )


class SaveVisit(AbstractResponseInterceptor):
    """Forgets an ended conversation, keeps Alexa's session attributes empty, closes the Visit."""

    def process(self, handler_input: Any, response: Any) -> None:
        """Runs after every handler that returned a response."""
        visit = handler_input.attributes_manager.request_attributes.get(VISIT)
        if not isinstance(visit, Visit):
            return
        try:
            ended = response is not None and response.should_end_session is True
            if ended and visit.customer_id is not None:
                visit.forget()
            if handler_input.request_envelope.session is not None:
                handler_input.attributes_manager.session_attributes = {}
        finally:
            visit.close()


class LogRequest(AbstractRequestInterceptor):
    """One log line per request: type, intent, request id (no user ids, no slot values)."""

    def process(self, handler_input: Any) -> None:
        """Log the incoming request."""
        request = handler_input.request_envelope.request
        intent = getattr(getattr(request, "intent", None), "name", None)
        logger.info(
            "Alexa %s%s (%s)",
            getattr(request, "object_type", "?"),
            f" {intent}" if intent else "",
            getattr(request, "request_id", "?"),
        )


class LogResponse(AbstractResponseInterceptor):
    """One log line per response: directives and whether the session ends."""

    def process(self, handler_input: Any, response: Any) -> None:
        """Log the outgoing response."""
        if response is None:
            return
        directives = [getattr(d, "object_type", "?") for d in response.directives or []]
        logger.info(
            "Alexa response (%s): end=%s directives=%s card=%s",
            getattr(handler_input.request_envelope.request, "request_id", "?"),
            response.should_end_session,
            directives,
            getattr(response.card, "object_type", None),
        )
