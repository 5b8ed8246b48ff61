"""The interaction model and skill manifest, generated from the catalog (skill-package/ for `ask`).

`write_skill_package` writes skill-package/skill.json and
skill-package/interactionModels/custom/en-US.json, refusing (ModelError) when the result breaks
one of Alexa's rules (skills/rules.py).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from catalog.errors import VoiceCartError
from catalog.model import Catalog, OptionGroup
from catalog.numbers import spell_number
from skills import rules
from skills.intents import (
    INTENTS,
    OPTION_PLACEHOLDER,
    PRODUCT_TYPE,
    SECOND_OPTION_PLACEHOLDER,
    STATIC_TYPES,
    STORE_TYPE,
    IntentSpec,
    SlotSpec,
    ValueSpec,
    option_slot_name,
    option_type_name,
)

logger = logging.getLogger(__name__)

LOCALE = "en-US"
_SYMBOLS = {"&": " and ", "+": " plus ", "%": " percent ", "@": " at ", "#": " number "}


class ModelError(VoiceCartError):
    """The generated model would not build on Alexa; `problems` lists why."""

    status_code = 422

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("interaction model problems:\n" + "\n".join(self.problems))


def number_words(number: int) -> str:
    """An integer spelled out in English words ("twenty one"), for 0 to 999,999."""
    return spell_number(number)


_ORDINAL_ENDINGS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def ordinal_words(number: int) -> str:
    """An ordinal spelled out ("twenty first"), for 0 to 999,999."""
    *head, last = number_words(number).split()
    if last in _ORDINAL_ENDINGS:
        last = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _numbers(match: re.Match[str]) -> str:
    """Spoken words for a run of digits, ordinal when it ends in st/nd/rd/th."""
    digits, suffix = match.group(1)[:6], match.group(2)
    return f" {ordinal_words(int(digits)) if suffix else number_words(int(digits))} "


def spoken(text: str) -> str:
    """What a shopper says for a catalog name: ASCII, lowercase, numbers spelled out."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    for symbol, words in _SYMBOLS.items():
        folded = folded.replace(symbol, words)
    folded = re.sub(r"(\d+)(st|nd|rd|th)?\b", _numbers, folded)
    folded = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()[:6]))} ", folded)
    folded = folded.replace("’", "'")
    folded = re.sub(r"[^a-z' ]+", " ", folded)
    folded = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", folded)  # keep only word-internal apostrophes
    return " ".join(folded.split())


def invocation_name_for(name: str) -> str:
    """The invocation name for a store name (the shopper says "Alexa, open bench cafe")."""
    return spoken(name)


def _value(value_id: str, name: str, synonyms: Iterable[str]) -> dict[str, Any]:
    """One slot type value, with its spoken name and distinct spoken synonyms."""
    words = spoken(name)
    others = [s for s in dict.fromkeys(spoken(s) for s in synonyms) if s and s != words]
    entry: dict[str, Any] = {"value": words}
    if others:
        entry["synonyms"] = others
    return {"id": value_id, "name": entry}


def slot_types(catalog: Catalog) -> list[dict[str, Any]]:
    """The custom slot types: products, stores, one per option group, and the fixed ones."""
    products = [
        _value(p.id, p.name, (*p.aliases, *([f"{p.brand} {p.name}"] if p.brand else [])))
        for p in catalog.products.values()
    ]
    stores = [_value(s.id, s.name, ()) for s in catalog.stores]
    types = [{"name": PRODUCT_TYPE, "values": products}, {"name": STORE_TYPE, "values": stores}]
    for group in catalog.option_groups.values():
        values = [_value(c.id, c.name, c.aliases) for c in group.choices]
        types.append({"name": option_type_name(group.id), "values": values})
    for name, fixed in STATIC_TYPES.items():
        types.append({"name": name, "values": [_static(v) for v in fixed]})
    return types


def _static(value: ValueSpec) -> dict[str, Any]:
    return _value(str(value.id), value.name, value.synonyms)


def _expand(template: str, groups: list[OptionGroup]) -> list[str]:
    """A template's samples: one per option group (or ordered pair) when it names options."""
    if OPTION_PLACEHOLDER not in template:
        return [template]
    wanted = [g for g in groups if g.amounts] if "{amount}" in template else groups
    if SECOND_OPTION_PLACEHOLDER in template:
        return [
            template.replace(OPTION_PLACEHOLDER, "{" + option_slot_name(a.id) + "}").replace(
                SECOND_OPTION_PLACEHOLDER, "{" + option_slot_name(b.id) + "}"
            )
            for a, b in itertools.permutations(wanted, 2)
        ]
    return [
        template.replace(OPTION_PLACEHOLDER, "{" + option_slot_name(g.id) + "}") for g in wanted
    ]


def intent_slots(spec: IntentSpec, catalog: Catalog) -> list[SlotSpec]:
    """The intent's slots, plus one slot per option group when it takes options."""
    slots = list(spec.slots)
    if spec.options:
        slots += [
            SlotSpec(option_slot_name(g.id), option_type_name(g.id))
            for g in catalog.option_groups.values()
        ]
    return slots


