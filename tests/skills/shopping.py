"""Shopping through the skill in tests: real envelopes as Alexa sends them, a linked shopper.

`Alexa` plays Alexa's part for one user: it builds RequestEnvelope JSON with every slot the
generated interaction model declares, resolves custom slot values as entity resolution does
(exact value or synonym -> ER_SUCCESS_MATCH with the ids, else ER_SUCCESS_NO_MATCH), and follows
the skill's Dialog directives: after ElicitSlot, `answer()` fills that slot of the updated
intent; after ConfirmIntent, `yes()`/`no()` send that intent CONFIRMED/DENIED (otherwise they
are AMAZON.YesIntent/NoIntent). How an envelope reaches the skill is the `send` callable:
skill.invoke here, a signed HTTP POST in test_alexa_http.py.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from catalog.format import load_catalog
from catalog.model import Catalog
from orders import oauth
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.customers import create_customer
from orders.oauth import OAuthClient
from skills.builder import build_skill
from skills.interaction import build_interaction_model
from tests.orders.factories import FakeClock
from tests.skills.conftest import SKILL_ID, alexa_timestamp

REPO = Path(__file__).resolve().parents[2]
COFFEE = REPO / "catalog" / "data" / "coffee.yaml"
MAIN_STREET = "cafe-main-street"
REDIRECT_URI = "https://pitangui.amazon.com/api/skill/link/M2TESTVENDOR"
LINK_CLIENT = OAuthClient(
    client_id="alexa-skill",
    client_secret="s3cret-for-tests-0123456789",
    redirect_uris=frozenset({REDIRECT_URI}),
)
VERIFIER = "verifier-" + "x" * 50
_TAGS = re.compile(r"<[^>]+>")

Send = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Said:
    """The skill's answer, read the way a test wants it."""

    body: dict[str, Any]

    @property
    def response(self) -> dict[str, Any]:
        """The `response` object."""
        return dict(self.body["response"])

    @property
    def speech(self) -> str:
        """The output speech as text (SSML tags and escapes removed)."""
        return _text(self.response.get("outputSpeech"))

    @property
    def reprompt(self) -> str:
        """The reprompt as text, or ""."""
        return _text((self.response.get("reprompt") or {}).get("outputSpeech"))

    @property
    def ends(self) -> bool:
        """Whether the session ends."""
        return bool(self.response.get("shouldEndSession"))

    @property
    def directives(self) -> list[dict[str, Any]]:
        """The directives."""
        return list(self.response.get("directives") or [])

    @property
    def card(self) -> dict[str, Any]:
        """The card, or {}."""
        return dict(self.response.get("card") or {})

    def directive(self, kind: str) -> dict[str, Any] | None:
        """The first directive of a type ("Dialog.ElicitSlot"), or None."""
        return next((d for d in self.directives if d["type"] == kind), None)


def _text(speech: dict[str, Any] | None) -> str:
    if not speech:
        return ""
    raw = speech.get("ssml") or speech.get("text") or ""
    text = _TAGS.sub("", raw)
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").strip()


