"""The order parser against the YAML utterance cases, and its public API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.demo import load_demo_catalog
from catalog.format import load_catalog
from catalog.match import DEFAULT_SCORE_CUTOFF, Match, ProductIndex
from catalog.model import Amount, Catalog
from catalog.parse import COMMAND_WORDS, index_for, parse
from catalog.request import Intent, Item, ReorderTarget, Request

CASES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "parse"
KNOWN_FAILURES_FILE = CASES_DIR / "known_failures.yaml"
MIN_CASES = 400


@dataclass(frozen=True)
class Case:
    """One utterance and what parsing it must give."""

    source: str
    catalog: str
    text: str
    expected: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        """What names a case in the known-failures list."""
        return (self.catalog, self.text)


def load_cases() -> list[Case]:
    """Every case of every intent file, with the file's intent as the default."""
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        if path == KNOWN_FAILURES_FILE:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            expected = {"intent": data["intent"], **raw}
            cases.append(Case(path.stem, raw["catalog"], str(raw["text"]), expected))
    return cases


def load_known_failures() -> dict[tuple[str, str], str]:
    """(catalog, text) -> why the parser gets it wrong today."""
    data = yaml.safe_load(KNOWN_FAILURES_FILE.read_text(encoding="utf-8")) or []
    return {(row["catalog"], str(row["text"])): row["reason"] for row in data}


CASES = load_cases()
KNOWN = load_known_failures()


@pytest.fixture(scope="session")
def catalogs(request: pytest.FixtureRequest) -> Callable[[str], Catalog]:
    """Demo catalogs by name; "barista" is the shared benchmark menu (skips when absent)."""
    loaded: dict[str, Catalog] = {}

    def get(name: str) -> Catalog:
        if name not in loaded:
            if name == "barista":
                shared: Path = request.getfixturevalue("shared_dir")
                loaded[name] = load_catalog(shared / "data" / "barista" / "menu.yaml")
            else:
                loaded[name] = load_demo_catalog(name)
        return loaded[name]

    return get


def option_diffs(item: Item, expected: Mapping[str, Any]) -> list[str]:
    """Differences between an item's options and {group: choice or {choice, amount}}."""
    wanted = {}
    for group, value in expected.items():
        spec = {"choice": value} if isinstance(value, str) else value
        wanted[group] = (spec["choice"], spec.get("amount", "regular"))
    have = {g: (v.choice, v.amount.value) for g, v in item.options.items()}
    return [] if have == wanted else [f"options {have} != {wanted}"]


def item_diffs(item: Item, expected: Mapping[str, Any]) -> list[str]:
    """Differences between one item and its expected form."""
    diffs = []
    product = expected.get("product")
    allowed = product if isinstance(product, list) else [product]
    if item.product_id not in allowed:
        diffs.append(f"product {item.product_id} not in {allowed}")
    if isinstance(product, list):
        offered = {item.product_id, *item.alternatives}
        if not set(product) & offered - {item.product_id} and len(product) > 1:
            diffs.append(f"no other of {product} among alternatives {item.alternatives}")
    if item.quantity != pytest.approx(expected.get("quantity", 1)):
        diffs.append(f"quantity {item.quantity} != {expected.get('quantity', 1)}")
    if item.unit != expected.get("unit"):
        diffs.append(f"unit {item.unit} != {expected.get('unit')}")
    if "ambiguous" in expected and item.ambiguous != expected["ambiguous"]:
        diffs.append(f"ambiguous {item.ambiguous} != {expected['ambiguous']}")
    if item.note != expected.get("note"):
        diffs.append(f"note {item.note!r} != {expected.get('note')!r}")
    return diffs + option_diffs(item, expected.get("options", {}))


def request_diffs(request: Request, expected: Mapping[str, Any]) -> list[str]:
    """Everything in which a parsed request differs from the expected one."""
    diffs = []
    if request.intent != Intent(expected["intent"]):
        diffs.append(f"intent {request.intent.value} != {expected['intent']}")
    reorder = expected.get("reorder")
    if request.reorder != (ReorderTarget(reorder) if reorder else None):
        diffs.append(f"reorder {request.reorder} != {reorder}")
    wanted_items = expected.get("items", [])
    if len(request.items) != len(wanted_items):
        diffs.append(f"{len(request.items)} items != {len(wanted_items)}: {request.items}")
    for item, wanted in zip(request.items, wanted_items, strict=False):
        diffs.extend(item_diffs(item, wanted))
    if list(request.unmatched) != expected.get("unmatched", []):
        diffs.append(f"unmatched {request.unmatched} != {expected.get('unmatched', [])}")
    if request.note != expected.get("note"):
        diffs.append(f"note {request.note!r} != {expected.get('note')!r}")
    named = request.note_for.product_id if request.note_for is not None else None
    if named != expected.get("note_for"):
        diffs.append(f"note_for {named} != {expected.get('note_for')}")
    for name in ("fulfilment", "time_query", "store_query"):
        if name in expected and getattr(request, name) != expected[name]:
            diffs.append(f"{name} {getattr(request, name)} != {expected[name]}")
    return diffs


