"""Alexa's rules for an interaction model: names, invocation name, sample utterances, slot values.

`check_model` returns every problem found (an empty list means Alexa should build the model);
nothing here talks to Amazon. Rules follow the ASK docs for custom interaction models: samples
are spoken words only (no digits, no symbols other than apostrophes and periods in
abbreviations), slots appear as `{name}` at most once per sample, samples are unique across the
model, custom names are ASCII letters and underscores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from skills.intents import REQUIRED_BUILTINS, SEARCH_QUERY

MAX_SAMPLE_CHARS = 200
MAX_INVOCATION_CHARS = 50
_NAME = re.compile(r"[A-Za-z_]+")
_SLOT = re.compile(r"\{([^{}]*)\}")
_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?\.?|[a-z]\.")
_SPOKEN = re.compile(r"[a-z' .]+")
_INVOCATION_BANNED = frozenset(
    {
        "alexa",
        "amazon",
        "echo",
        "computer",
        "skill",
        "app",
        "ask",
        "tell",
        "open",
        "launch",
        "load",
        "begin",
        "enable",
        "start",
        "run",
        "resume",
        "play",
        "use",
    }
)


def check_name(name: str) -> str | None:
    """A problem with a custom intent, slot or slot type name, or None."""
    if not _NAME.fullmatch(name):
        return f"name {name!r} must be ASCII letters and underscores"
    return None


def check_spoken(text: str) -> str | None:
    """A problem with spoken text (a sample without its slots, or a slot value), or None."""
    if not text.strip():
        return "is empty"
    if any(char.isdigit() for char in text):
        return f"{text!r} has digits; Alexa needs numbers spelled out"
    if text != text.lower() or "  " in text or text != text.strip():
        return f"{text!r} must be lowercase words separated by single spaces"
    if not _SPOKEN.fullmatch(text):
        bad = sorted({c for c in text if not _SPOKEN.fullmatch(c)})
        return f"{text!r} has characters Alexa does not accept: {''.join(bad)!r}"
    if not all(_WORDS.fullmatch(word) for word in text.split(" ")):
        return f"{text!r} misuses an apostrophe or a period"
    return None


def check_sample(sample: str, slot_names: Iterable[str]) -> str | None:
    """A problem with one sample utterance of an intent with these slots, or None."""
    if len(sample) > MAX_SAMPLE_CHARS:
        return f"sample {sample!r} is longer than {MAX_SAMPLE_CHARS} characters"
    used = _SLOT.findall(sample)
    undeclared = [slot for slot in used if slot not in set(slot_names)]
    words = _SLOT.sub(" ", sample)
    problem = None
    if undeclared:
        problem = f"uses undeclared slot {{{undeclared[0]}}}"
    elif len(used) != len(set(used)):
        problem = "uses a slot twice"
    elif "{" in words or "}" in words:
        problem = "has a stray brace"
    elif sample != sample.strip() or "  " in sample:
        problem = "has extra spaces"
    else:
        pieces = (piece.strip() for piece in _SLOT.split(sample)[::2] if piece.strip())
        problem = next((p for p in map(check_spoken, pieces) if p), None)
    return None if problem is None else f"sample {sample!r}: {problem}"


def check_invocation_name(name: str) -> str | None:
    """A problem with an invocation name, or None."""
    problem = check_spoken(name)
    if problem:
        return f"invocation name {problem}"
    if not 2 <= len(name) <= MAX_INVOCATION_CHARS:
        return f"invocation name {name!r} must be 2 to {MAX_INVOCATION_CHARS} characters"
    words = name.split()
    banned = _INVOCATION_BANNED.intersection(words)
    if banned:
        return f"invocation name {name!r} may not contain {', '.join(sorted(banned))}"
    if len(words) < 2:
        return f"invocation name {name!r} should have at least two words"
    return None


def check_model(model: Mapping[str, Any]) -> list[str]:
    """Every problem in an interaction model document ({"interactionModel": ...})."""
    language = model["interactionModel"]["languageModel"]
    problems: list[str] = []
    invocation = check_invocation_name(language["invocationName"])
    if invocation:
        problems.append(invocation)
    types = {t["name"]: t for t in language.get("types", [])}
    for slot_type in types.values():
        problems += _check_type(slot_type)
    names = [intent["name"] for intent in language["intents"]]
    missing = REQUIRED_BUILTINS.difference(names)
    if missing:
        problems.append(f"missing required built-in intents: {', '.join(sorted(missing))}")
    if len(names) != len(set(names)):
        problems.append("an intent is declared twice")
    owners: dict[str, str] = {}
    for intent in language["intents"]:
        problems += _check_intent(intent, types, owners)
    problems += _check_dialog(model["interactionModel"], language)
    return problems


def _check_intent(
    intent: Mapping[str, Any], types: Mapping[str, Any], owners: dict[str, str]
) -> list[str]:
    """Problems with one intent; `owners` maps each sample seen so far to its intent."""
    name = intent["name"]
    problems: list[str] = []
    if not name.startswith("AMAZON."):
        problem = check_name(name)
        if problem:
            problems.append(f"intent {problem}")
        if not intent.get("samples"):
            problems.append(f"intent {name} has no samples")
    slot_names = []
    for slot in intent.get("slots", []):
        slot_names.append(slot["name"])
        problem = check_name(slot["name"])
        if problem:
            problems.append(f"{name} slot {problem}")
        if not slot["type"].startswith("AMAZON.") and slot["type"] not in types:
            problems.append(f"{name} slot {slot['name']} has undefined type {slot['type']}")
        for sample in slot.get("samples", []):
            problem = check_sample(sample, [s["name"] for s in intent.get("slots", [])])
            if problem:
                problems.append(f"{name} slot {slot['name']}: {problem}")
    if len(slot_names) != len(set(slot_names)):
        problems.append(f"{name} declares a slot twice")
    phrases = {slot["name"] for slot in intent.get("slots", []) if slot["type"] == SEARCH_QUERY}
    for sample in intent.get("samples", []):
        problem = check_sample(sample, slot_names) or _check_phrase_slot(sample, phrases)
        if problem:
            problems.append(f"{name}: {problem}")
        key = sample.lower()
        if key in owners:
            problems.append(f"sample {sample!r} is in both {owners[key]} and {name}")
        owners[key] = name
    return problems


def _check_phrase_slot(sample: str, phrase_slots: set[str]) -> str | None:
    """An AMAZON.SearchQuery slot needs words of the sample around it, and no other slot."""
    used = _SLOT.findall(sample)
    if not phrase_slots.intersection(used):
        return None
    if len(used) > 1:
        return f"sample {sample!r}: a phrase slot must be the sample's only slot"
    if not _SLOT.sub("", sample).strip():
        return f"sample {sample!r}: a phrase slot needs a carrier phrase"
    return None


def _check_type(slot_type: Mapping[str, Any]) -> list[str]:
    """Problems with one custom slot type's name and values."""
    name = slot_type["name"]
    problems: list[str] = []
    problem = check_name(name)
    if problem:
        problems.append(f"slot type {problem}")
    if not slot_type.get("values"):
        problems.append(f"slot type {name} has no values")
    ids: set[str] = set()
    spoken: dict[str, str] = {}
    for value in slot_type.get("values", []):
        value_id = value.get("id", "")
        if not value_id or value_id in ids:
            problems.append(f"slot type {name}: value id {value_id!r} is empty or repeated")
        ids.add(value_id)
        words = value["name"]["value"]
        for text in (words, *value["name"].get("synonyms", [])):
            problem = check_spoken(text)
            if problem:
                problems.append(f"slot type {name} value {value_id}: {problem}")
        if words in spoken:
            problems.append(f"slot type {name}: {spoken[words]} and {value_id} are both {words!r}")
        spoken[words] = value_id
    return problems


def _check_dialog(interaction: Mapping[str, Any], language: Mapping[str, Any]) -> list[str]:
    """Dialog slots must exist in their intent, and their elicitation prompts must exist."""
    prompts = {p["id"] for p in interaction.get("prompts", [])}
    intents = {i["name"]: {s["name"] for s in i.get("slots", [])} for i in language["intents"]}
    problems: list[str] = []
    for intent in interaction.get("dialog", {}).get("intents", []):
        declared = intents.get(intent["name"])
        if declared is None:
            problems.append(f"dialog intent {intent['name']} is not in the language model")
            continue
        for slot in intent.get("slots", []):
            if slot["name"] not in declared:
                problems.append(f"dialog slot {intent['name']}.{slot['name']} is not declared")
            elicit = slot.get("prompts", {}).get("elicitation")
            if slot.get("elicitationRequired") and elicit not in prompts:
                problems.append(f"dialog slot {intent['name']}.{slot['name']} has no prompt")
    return problems
