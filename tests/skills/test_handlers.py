"""The handlers against the interaction model, the response shape, interceptors and errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from catalog.format import load_catalog
from catalog.model import Catalog
from orders.catalog_store import CatalogCache
from orders.dialog import Reply
from orders.dialog_state import Pending, PendingKind
from skills.handlers import INTENT_HANDLERS, handler_for
from skills.handlers_reply import dialog_directive, reprompt_of, respond, ssml
from skills.intents import INTENTS
from skills.interaction import build_interaction_model
from skills.slots import reader_for
from tests.orders.database import backend, clock, database_url, empty_url, engine, sessions
from tests.orders.factories import FakeClock, make_catalog
from tests.skills.flows import BENCH
from tests.skills.shopping import COFFEE, REPO, Alexa, Shop, invoke, load_shop

__all__ = ["backend", "clock", "database_url", "empty_url", "engine", "sessions"]

GROCERY = REPO / "catalog" / "data" / "grocery.yaml"


def model_of(catalog: Catalog) -> dict[str, Any]:
    return build_interaction_model(catalog, invocation_name="voicecart test")


def unhandled(model: dict[str, Any]) -> list[str]:
    """Intents of a model without a handler, and slots without a reader."""
    problems = []
    for intent in model["interactionModel"]["languageModel"]["intents"]:
        if handler_for(intent["name"]) is None:
            problems.append(f"intent {intent['name']} has no handler")
        for slot in intent.get("slots", []):
            if reader_for(slot["name"]) is None:
                problems.append(f"slot {intent['name']}.{slot['name']} has no reader")
    return problems


@pytest.mark.parametrize(
    "path", [COFFEE, GROCERY, BENCH, None], ids=["coffee", "grocery", "bench", "factories"]
)
def test_every_intent_has_a_handler_and_every_slot_a_reader(path: Path | None) -> None:
    catalog = load_catalog(path) if path is not None else make_catalog()
    model = model_of(catalog)
    intents = model["interactionModel"]["languageModel"]["intents"]
    assert len(intents) == len(INTENTS)
    options = any(s["name"].startswith("option_") for i in intents for s in i["slots"])
    assert options == bool(catalog.option_groups)
    assert unhandled(model) == []


def test_the_static_check_finds_a_missing_handler_and_a_missing_reader() -> None:
    model = model_of(make_catalog())
    intents = model["interactionModel"]["languageModel"]["intents"]
    intents.append({"name": "SurpriseIntent", "slots": [], "samples": ["surprise me"]})
    intents[0]["slots"].append({"name": "colour", "type": "AMAZON.Color"})
    assert unhandled(model) == [
        "slot AddItemsIntent.colour has no reader",
        "intent SurpriseIntent has no handler",
    ]


def test_every_handler_answers_an_intent_of_the_model() -> None:
    names = {spec.name for spec in INTENTS}
    assert {handler.intent_name for handler in INTENT_HANDLERS} == names
    assert len(INTENT_HANDLERS) == len(names)


@pytest.fixture
def shop(sessions: sessionmaker[Session], clock: FakeClock) -> Shop:
    return load_shop(sessions, clock)


def test_the_built_skill_routes_every_intent_to_its_handler(shop: Shop) -> None:
    """Unlinked, every intent gets its handler's answer; none falls to the catch-all."""
    alexa = Alexa(invoke(shop.skill()), shop.catalog)
    for spec in INTENTS:
        said = alexa.intent(spec.name)
        assert "Sorry, something went wrong" not in said.speech, spec.name
        leaving = spec.name in (
            "AMAZON.StopIntent",
            "AMAZON.CancelIntent",
            "AMAZON.NavigateHomeIntent",
        )
        assert said.speech == "Goodbye!" if leaving else said.card == {"type": "LinkAccount"}


def test_two_skill_instances_share_one_conversation_through_the_database(shop: Shop) -> None:
    """The skill is stateless: any worker can take the next turn of a conversation."""
    customer = shop.shopper()
    token = shop.link(customer).access_token
    first, second = invoke(shop.skill()), invoke(shop.skill())
    turns = iter([first, second, first])
    alexa = Alexa(next(turns), shop.catalog, access_token=token)
    alexa.intent("AddItemsIntent", product="croissant")
    assert alexa.intent("CheckoutIntent").directive("Dialog.ConfirmIntent") is not None
    said = alexa.yes()
    assert said.speech.startswith("Done! Your order number is 1.")