def _intent(spec: IntentSpec, catalog: Catalog) -> dict[str, Any]:
    """One intent of the language model."""
    groups = list(catalog.option_groups.values())
    samples = [s for t in spec.samples for s in _expand(t, groups)]
    slots = [
        {"name": s.name, "type": s.type, **({"samples": list(s.samples)} if s.samples else {})}
        for s in intent_slots(spec, catalog)
    ]
    return {"name": spec.name, "slots": slots, "samples": list(dict.fromkeys(samples))}


def _prompt_id(spec: IntentSpec, slot: SlotSpec) -> str:
    return f"Elicit.Slot.{spec.name}.{slot.name}"


def _dialog(catalog: Catalog) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The dialog model (Alexa asks for missing required slots) and its prompts."""
    intents: list[dict[str, Any]] = []
    prompts: list[dict[str, Any]] = []
    for spec in INTENTS:
        required = [s for s in spec.slots if s.required]
        if not required and not spec.dialog:
            continue
        slots = []
        for slot in intent_slots(spec, catalog):
            entry: dict[str, Any] = {
                "name": slot.name,
                "type": slot.type,
                "elicitationRequired": slot.required,
                "confirmationRequired": False,
                "prompts": {},
            }
            if slot.required:
                entry["prompts"] = {"elicitation": _prompt_id(spec, slot)}
                variations = [{"type": "PlainText", "value": text} for text in slot.prompts]
                prompts.append({"id": _prompt_id(spec, slot), "variations": variations})
            slots.append(entry)
        intents.append(
            {
                "name": spec.name,
                "delegationStrategy": "ALWAYS",
                "confirmationRequired": False,
                "prompts": {},
                "slots": slots,
            }
        )
    return {"intents": intents, "delegationStrategy": "SKILL_RESPONSE"}, prompts


def build_interaction_model(catalog: Catalog, *, invocation_name: str) -> dict[str, Any]:
    """The en-US interaction model document for this catalog."""
    dialog, prompts = _dialog(catalog)
    return {
        "interactionModel": {
            "languageModel": {
                "invocationName": invocation_name,
                "intents": [_intent(spec, catalog) for spec in INTENTS],
                "types": slot_types(catalog),
            },
            "dialog": dialog,
            "prompts": prompts,
        }
    }


def build_manifest(
    catalog: Catalog,
    *,
    endpoint: str,
    invocation_name: str,
    ssl_certificate_type: str = "Trusted",
) -> dict[str, Any]:
    """skill.json: a custom skill on an HTTPS endpoint that may send order-status notifications."""
    store = catalog.stores[0]
    https = {"uri": endpoint, "sslCertificateType": ssl_certificate_type}
    return {
        "manifest": {
            "manifestVersion": "1.0",
            "publishingInformation": {
                "locales": {
                    LOCALE: {
                        "name": store.name,
                        "summary": f"Order from {store.name} by voice.",
                        "description": (
                            f"Order from {store.name} by voice: add items, check out for "
                            "pickup and hear when your order is ready. You pay at the store."
                        ),
                        "examplePhrases": [
                            f"Alexa, open {invocation_name}",
                            f"Alexa, ask {invocation_name} what's in my cart",
                            f"Alexa, ask {invocation_name} is my order ready",
                        ],
                        "keywords": ["order", "pickup", "shopping"],
                    }
                },
                "isAvailableWorldwide": False,
                "distributionCountries": ["US"],
                "testingInstructions": "Link an account, add an item, check out for pickup.",
            },
            "apis": {"custom": {"endpoint": https, "interfaces": []}},
            "permissions": [{"name": "alexa::devices:all:notifications:write"}],
            "events": {
                "publications": [{"eventName": "AMAZON.OrderStatus.Updated"}],
                "endpoint": https,
            },
            "privacyAndCompliance": {
                "allowsPurchases": True,
                "usesPersonalInfo": True,
                "isChildDirected": False,
                "isExportCompliant": True,
                "containsAds": False,
            },
        }
    }


def write_skill_package(
    catalog: Catalog,
    out: Path,
    *,
    endpoint: str,
    invocation_name: str | None = None,
) -> list[Path]:
    """Write skill.json and the en-US model under `out`; ModelError if Alexa would refuse them."""
    if not catalog.stores:
        raise ModelError(["the catalog has no store to name the skill after"])
    name = invocation_name or invocation_name_for(catalog.stores[0].name)
    model = build_interaction_model(catalog, invocation_name=name)
    problems = rules.check_model(model)
    if not endpoint.startswith("https://"):
        problems.append(f"the skill endpoint must be an https:// URL: {endpoint!r}")
    if problems:
        raise ModelError(problems)
    manifest = build_manifest(catalog, endpoint=endpoint, invocation_name=name)
    written = []
    for path, document in (
        (out / "skill.json", manifest),
        (out / "interactionModels" / "custom" / f"{LOCALE}.json", model),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    logger.info("wrote the skill package for %r to %s", name, out)
    return written