def _spoken_ids(model: dict[str, Any]) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Per custom slot type: spoken value or synonym -> [(id, name)], as ER would match it."""
    table: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for slot_type in model["interactionModel"]["languageModel"]["types"]:
        words: dict[str, list[tuple[str, str]]] = {}
        for value in slot_type["values"]:
            name = value["name"]["value"]
            for said in (name, *value["name"].get("synonyms", [])):
                words.setdefault(said, []).append((value["id"], name))
        table[slot_type["name"]] = words
    return table


@dataclass
class Alexa:
    """One Alexa user talking to the skill (see the module docstring)."""

    send: Send
    catalog: Catalog
    user_id: str = "amzn1.ask.account.TESTUSER"
    access_token: str | None = None
    skill_id: str = SKILL_ID
    session_id: str = "amzn1.echo-api.session.0001"
    new: bool = True
    customer_id: int | None = None
    """The linked customer, when the test knows it."""
    refresh_token: str | None = None
    last: Said | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        model = build_interaction_model(self.catalog, invocation_name="voicecart coffee")
        intents = model["interactionModel"]["languageModel"]["intents"]
        self.slots = {i["name"]: {s["name"]: s["type"] for s in i["slots"]} for i in intents}
        self.er = _spoken_ids(model)

    def launch(self) -> Said:
        """ "Alexa, open voicecart coffee"."""
        return self._send({"type": "LaunchRequest"})

    def intent(self, name: str, *, confirmation: str = "NONE", **values: str) -> Said:
        """An IntentRequest; slot values are what Alexa heard (custom ones get resolved)."""
        return self._intent_request(self.intent_json(name, confirmation=confirmation, **values))

    def intent_json(
        self, name: str, *, confirmation: str = "NONE", **values: str
    ) -> dict[str, Any]:
        """The intent object of an IntentRequest, with every slot the model declares."""
        declared = self.slots[name]
        unknown = set(values) - set(declared)
        assert not unknown, f"{name} has no slot {unknown}"
        slots = {slot: self.slot(slot, declared[slot], values.get(slot)) for slot in declared}
        return {"name": name, "confirmationStatus": confirmation, "slots": slots}

    def slot(self, name: str, slot_type: str, value: str | None) -> dict[str, Any]:
        """One slot as Alexa sends it, with entity resolution for custom types."""
        slot: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
        if value is None:
            return slot
        slot.update(value=value, source="USER")
        if slot_type.startswith("AMAZON."):
            return slot
        found = self.er[slot_type].get(value.lower(), [])
        authority = f"amzn1.er-authority.echo-sdk.{self.skill_id}.{slot_type}"
        status = "ER_SUCCESS_MATCH" if found else "ER_SUCCESS_NO_MATCH"
        resolution: dict[str, Any] = {"authority": authority, "status": {"code": status}}
        if found:
            resolution["values"] = [{"value": {"name": n, "id": i}} for i, n in found]
        slot["resolutions"] = {"resolutionsPerAuthority": [resolution]}
        return slot

    def answer(self, value: str) -> Said:
        """Answer the slot the skill elicited (Dialog.ElicitSlot), as Alexa would."""
        assert self.last is not None
        directive = self.last.directive("Dialog.ElicitSlot")
        assert directive is not None, f"no slot was elicited: {self.last.response}"
        intent = json.loads(json.dumps(directive["updatedIntent"]))
        name = directive["slotToElicit"]
        slot_type = self.slots[intent["name"]][name]
        intent.setdefault("slots", {})[name] = self.slot(name, slot_type, value)
        return self._intent_request(intent)

    def yes(self) -> Said:
        """ "Yes": the confirmed intent after ConfirmIntent, else AMAZON.YesIntent."""
        return self._answer_confirmation("CONFIRMED", "AMAZON.YesIntent")

    def no(self) -> Said:
        """ "No": the denied intent after ConfirmIntent, else AMAZON.NoIntent."""
        return self._answer_confirmation("DENIED", "AMAZON.NoIntent")

    def _answer_confirmation(self, status: str, builtin: str) -> Said:
        directive = self.last.directive("Dialog.ConfirmIntent") if self.last else None
        if directive is None:
            return self.intent(builtin)
        intent = json.loads(json.dumps(directive["updatedIntent"]))
        intent["confirmationStatus"] = status
        return self._intent_request(intent)

    def end_session(self, reason: str = "USER_INITIATED") -> Said:
        """Alexa's SessionEndedRequest."""
        return self._send({"type": "SessionEndedRequest", "reason": reason})

    def new_session(self, session_id: str) -> None:
        """The next request starts another session."""
        self.session_id = session_id
        self.new = True
        self.last = None

    def _intent_request(self, intent: dict[str, Any]) -> Said:
        return self._send({"type": "IntentRequest", "dialogState": "COMPLETED", "intent": intent})

    def _send(self, request: dict[str, Any]) -> Said:
        envelope = self.envelope(request)
        self.sent.append(envelope)
        said = Said(self.send(envelope))
        self.new = False
        self.last = said
        return said

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        """The full RequestEnvelope JSON around one request."""
        application = {"applicationId": self.skill_id}
        user: dict[str, Any] = {"userId": self.user_id}
        if self.access_token is not None:
            user["accessToken"] = self.access_token
        return {
            "version": "1.0",
            "session": {
                "new": self.new,
                "sessionId": self.session_id,
                "application": application,
                "attributes": {},
                "user": user,
            },
            "context": {
                "System": {
                    "application": application,
                    "user": user,
                    "device": {"deviceId": "amzn1.ask.device.TEST", "supportedInterfaces": {}},
                    "apiEndpoint": "https://api.amazonalexa.com",
                    "apiAccessToken": "not-used",
                }
            },
            "request": {
                "requestId": f"amzn1.echo-api.request.{next(self._ids):04d}",
                "timestamp": alexa_timestamp(),
                "locale": "en-US",
                **request,
            },
        }