def test_session_attributes_are_never_sent_back(shop: Shop) -> None:
    token = shop.link(shop.shopper()).access_token
    alexa = Alexa(invoke(shop.skill()), shop.catalog, access_token=token)
    envelope = alexa.envelope({"type": "LaunchRequest"})
    envelope["session"]["attributes"] = {"smuggled": "state"}
    body = alexa.send(envelope)
    assert body["sessionAttributes"] == {}
    assert "Welcome" in body["response"]["outputSpeech"]["ssml"]


def test_every_request_gives_its_database_connection_back(shop: Shop, engine: Engine) -> None:
    token = shop.link(shop.shopper()).access_token
    alexa = Alexa(invoke(shop.skill()), shop.catalog, access_token=token)
    alexa.launch()
    alexa.intent("AddItemsIntent", product="latte")
    alexa.end_session()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_requests_and_responses_are_logged_without_user_ids(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    alexa = Alexa(invoke(shop.skill()), shop.catalog, user_id="amzn1.ask.account.SECRET")
    with caplog.at_level(logging.INFO, logger="skills.interceptors"):
        alexa.intent("ReadCartIntent")
    assert "Alexa IntentRequest ReadCartIntent (amzn1.echo-api.request.0001)" in caplog.text
    assert "end=True" in caplog.text
    assert "SECRET" not in caplog.text


@pytest.fixture
def empty_shop(sessions: sessionmaker[Session], clock: FakeClock) -> Iterator[Shop]:
    """A migrated database whose catalog was never loaded."""
    return Shop(sessions, make_catalog(), CatalogCache(), clock)


def test_a_failure_is_logged_apologised_for_and_cleaned_up(
    empty_shop: Shop, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    token = empty_shop.link(empty_shop.shopper(home=None)).access_token
    alexa = Alexa(invoke(empty_shop.skill()), empty_shop.catalog, access_token=token)
    with caplog.at_level(logging.ERROR, logger="skills.handlers_launch"):
        said = alexa.intent("AddItemsIntent", product="latte")
    assert said.speech == "Sorry, something went wrong on our side. Please try again in a moment."
    assert not said.ends
    assert said.reprompt
    assert "CatalogNotLoaded" in caplog.text
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    ended = alexa.end_session("ERROR")
    assert ended.response.get("outputSpeech") is None


def _reply(speech: str, *, asks: bool = True, end: bool = False) -> Reply:
    return Reply(speech, speech, asks, end, None, None, "test")


class _Input:
    """Just enough of ask-sdk's HandlerInput for respond()."""

    def __init__(self, intent: Any) -> None:
        from ask_sdk_core.response_helper import ResponseFactory

        self.response_builder = ResponseFactory()
        self.request_envelope = type(
            "Envelope", (), {"request": type("R", (), {"intent": intent})()}
        )()


def _intent(name: str, *slots: str) -> Any:
    from ask_sdk_model.intent import Intent
    from ask_sdk_model.slot import Slot

    return Intent(name=name, slots={s: Slot(name=s, value="x") for s in slots})


@pytest.mark.parametrize(
    ("kind", "intent", "expected"),
    [
        (PendingKind.CONFIRM_ORDER, "CheckoutIntent", "Dialog.ConfirmIntent"),
        (PendingKind.CONFIRM_ORDER, "AddItemsIntent", None),
        (PendingKind.CONFIRM_REORDER, "ReorderIntent", "Dialog.ConfirmIntent"),
        (PendingKind.CONFIRM_REORDER, "AMAZON.YesIntent", None),
        (PendingKind.PICKUP_TIME, "CheckoutIntent", "Dialog.ElicitSlot"),
        (PendingKind.PICKUP_TIME, "AMAZON.NoIntent", None),
        (PendingKind.DISAMBIGUATE, "AddItemsIntent", "Dialog.ElicitSlot"),
        (PendingKind.SUGGESTION, "AddItemsIntent", None),
        (PendingKind.PIN, "CheckoutIntent", None),
    ],
)
def test_dialog_directives_never_change_the_intent(
    kind: PendingKind, intent: str, expected: str | None
) -> None:
    current = _intent(intent, "product", "pickup_time", "store")
    request = type("R", (), {"intent": current})()
    directive = dialog_directive(Pending(kind), request)
    assert (directive.object_type if directive else None) == expected
    if directive is not None:
        assert directive.updated_intent.name == intent


def test_an_elicited_slot_is_emptied_and_the_others_kept() -> None:
    current = _intent("AddItemsIntent", "product", "option_milk", "option_size")
    request = type("R", (), {"intent": current})()
    directive = dialog_directive(Pending(PendingKind.OPTION, group="size"), request)
    assert directive.slot_to_elicit == "option_size"
    slots = directive.updated_intent.slots
    assert slots["option_size"].value is None
    assert (slots["product"].value, slots["option_milk"].value) == ("x", "x")


def test_speech_is_escaped_for_ssml_and_the_reprompt_is_the_last_question() -> None:
    assert ssml("Breve (Half & Half) <b>") == "Breve (Half &amp; Half) &lt;b&gt;"
    speech = "Added a latte. What size for the Drip Coffee? Small, Medium or Large."
    assert reprompt_of(speech) == "What size for the Drip Coffee? Small, Medium or Large."
    assert reprompt_of("No question here.") == "No question here."


def test_a_reply_becomes_speech_reprompt_and_card() -> None:
    handler_input = _Input(_intent("ReadCartIntent"))
    reply = _reply("You have a Breve & a latte.", asks=False)
    response = respond(handler_input, reply, title="Bench Coffee")
    assert response.output_speech.ssml == (
        "<speak>You have a Breve &amp; a latte. Anything else?</speak>"
    )
    assert response.reprompt is not None
    assert response.should_end_session is False
    assert (response.card.title, response.card.content) == ("Bench Coffee", reply.display)
    ending = respond(_Input(None), _reply("Goodbye!", asks=False, end=True), title="x")
    assert ending.should_end_session is True
    assert ending.reprompt is None


def test_relinking_moves_the_alexa_user_to_the_new_customer(shop: Shop) -> None:
    from sqlalchemy import select

    from orders import tables
    from orders.tables import IdentityKind

    send = invoke(shop.skill())
    first, second = shop.shopper("Ada"), shop.shopper("Bob")
    for customer in (first, second, second):
        token = shop.link(customer).access_token
        Alexa(send, shop.catalog, user_id="amzn1.ask.account.SHARED", access_token=token).launch()
        with shop.sessions() as db:
            owners = list(
                db.scalars(
                    select(tables.Identity.customer_id).where(
                        tables.Identity.kind == IdentityKind.ALEXA_USER
                    )
                )
            )
        assert owners == [customer]


def test_a_user_who_unlinked_in_the_alexa_app_is_forgotten(shop: Shop) -> None:
    """No access token any more: the Alexa user id stops receiving notifications."""
    from sqlalchemy import func, select

    from orders import tables

    send = invoke(shop.skill())
    token = shop.link(shop.shopper()).access_token
    alexa = Alexa(send, shop.catalog, user_id="amzn1.ask.account.LEAVING", access_token=token)
    alexa.launch()

    def identities() -> int:
        with shop.sessions() as db:
            return int(db.scalar(select(func.count()).select_from(tables.Identity)) or 0)

    before = identities()
    alexa.access_token = None
    alexa.new_session("amzn1.echo-api.session.after-unlinking")
    assert alexa.launch().card == {"type": "LinkAccount"}
    assert identities() == before - 1


def test_requests_without_a_handler_get_no_speech(shop: Shop) -> None:
    """System.ExceptionEncountered (Alexa reports an error in our last answer) has no handler."""
    alexa = Alexa(invoke(shop.skill()), shop.catalog)
    said = alexa._send(
        {
            "type": "System.ExceptionEncountered",
            "error": {"type": "INVALID_RESPONSE", "message": "bad directive"},
            "cause": {"requestId": "amzn1.echo-api.request.0001"},
        }
    )
    assert said.response.get("outputSpeech") is None
