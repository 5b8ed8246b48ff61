"""The generated interaction model and manifest: layout, Alexa's rules, coverage of the intents."""

from __future__ import annotations

import argparse
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from catalog.model import Catalog, Choice, OptionGroup, Product, Store
from catalog.request import Intent
from skills import rules
from skills.intents import (
    INTENTS,
    REQUIRED_BUILTINS,
    identifier,
    intent_spec,
    option_slot_name,
    option_type_name,
)
from skills.interaction import (
    ModelError,
    build_interaction_model,
    build_manifest,
    number_words,
    spoken,
    write_skill_package,
)

ENDPOINT = "https://shop.example.org/alexa"
# What Alexa accepts in a sample: lowercase words, apostrophes, single spaces, {slot} references.
SAMPLE = re.compile(r"(?:[a-z']+|\{[A-Za-z_]+\})(?: (?:[a-z']+|\{[A-Za-z_]+\}))*")


def make_catalog(
    *, store_name: str = "Corner Deli & Cafe", products: tuple[Product, ...] = ()
) -> Catalog:
    """A small catalog with awkward names: digits, accents, symbols, brands, hyphenated ids."""
    size = OptionGroup(
        "cup-size",
        "Cup Size",
        (Choice("12oz", "12 oz", ("twelve ounce",)), Choice("large", "Large")),
    )
    milk = OptionGroup(
        "milk",
        "Milk",
        (Choice("oat", "Oat Milk", ("oat", "oatly")), Choice("soy", "Soy Milk")),
        amounts=True,
    )
    default_products = (
        Product(
            "latte",
            "Café Latte",
            450,
            aliases=("latte", "caffe latte"),
            options=("cup-size", "milk"),
        ),
        Product("7up", "7 Up", 199, aliases=("seven up",)),
        Product("mac", "Mac & Cheese", 899, brand="Annie's"),
        Product("pb", "Peanut-Butter Cookie", 250, aliases=("pb cookie", "P.B. cookie")),
    )
    return Catalog(
        currency="USD",
        stores=(Store("s1", store_name, pickup=True), Store("s2", "Uptown 2nd Street")),
        option_groups={"cup-size": size, "milk": milk},
        products={p.id: p for p in products or default_products},
    )


@pytest.fixture
def model() -> dict[str, Any]:
    return build_interaction_model(make_catalog(), invocation_name="corner deli")


def language(model: dict[str, Any]) -> dict[str, Any]:
    return dict(model["interactionModel"]["languageModel"])