def invoke(skill: Any) -> Send:
    """A Send through skill.invoke, with ask-sdk's own (de)serialisation, as the adapter does."""
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model import RequestEnvelope

    serializer = DefaultSerializer()

    def send(envelope: dict[str, Any]) -> dict[str, Any]:
        parsed = serializer.deserialize(json.dumps(envelope), RequestEnvelope)
        response = skill.invoke(request_envelope=parsed, context=None)
        body: dict[str, Any] = serializer.serialize(response)
        return body

    return send


@dataclass
class Shop:
    """The coffee demo catalog in a migrated database, and a clock."""

    sessions: sessionmaker[Session]
    catalog: Catalog
    catalogs: CatalogCache
    clock: FakeClock

    def skill(self) -> Any:
        """The real skill on this database."""
        return build_skill(sessions=self.sessions, menus=self.catalogs.get, clock=self.clock)

    def shopper(self, name: str = "Ada", *, home: str | None = MAIN_STREET) -> int:
        """A new customer; returns the id."""
        with self.sessions() as db:
            customer, _ = create_customer(db, name=name, home_store_id=home, clock=self.clock)
            return customer.id

    def link(self, customer_id: int) -> oauth.TokenSet:
        """Link the customer as Alexa would (code with PKCE, then tokens)."""
        with self.sessions() as db:
            request = oauth.check_authorization(
                LINK_CLIENT,
                response_type="code",
                client_id=LINK_CLIENT.client_id,
                redirect_uri=REDIRECT_URI,
                scope="",
                state="state",
                code_challenge=oauth.s256_challenge(VERIFIER),
                code_challenge_method="S256",
            )
            code = oauth.issue_code(db, request, customer_id, clock=self.clock)
            tokens = oauth.exchange_code(
                db,
                LINK_CLIENT,
                code=code,
                redirect_uri=REDIRECT_URI,
                code_verifier=VERIFIER,
                clock=self.clock,
            )
            return tokens

    def refresh(self, refresh_token: str) -> str:
        """A new access token, as Alexa gets one when the old one expired."""
        with self.sessions() as db:
            tokens = oauth.refresh_access(
                db, LINK_CLIENT, refresh_token=refresh_token, clock=self.clock
            )
            return tokens.access_token


def load_shop(sessions: sessionmaker[Session], clock: FakeClock, path: Path = COFFEE) -> Shop:
    """Load a catalog file (the coffee demo by default) and read it back as the service sees it."""
    with sessions() as db:
        load_catalog_into(db, load_catalog(path), source=str(path), clock=clock)
        catalogs = CatalogCache()
        catalog = catalogs.get(db).catalog
    return Shop(sessions, catalog, catalogs, clock)


@pytest.fixture
def shop(sessions: sessionmaker[Session], clock: FakeClock) -> Shop:
    """The coffee shop on the test database (SQLite, and PostgreSQL when configured)."""
    return load_shop(sessions, clock)
