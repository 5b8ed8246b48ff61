"""Expected Requests for recorded audio: VoiceCart's YAML labels and the barista JSON adapter.

Our own format (docs/eval.md) is YAML, one entry per audio file, in the parser's fixture style:

    labels:
      large_oat_latte.wav:
        intent: add_items
        items:
          - product: latte
            quantity: 1
            options: {size: large, milk: {choice: oat, amount: light}}

The barista set (shared/data/barista/dev-labels.json) labels slots instead of catalog ids:
{"file.wav": {"intent": "orderDrink", "slots": {"coffeeDrink": "iced mocha",
"milkAmount": "a bit of soy milk", ...}}}. `from_barista` maps those onto whatever catalog is
loaded: the drink through the product matcher, every other slot through the catalog's own option
phrases (amount words included), with the slot's name choosing between groups that share a word
("medium" is a size and a roast). Nothing in it names a file, a drink or a choice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalog.match import ProductIndex
from catalog.model import Amount, Catalog
from catalog.options import canon, find_mentions
from catalog.request import Intent, OptionValue
from catalog.segment import words

BARISTA_INTENTS: Mapping[str, Intent] = {"orderDrink": Intent.ADD_ITEMS}
"""The barista set's intent names, as ours."""
PRODUCT_SLOTS = frozenset({"coffeeDrink", "drink", "product"})
"""Slot names that carry the product rather than an option."""


class LabelError(ValueError):
    """A labels file is malformed or names something the catalog does not have."""


@dataclass(frozen=True)
class ExpectedItem:
    """One line the shopper asked for: product id, quantity and options by group id."""

    product_id: str
    quantity: float = 1
    options: Mapping[str, OptionValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Expected:
    """What one recording should be understood as."""

    intent: Intent
    items: tuple[ExpectedItem, ...] = ()


def load_labels(path: Path, catalog: Catalog) -> dict[str, Expected]:
    """Read labels by suffix: .yaml/.yml is our format, .json the barista set's."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return from_barista(json.loads(text), catalog)
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        raise LabelError(f"{path}: expected a mapping with a 'labels' mapping")
    return {str(name): _read_entry(str(name), raw, catalog) for name, raw in data["labels"].items()}


def dump_labels(labels: Mapping[str, Expected]) -> str:
    """Our YAML format for these labels (the inverse of load_labels)."""
    out: dict[str, Any] = {}
    for name, expected in labels.items():
        entry: dict[str, Any] = {"intent": expected.intent.value}
        if expected.items:
            entry["items"] = [_dump_item(item) for item in expected.items]
        out[name] = entry
    return yaml.safe_dump({"labels": out}, sort_keys=False)


def _dump_item(item: ExpectedItem) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for group, value in item.options.items():
        plain = value.amount is Amount.REGULAR
        options[group] = (
            value.choice if plain else {"choice": value.choice, "amount": value.amount.value}
        )
    row: dict[str, Any] = {"product": item.product_id, "quantity": item.quantity}
    if options:
        row["options"] = options
    return row


def _read_entry(name: str, raw: object, catalog: Catalog) -> Expected:
    if not isinstance(raw, dict):
        raise LabelError(f"{name}: expected a mapping with 'intent' and 'items'")
    try:
        intent = Intent(raw.get("intent", Intent.ADD_ITEMS.value))
    except ValueError:
        raise LabelError(f"{name}: unknown intent {raw.get('intent')!r}") from None
    items = tuple(_read_item(name, row, catalog) for row in raw.get("items") or [])
    return Expected(intent, items)


def _read_item(name: str, row: object, catalog: Catalog) -> ExpectedItem:
    if not isinstance(row, dict) or "product" not in row:
        raise LabelError(f"{name}: each item needs a 'product'")
    product = catalog.product(str(row["product"]))
    if product is None:
        raise LabelError(f"{name}: product {row['product']!r} is not in the catalog")
    options: dict[str, OptionValue] = {}
    for group_id, spec in (row.get("options") or {}).items():
        choice, amount = (spec, "regular") if isinstance(spec, str) else _choice_spec(name, spec)
        group = catalog.group(str(group_id))
        if group is None or group.choice(str(choice)) is None:
            raise LabelError(f"{name}: option {group_id}={choice!r} is not in the catalog")
        try:
            options[str(group_id)] = OptionValue(str(choice), Amount(amount))
        except ValueError:
            raise LabelError(f"{name}: unknown amount {amount!r}") from None
    return ExpectedItem(product.id, float(row.get("quantity", 1)), options)


def _choice_spec(name: str, spec: object) -> tuple[str, str]:
    if not isinstance(spec, dict) or "choice" not in spec:
        raise LabelError(f"{name}: an option is a choice id or {{choice: id, amount: level}}")
    return str(spec["choice"]), str(spec.get("amount", "regular"))


def from_barista(data: Mapping[str, Any], catalog: Catalog) -> dict[str, Expected]:
    """The barista set's {file: {intent, slots}} as Expected Requests over `catalog`."""
    index = ProductIndex.from_catalog(catalog)
    out: dict[str, Expected] = {}
    for name, raw in data.items():
        intent = BARISTA_INTENTS.get(str(raw.get("intent")))
        if intent is None:
            raise LabelError(f"{name}: unknown barista intent {raw.get('intent')!r}")
        slots: Mapping[str, str] = raw.get("slots") or {}
        products = [text for slot, text in slots.items() if slot in PRODUCT_SLOTS]
        if len(products) != 1:
            raise LabelError(f"{name}: expected one drink slot, got {products}")
        matches = index.match(products[0], limit=1)
        if not matches:
            raise LabelError(f"{name}: the catalog has no product for {products[0]!r}")
        options = {}
        for slot, text in slots.items():
            if slot not in PRODUCT_SLOTS:
                group, value = slot_option(slot, text, catalog)
                options[group] = value
        out[str(name)] = Expected(intent, (ExpectedItem(matches[0].product_id, 1, options),))
    return out


def slot_option(slot: str, text: str, catalog: Catalog) -> tuple[str, OptionValue]:
    """One labelled slot ("milkAmount": "a bit of soy milk") as (group id, OptionValue).

    The slot text must be one option phrase of the catalog, amount words and all. When its
    words name choices of several groups, the group the slot's name mentions wins.
    """
    tokens = words(text)
    mentions = find_mentions(tokens, tuple(catalog.option_groups.values()))
    if len(mentions) != 1 or mentions[0].start != 0 or mentions[0].end != len(tokens):
        raise LabelError(f"slot {slot}={text!r} is not one option phrase of the catalog")
    mention = mentions[0]
    candidates = list(mention.candidates)
    if len({g for g, _ in candidates}) > 1:
        named = [c for c in candidates if _slot_names_group(slot, c[0], catalog)]
        candidates = named or candidates
    if len({g for g, _ in candidates}) > 1:
        raise LabelError(f"slot {slot}={text!r} could be any of {candidates}")
    group, choice = candidates[0]
    return group, OptionValue(choice, mention.amount)


def _slot_names_group(slot: str, group_id: str, catalog: Catalog) -> bool:
    """Whether a slot's name ("numberOfShots") holds a word of the group's id or name."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|[_-]", " ", slot).lower()
    said = {canon(w) for w in spaced.split()}
    group = catalog.group(group_id)
    names = f"{group_id} {group.name if group else ''}".replace("-", " ").lower().split()
    return bool(said & {canon(w) for w in names})