def intents_by_name(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {intent["name"]: intent for intent in language(model)["intents"]}


def type_values(model: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    [slot_type] = [t for t in language(model)["types"] if t["name"] == name]
    return {value["id"]: value["name"] for value in slot_type["values"]}


def test_generated_model_passes_alexas_rules(model: dict[str, Any]) -> None:
    assert rules.check_model(model) == []


def test_every_sample_is_spoken_words_and_declared_slots(model: dict[str, Any]) -> None:
    for intent in language(model)["intents"]:
        declared = {slot["name"] for slot in intent["slots"]}
        for sample in intent["samples"]:
            assert SAMPLE.fullmatch(sample), sample
            assert not re.search(r"\d", sample), sample
            assert set(re.findall(r"\{(\w+)\}", sample)) <= declared, sample


def test_samples_are_many_and_unique_across_intents(model: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    for intent in language(model)["intents"]:
        if not intent["name"].startswith("AMAZON."):
            assert len(intent["samples"]) >= 12, intent["name"]
        for sample in intent["samples"]:
            assert sample not in seen, (sample, seen.get(sample), intent["name"])
            seen[sample] = intent["name"]


def test_model_has_every_spec_intent_and_slot(model: dict[str, Any]) -> None:
    by_name = intents_by_name(model)
    assert list(by_name) == [spec.name for spec in INTENTS]
    assert set(by_name) >= REQUIRED_BUILTINS
    for spec in INTENTS:
        slots = {slot["name"]: slot["type"] for slot in by_name[spec.name]["slots"]}
        for slot in spec.slots:
            assert slots[slot.name] == slot.type


def test_every_request_intent_has_an_alexa_intent() -> None:
    assert {spec.intent for spec in INTENTS} == set(Intent)


def test_option_groups_become_slots_types_and_samples(model: dict[str, Any]) -> None:
    add = intents_by_name(model)["AddItemsIntent"]
    slots = {slot["name"]: slot["type"] for slot in add["slots"]}
    assert slots["option_cup_size"] == "OPTION_CUP_SIZE"
    assert slots["option_milk"] == "OPTION_MILK"
    assert "a {product} with {option_milk}" in add["samples"]
    assert "a {option_cup_size} {product}" in add["samples"]
    assert "a {option_cup_size} {product} with {option_milk}" in add["samples"]
    # amounts only for groups that take them
    assert "a {product} with {amount} {option_milk}" in add["samples"]
    assert "a {product} with {amount} {option_cup_size}" not in add["samples"]
    assert type_values(model, "OPTION_CUP_SIZE")["12oz"] == {
        "value": "twelve oz",
        "synonyms": ["twelve ounce"],
    }
    assert option_slot_name("2nd-milk") == "option_two_nd_milk"
    assert option_type_name("cup-size") == "OPTION_CUP_SIZE"
    assert identifier("Cup Size 2") == "cup_size_two"


def test_product_values_keep_ids_and_speak_names_and_aliases(model: dict[str, Any]) -> None:
    products = type_values(model, "PRODUCT")
    assert products["latte"] == {"value": "cafe latte", "synonyms": ["latte", "caffe latte"]}
    assert products["7up"] == {"value": "seven up"}  # the alias is the same words: not repeated
    assert products["mac"] == {"value": "mac and cheese", "synonyms": ["annie's mac and cheese"]}
    assert products["pb"] == {
        "value": "peanut butter cookie",
        "synonyms": ["pb cookie", "p b cookie"],
    }
    assert type_values(model, "STORE")["s2"] == {"value": "uptown second street"}


def test_dialog_model_elicits_missing_required_slots(model: dict[str, Any]) -> None:
    interaction = model["interactionModel"]
    dialog = {intent["name"]: intent for intent in interaction["dialog"]["intents"]}
    prompts = {prompt["id"]: prompt for prompt in interaction["prompts"]}
    add_product = {s["name"]: s for s in dialog["AddItemsIntent"]["slots"]}["product"]
    assert add_product["elicitationRequired"] is True
    elicit = prompts[add_product["prompts"]["elicitation"]]
    assert elicit["variations"][0] == {"type": "PlainText", "value": "What would you like?"}
    assert dialog["AddItemsIntent"]["delegationStrategy"] == "ALWAYS"
    quantity = {s["name"]: s for s in dialog["SetQuantityIntent"]["slots"]}["quantity"]
    assert quantity["elicitationRequired"] is True
    # Checkout and reorder are in the dialog model for the skill's ConfirmIntent/ElicitSlot.
    assert set(dialog) == {
        "AddItemsIntent",
        "RemoveItemsIntent",
        "SetQuantityIntent",
        "CheckoutIntent",
        "ReorderIntent",
    }
    checkout = {s["name"]: s for s in dialog["CheckoutIntent"]["slots"]}
    assert not any(slot["elicitationRequired"] for slot in checkout.values())
    product_slot = {s["name"]: s for s in intents_by_name(model)["AddItemsIntent"]["slots"]}
    assert "{quantity} {product}" in product_slot["product"]["samples"]


def test_write_skill_package_uses_the_ask_cli_layout(tmp_path: Path) -> None:
    written = write_skill_package(
        make_catalog(store_name="Bench Cafe"), tmp_path, endpoint=ENDPOINT
    )
    assert written == [tmp_path / "skill.json", tmp_path / "interactionModels/custom/en-US.json"]
    model = json.loads(written[1].read_text())
    assert language(model)["invocationName"] == "bench cafe"
    manifest = json.loads(written[0].read_text())["manifest"]
    assert manifest["apis"]["custom"]["endpoint"] == {
        "uri": ENDPOINT,
        "sslCertificateType": "Trusted",
    }
    assert {"name": "alexa::devices:all:notifications:write"} in manifest["permissions"]
    assert manifest["events"]["publications"] == [{"eventName": "AMAZON.OrderStatus.Updated"}]
    assert manifest["events"]["endpoint"]["uri"] == ENDPOINT
    assert manifest["publishingInformation"]["locales"]["en-US"]["name"] == "Bench Cafe"


def test_barista_menu_generates_a_valid_package(shared_dir: Path, tmp_path: Path) -> None:
    from catalog.format import load_catalog

    catalog = load_catalog(shared_dir / "data" / "barista" / "menu.yaml")
    written = write_skill_package(catalog, tmp_path, endpoint=ENDPOINT)
    model = json.loads(written[1].read_text())
    assert rules.check_model(model) == []
    assert language(model)["invocationName"] == "bench cafe"
    assert set(type_values(model, "PRODUCT")) == set(catalog.products)
    assert type_values(model, "OPTION_SIZE")["16oz"]["value"] == "sixteen oz"


@pytest.mark.parametrize(
    ("store_name", "problem"),
    [("Echo Coffee", "may not contain echo"), ("Deli", "two words"), ("Open Kitchen", "open")],
)
def test_unusable_store_names_are_refused_with_the_reason(
    tmp_path: Path, store_name: str, problem: str
) -> None:
    with pytest.raises(ModelError, match=problem):
        write_skill_package(make_catalog(store_name=store_name), tmp_path, endpoint=ENDPOINT)
    assert not (tmp_path / "skill.json").exists()
    written = write_skill_package(
        make_catalog(store_name=store_name),
        tmp_path,
        endpoint=ENDPOINT,
        invocation_name="corner deli",
    )
    assert (
        json.loads(written[1].read_text())["interactionModel"]["languageModel"]["invocationName"]
        == "corner deli"
    )


def test_products_that_sound_the_same_are_refused(tmp_path: Path) -> None:
    twins = (Product("a", "Mac & Cheese", 1), Product("b", "mac and cheese", 1))
    with pytest.raises(ModelError, match="a and b are both 'mac and cheese'"):
        write_skill_package(make_catalog(products=twins), tmp_path, endpoint=ENDPOINT)


def test_plain_http_endpoint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="https"):
        write_skill_package(make_catalog(), tmp_path, endpoint="http://shop.example.org/alexa")


def test_manifest_declares_notifications_and_the_publication() -> None:
    manifest = build_manifest(make_catalog(), endpoint=ENDPOINT, invocation_name="corner deli")
    phrases = manifest["manifest"]["publishingInformation"]["locales"]["en-US"]["examplePhrases"]
    assert phrases[0] == "Alexa, open corner deli"


@pytest.mark.parametrize(
    ("sample", "problem"),
    [
        ("add 2 {product}", "digits"),
        ("add {product}!", "characters"),
        ("add {flavour}", "undeclared slot"),
        ("{product} and {product}", "twice"),
        ("Add {product}", "lowercase"),
        ("add  {product}", "extra spaces"),
        ("add {product", "stray brace"),
        ("add 'em {product}", "apostrophe"),
        ("add " + "very " * 50 + "{product}", "longer than"),
    ],
)
def test_invalid_samples_are_caught(sample: str, problem: str) -> None:
    found = rules.check_sample(sample, ["product", "quantity"])
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    "sample", ["add {product}", "i'd like {quantity} {product}", "{product}", "a u. s. {product}"]
)
def test_valid_samples_pass(sample: str) -> None:
    assert rules.check_sample(sample, ["product", "quantity"]) is None


def test_model_level_problems_are_all_reported(model: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(model))
    intents = language(broken)["intents"]
    by_name = {intent["name"]: intent for intent in intents}
    by_name["ReadCartIntent"]["samples"].append("check out")  # also a CheckoutIntent sample
    by_name["StoreInfoIntent"]["slots"].append({"name": "bad", "type": "NOPE"})
    broken["interactionModel"]["languageModel"]["intents"] = [
        i for i in intents if i["name"] != "AMAZON.NavigateHomeIntent"
    ]
    broken["interactionModel"]["prompts"] = []
    problems = "\n".join(rules.check_model(broken))
    assert "'check out' is in both" in problems
    assert "undefined type NOPE" in problems
    assert "AMAZON.NavigateHomeIntent" in problems
    assert "has no prompt" in problems


def test_a_phrase_slot_needs_a_carrier_and_stands_alone(model: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(model))
    by_name = {intent["name"]: intent for intent in language(broken)["intents"]}
    special = by_name["SpecialRequestIntent"]
    assert {slot["type"] for slot in special["slots"]} == {"AMAZON.SearchQuery"}
    special["slots"].append({"name": "quantity", "type": "AMAZON.NUMBER"})
    special["samples"] += ["{request}", "{quantity} without {request}"]
    problems = "\n".join(rules.check_model(broken))
    assert "'{request}': a phrase slot needs a carrier phrase" in problems
    assert "'{quantity} without {request}': a phrase slot must be the sample's only" in problems


def test_intent_spec_lookup() -> None:
    spec = intent_spec("AddItemsIntent")
    assert spec is not None
    assert spec.intent is Intent.ADD_ITEMS
    assert spec.options
    assert intent_spec("NoSuchIntent") is None


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (21, "twenty one"),
        (100, "one hundred"),
        (2024, "two thousand twenty four"),
    ],
)
def test_number_words(number: int, words: str) -> None:
    assert number_words(number) == words


