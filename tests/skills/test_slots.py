"""skills/slots.py: intents with slots and entity resolution, as Alexa sends them, -> Request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.format import load_catalog
from catalog.match import ProductIndex
from catalog.model import Amount, Catalog
from catalog.request import Intent, OptionValue, ReorderTarget, Request
from skills.slots import AlexaIntent, Heard, read_intent, time_words, to_request
from tests.skills.flows import BENCH
from tests.skills.shopping import COFFEE, Alexa


@pytest.fixture(scope="module")
def coffee() -> Catalog:
    return load_catalog(COFFEE)


@pytest.fixture(scope="module")
def bench() -> Catalog:
    return load_catalog(BENCH)


def parsed_intent(catalog: Catalog, name: str, *, confirmation: str = "NONE", **values: str) -> Any:
    """The ask-sdk Intent object of a real envelope, deserialised as the SDK does."""
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model import RequestEnvelope

    alexa = Alexa(lambda envelope: {}, catalog)
    intent = alexa.intent_json(name, confirmation=confirmation, **values)
    envelope = alexa.envelope({"type": "IntentRequest", "intent": intent})
    return DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope).request.intent


def request(catalog: Catalog, name: str, *, confirmation: str = "NONE", **values: str) -> Request:
    """The Request the skill makes of this intent."""
    intent = read_intent(parsed_intent(catalog, name, confirmation=confirmation, **values))
    return to_request(intent, catalog=catalog, index=ProductIndex.from_catalog(catalog))


def test_read_intent_keeps_filled_slots_and_resolved_ids(coffee: Catalog) -> None:
    intent = read_intent(parsed_intent(coffee, "AddItemsIntent", product="latte", quantity="2"))
    assert intent.name == "AddItemsIntent"
    assert dict(intent.slots) == {
        "product": Heard("product", "latte", ("latte",)),
        "quantity": Heard("quantity", "2"),
    }
    assert intent.confirmation == "NONE"


def test_a_resolved_product_with_a_quantity(coffee: Catalog) -> None:
    got = request(coffee, "AddItemsIntent", product="latte", quantity="2")
    assert got.intent is Intent.ADD_ITEMS
    [item] = got.items
    assert (item.product_id, item.quantity, item.ambiguous, item.spoken) == (
        "latte",
        2,
        False,
        "latte",
    )
    assert got.text == "2 latte"
    assert got.unmatched == ()


def test_a_synonym_of_two_products_is_ambiguous(bench: Catalog) -> None:
    [item] = request(bench, "AddItemsIntent", product="muffin").items
    assert item.ambiguous
    assert {item.product_id, *item.alternatives} == {"blueberry-muffin", "chocolate-muffin"}


def test_words_entity_resolution_did_not_match_go_through_the_parser(coffee: Catalog) -> None:
    got = request(
        coffee, "AddItemsIntent", product="grande oat latte with an extra shot", pickup_time="08:30"
    )
    [item] = got.items
    assert item.product_id == "latte"
    assert dict(item.options) == {
        "size": OptionValue("grande"),
        "milk": OptionValue("oat"),
        "shots": OptionValue("double"),  # shots take no amounts: one more than a single
    }
    assert got.time_query == "at 8:30"


def test_resolved_options_and_the_amount_go_to_the_group_that_takes_amounts(
    coffee: Catalog,
) -> None:
    got = request(
        coffee,
        "AddItemsIntent",
        product="latte",
        option_size="venti",
        option_milk="almond milk",
        amount="extra",
    )
    [item] = got.items
    assert dict(item.options) == {
        "size": OptionValue("venti"),
        "milk": OptionValue("almond", Amount.EXTRA),
    }


def test_option_words_entity_resolution_missed_are_matched_against_the_group(
    coffee: Catalog,
) -> None:
    [item] = request(coffee, "AddItemsIntent", product="latte", option_milk="soya").items
    assert dict(item.options) == {"milk": OptionValue("soy")}


def test_an_option_nothing_resolves_goes_to_the_parser_with_its_amount(coffee: Catalog) -> None:
    got = request(coffee, "AddItemsIntent", product="latte", option_shots="shot", amount="extra")
    [item] = got.items
    assert item.product_id == "latte"
    assert dict(item.options) == {"shots": OptionValue("double")}


def test_options_alone_answer_what_size(bench: Catalog) -> None:
    got = request(bench, "AddItemsIntent", option_size="large")
    [item] = got.items
    assert item.product_id is None
    assert dict(item.options) == {"size": OptionValue("large")}
    assert got.text == "large"


def test_two_products_and_the_options_go_with_the_first(coffee: Catalog) -> None:
    got = request(
        coffee,
        "AddItemsIntent",
        product="latte",
        quantity="2",
        product_two="croissant",
        quantity_two="3",
        option_milk="oat",
    )
    assert [(i.product_id, i.quantity, dict(i.options)) for i in got.items] == [
        ("latte", 2, {"milk": OptionValue("oat")}),
        ("butter-croissant", 3, {}),
    ]


def test_a_number_alexa_could_not_read_is_ignored(coffee: Catalog) -> None:
    [item] = request(coffee, "AddItemsIntent", product="latte", quantity="?").items
    assert item.quantity == 1


def test_a_product_nothing_knows_is_unmatched(coffee: Catalog) -> None:
    got = request(coffee, "AddItemsIntent", product="pepperoni pizza")
    assert got.items == ()
    assert got.unmatched == ("pepperoni pizza",)
    assert got.text == "pepperoni pizza"


def test_an_answer_by_position_keeps_its_words(bench: Catalog) -> None:
    got = request(bench, "AddItemsIntent", product="the second one")
    assert got.text == "the second one"
    assert [i.product_id for i in got.items] == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("08:30", "at 8:30"),
        ("20:05", "at 20:05"),
        ("00:15", "at 0:15"),
        ("12:00", "at 12:00"),
        ("MO", None),
        ("EV", None),
        ("25:00", None),
        ("soon", None),
    ],
)
def test_alexa_times_become_pickup_words(value: str, words: str | None) -> None:
    assert time_words(value) == words


def test_checkout_reads_time_store_and_fulfilment(coffee: Catalog) -> None:
    got = request(
        coffee,
        "CheckoutIntent",
        pickup_time="09:15",
        store="voicecart coffee harbor avenue",
        fulfilment="pick up",
    )
    assert got.intent is Intent.CHECKOUT
    assert (got.time_query, got.store_query, got.fulfilment) == (
        "at 9:15",
        "VoiceCart Coffee Harbor Avenue",
        "pickup",
    )
    assert got.text == ""


def test_a_store_entity_resolution_missed_keeps_the_spoken_words(coffee: Catalog) -> None:
    got = request(coffee, "StoreInfoIntent", store="the one on main street")
    assert got.store_query == "the one on main street"


@pytest.mark.parametrize(
    ("values", "target", "products"),
    [
        ({"reorder": "usual"}, ReorderTarget.USUAL, []),
        ({"reorder": "the usual"}, ReorderTarget.USUAL, []),
        ({"reorder": "last time"}, ReorderTarget.LAST, []),
        ({}, ReorderTarget.LAST, []),
        ({"product": "latte"}, ReorderTarget.PRODUCT, ["latte"]),
    ],
)
def test_reorder_targets(
    coffee: Catalog, values: dict[str, str], target: ReorderTarget, products: list[str]
) -> None:
    got = request(coffee, "ReorderIntent", **values)
    assert got.intent is Intent.REORDER
    assert got.reorder is target
    assert [i.product_id for i in got.items] == products


def test_a_special_request_on_its_own_is_the_turns_note(coffee: Catalog) -> None:
    got = request(coffee, "SpecialRequestIntent", request="lid")
    assert (got.intent, got.note, got.items) == (Intent.ADD_ITEMS, "no lid", ())


def test_a_special_request_may_name_its_item(coffee: Catalog) -> None:
    got = request(coffee, "SpecialRequestIntent", request="lid on the latte")
    assert got.note == "no lid"
    assert got.note_for is not None
    assert got.note_for.product_id == "latte"


def test_a_special_request_an_option_says_is_that_option(coffee: Catalog) -> None:
    got = request(coffee, "SpecialRequestIntent", request="whip")
    assert got.note is None
    [item] = got.items
    assert (item.product_id, item.options["whip"].choice) == (None, "no-whip")


def test_a_spoken_pin_is_text_for_the_open_question(coffee: Catalog) -> None:
    got = request(coffee, "PinIntent", pin="4321")
    assert (got.intent, got.text) == (Intent.UNKNOWN, "4321")


@pytest.mark.parametrize(
    ("status", "intent"), [("CONFIRMED", Intent.CONFIRM), ("DENIED", Intent.DENY)]
)
def test_a_confirmed_or_denied_intent_is_yes_or_no(
    coffee: Catalog, status: str, intent: Intent
) -> None:
    got = request(coffee, "CheckoutIntent", confirmation=status, pickup_time="08:30")
    assert got == Request(intent)


@pytest.mark.parametrize(
    ("name", "intent"),
    [
        ("AMAZON.YesIntent", Intent.CONFIRM),
        ("AMAZON.NoIntent", Intent.DENY),
        ("AMAZON.StopIntent", Intent.CANCEL),
        ("AMAZON.CancelIntent", Intent.CANCEL),
        ("AMAZON.HelpIntent", Intent.HELP),
        ("AMAZON.FallbackIntent", Intent.UNKNOWN),
        ("ReadCartIntent", Intent.READ_CART),
        ("OrderStatusIntent", Intent.ORDER_STATUS),
    ],
)
def test_intents_without_slots_carry_no_words(coffee: Catalog, name: str, intent: Intent) -> None:
    assert request(coffee, name) == Request(intent)


def test_an_intent_the_model_does_not_have_is_unknown(coffee: Catalog) -> None:
    intent = AlexaIntent("SurpriseIntent", {"x": Heard("x", "y")})
    got = to_request(intent, catalog=coffee, index=ProductIndex.from_catalog(coffee))
    assert got == Request(Intent.UNKNOWN)


def test_the_first_authority_that_matched_gives_the_ids(coffee: Catalog) -> None:
    """A dynamic-entities authority that missed does not hide the static one that matched."""
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model.intent import Intent as SdkIntent

    raw = {
        "name": "AddItemsIntent",
        "confirmationStatus": "NONE",
        "slots": {
            "product": {
                "name": "product",
                "value": "flat white",
                "confirmationStatus": "NONE",
                "resolutions": {
                    "resolutionsPerAuthority": [
                        {
                            "authority": "amzn1.er-authority.echo-sdk.dynamic.x.PRODUCT",
                            "status": {"code": "ER_SUCCESS_NO_MATCH"},
                        },
                        {
                            "authority": "amzn1.er-authority.echo-sdk.x.PRODUCT",
                            "status": {"code": "ER_SUCCESS_MATCH"},
                            "values": [{"value": {"name": "flat white", "id": "flat-white"}}],
                        },
                    ]
                },
            }
        },
    }
    intent = DefaultSerializer().deserialize(json.dumps(raw), SdkIntent)
    assert read_intent(intent).slots["product"].ids == ("flat-white",)