def case_id(case: Case) -> str:
    """A readable test id."""
    return f"{case.source}:{case.catalog}:{case.text[:60]}"


@pytest.mark.parametrize("case", [c for c in CASES if c.key not in KNOWN], ids=case_id)
def test_utterance(case: Case, catalogs: Callable[[str], Catalog]) -> None:
    """Each utterance parses to its expected Request."""
    request = parse(case.text, catalogs(case.catalog))
    assert request_diffs(request, case.expected) == []


@pytest.mark.parametrize("case", [c for c in CASES if c.key in KNOWN], ids=case_id)
def test_known_failure(case: Case, catalogs: Callable[[str], Catalog]) -> None:
    """Known failures still fail; when one passes, move it out of known_failures.yaml."""
    request = parse(case.text, catalogs(case.catalog))
    with pytest.raises(AssertionError):
        assert request_diffs(request, case.expected) == []


def test_case_counts() -> None:
    """At least 400 cases over both demo catalogs, with every intent covered."""
    assert len(CASES) >= MIN_CASES
    assert {c.catalog for c in CASES} >= {"grocery", "coffee", "barista"}
    assert {Intent(c.expected["intent"]) for c in CASES} == set(Intent)


def test_known_failures_name_real_cases() -> None:
    """Every known failure is one of the cases (no stale entries)."""
    keys = {c.key for c in CASES}
    assert [k for k in KNOWN if k not in keys] == []


def test_request_keeps_the_text_it_came_from() -> None:
    """Request.text is the utterance as given, punctuation and all."""
    catalog = load_demo_catalog("coffee")
    assert parse("A Latte, please!", catalog).text == "A Latte, please!"


def test_items_say_what_was_spoken() -> None:
    """Item.spoken holds the item's own words, for confirmations and reports."""
    request = parse("a large latte and a blueberry muffin", load_demo_catalog("coffee"))
    assert [i.spoken for i in request.items] == ["a large latte", "a blueberry muffin"]


class RecordingIndex(ProductIndex):
    """A real index that also records the history each query was given."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog.products.values())
        self.histories: list[Mapping[str, int] | None] = []

    def match(
        self,
        text: str,
        *,
        limit: int = 5,
        score_cutoff: float = DEFAULT_SCORE_CUTOFF,
        history: Mapping[str, int] | None = None,
        store_id: str | None = None,
    ) -> list[Match]:
        """Record the history, then match as usual."""
        self.histories.append(history)
        return super().match(
            text, limit=limit, score_cutoff=score_cutoff, history=history, store_id=store_id
        )


def test_history_goes_to_the_matcher() -> None:
    """Purchase history is handed to every product lookup as the matcher's bias."""
    catalog = load_demo_catalog("grocery")
    index = RecordingIndex(catalog)
    history = {"paper-towels-viva": 12}
    parse("two paper towels and a dozen eggs", catalog, history=history, index=index)
    assert index.histories
    assert all(h == history for h in index.histories)


def test_an_index_passed_in_is_used() -> None:
    """A prebuilt index is used as given (callers cache theirs); it decides the product."""
    catalog = load_demo_catalog("grocery")
    only_viva = ProductIndex([p for p in catalog.products.values() if p.brand == "Viva"])
    request = parse("paper towels", catalog, index=only_viva)
    assert [i.product_id for i in request.items] == ["paper-towels-viva"]


def test_index_is_cached_per_catalog() -> None:
    """index_for builds once per catalog object, and anew for another object."""
    catalog = load_demo_catalog("coffee")
    assert index_for(catalog) is index_for(catalog)
    assert index_for(load_demo_catalog("coffee")) is not index_for(catalog)


def test_command_words_cover_cues_amounts_numbers_and_fillers() -> None:
    """COMMAND_WORDS holds the words speech engines should expect besides the catalog's."""
    for word in ("checkout", "remove", "usual", "dozen", "couple", "lots", "without", "um"):
        assert word in COMMAND_WORDS
    assert all(w == w.lower() and " " not in w for w in COMMAND_WORDS)


def test_empty_and_filler_only_utterances_are_unknown() -> None:
    """Nothing said, or only fillers, is unknown rather than an empty order."""
    catalog = load_demo_catalog("coffee")
    for text in ("", "   ", "um, uh", "..."):
        assert parse(text, catalog) == Request(Intent.UNKNOWN, text=text)


def test_amounts_are_amount_values() -> None:
    """Options carry Amount members, not bare strings."""
    request = parse("a latte with lots of vanilla", load_demo_catalog("coffee"))
    assert request.items[0].options["syrup"].amount is Amount.EXTRA