def test_spoken_names() -> None:
    assert spoken("21st Century Roast") == "twenty first century roast"
    assert spoken("40th Street 12th") == "fortieth street twelfth"
    assert spoken("Crème Brûlée") == "creme brulee"
    assert spoken("Ben & Jerry’s 16oz") == "ben and jerry's sixteen oz"
    assert spoken("'quoted' rock'n'roll") == "quoted rock'n'roll"


def test_cli_writes_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from server.cli import alexa

    catalog = tmp_path / "menu.json"
    catalog.write_text(
        json.dumps(
            {
                "format": 1,
                "currency": "USD",
                "store": {"id": "bench", "name": "Bench Cafe"},
                "products": [{"id": "latte", "name": "Latte", "price": 450}],
            }
        )
    )
    parser = argparse.ArgumentParser()
    alexa.register(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "skill-package"
    args = parser.parse_args(["alexa", "model", "--catalog", str(catalog), "--out", str(out)])
    assert args.func(args) == 0
    assert (out / "skill.json").is_file()
    assert (out / "interactionModels" / "custom" / "en-US.json").is_file()
    captured = capsys.readouterr()
    assert "invocation name 'bench cafe'" in captured.out
    assert "placeholder" in captured.err


def test_voicecart_main_reports_model_problems_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import server.__main__ as cli

    # Only our command group: the others are built by other modules and tested there.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("server.cli.alexa",))
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)  # keep pytest's log setup
    catalog = tmp_path / "menu.json"
    catalog.write_text(
        json.dumps(
            {
                "format": 1,
                "currency": "USD",
                "store": {"id": "echo", "name": "Echo Coffee"},
                "products": [{"id": "latte", "name": "Latte", "price": 450}],
            }
        )
    )
    out = tmp_path / "pkg"
    assert cli.main(["alexa", "model", "--catalog", str(catalog), "--out", str(out)]) == 1
    assert "may not contain echo" in capsys.readouterr().err
    assert not out.exists()
    argv = ["alexa", "model", "--catalog", str(catalog), "--out", str(out)]
    assert cli.main([*argv, "--invocation-name", "corner coffee"]) == 0
    assert (out / "skill.json").is_file()
