"""Catalog format version 1 (YAML/JSON): loading, every validation rule, file-type dispatch."""

from __future__ import annotations

import dataclasses
import time
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from catalog.demo import DEMO_CATALOGS
from catalog.errors import CatalogError
from catalog.format import load_catalog, parse_catalog
from catalog.model import Catalog

CATALOGS = Path(__file__).resolve().parent.parent / "fixtures" / "catalogs"
INVALID = CATALOGS / "invalid"


def problems_of(path: Path) -> list[tuple[int | None, str]]:
    """(line, field) of every problem that loading this file reports."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return [(p.line, p.field) for p in caught.value.problems]


def test_barista_menu_loads_as_it_is(shared_dir: Path) -> None:
    catalog = load_catalog(shared_dir / "data" / "barista" / "menu.yaml")
    assert len(catalog.products) == 10
    assert list(catalog.option_groups) == ["size", "roast", "shots", "milk", "sweetener"]
    (store,) = catalog.stores
    assert (store.id, store.timezone, store.pickup) == ("bench-cafe", "America/Vancouver", True)
    assert store.hours.always_open
    size = catalog.option_groups["size"]
    assert not size.required
    eight = size.choice("8oz")
    assert eight is not None
    assert eight.aliases == ("eight ounce", "eight oz")
    assert catalog.option_groups["milk"].amounts
    latte = catalog.products["latte"]
    assert latte.price == 450
    assert latte.options == ("size", "roast", "shots", "milk", "sweetener")


def test_valid_fixture_reads_every_field() -> None:
    catalog = load_catalog(CATALOGS / "valid.yaml")
    corner, kiosk = catalog.stores
    assert corner.name == "Corner Café"
    assert corner.address == "1 Main Street, Springfield"
    assert corner.phone == "+1 555-0100"
    assert corner.tax_rate == Decimal("0.0875")
    assert corner.pickup
    assert not kiosk.pickup
    hours = corner.hours
    assert not hours.always_open
    assert hours.ranges(0) == ((clock(7), clock(19)),)
    assert hours.ranges(4) == ((clock(7), clock(12)), (clock(13), clock(23)))
    assert hours.ranges(5) == ((clock(18), clock.max),)
    assert hours.ranges(6) == ((clock(0), clock(2)),)  # Saturday night's spill; Sunday closed
    assert kiosk.hours.ranges(3) == ((clock(0), clock.max),)
    size, syrup = catalog.option_groups["size"], catalog.option_groups["syrup"]
    assert size.required
    assert size.max == 1
    assert not size.amounts
    assert [c.price_delta for c in size.choices] == [-50, 0, 75]
    assert syrup.max == 2
    assert syrup.amounts
    latte = catalog.products["latte"]
    assert (latte.brand, latte.size, latte.category) == ("Corner Café", "12 oz", "Coffee")
    assert latte.aliases == ("cafe latte", "caffe latte")
    assert latte.tags == ("hot", "espresso")
    assert latte.defaults == {"size": "medium"}
    assert latte.stores is None
    assert catalog.products["muffin"].stores == ("corner",)
    assert catalog.products["1001"].name == "Bottled Water"  # a numeric id is read as text
    assert catalog.prep_minutes_for(latte) == 3
    assert catalog.prep_minutes_for(catalog.products["muffin"]) == 1
    assert catalog.currency == "USD"
    assert catalog.source == str(CATALOGS / "valid.yaml")


def test_json_equivalent_loads_the_same_catalog() -> None:
    from_yaml = load_catalog(CATALOGS / "valid.yaml")
    from_json = load_catalog(CATALOGS / "valid.json")
    assert dataclasses.replace(from_json, source="") == dataclasses.replace(from_yaml, source="")


def test_parse_catalog_takes_parsed_data() -> None:
    data = yaml.safe_load((CATALOGS / "valid.yaml").read_text(encoding="utf-8"))
    parsed = parse_catalog(data, source="inline")
    assert parsed.source == "inline"
    assert dataclasses.replace(parsed, source="") == dataclasses.replace(
        load_catalog(CATALOGS / "valid.yaml"), source=""
    )


def test_parse_catalog_without_lines_gives_no_line_and_with_lines_uses_them() -> None:
    data = {"format": 1, "currency": "USD", "store": {"id": "s", "name": "S"}, "products": [{}]}
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data, source="api")
    assert {(p.file, p.line) for p in caught.value.problems} == {("api", None)}
    assert {p.field for p in caught.value.problems} == {
        "products[0].id",
        "products[0].name",
        "products[0].price",
    }
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data, source="api", lines={("products", 0): 7})
    assert {p.line for p in caught.value.problems} == {7}


INVALID_CASES = [
    # file, line, field, what the message must say
    (
        "unknown_option_group.yaml",
        17,
        "products[0].options[1]",
        "unknown option group 'milc' (did you mean 'milk'?)",
    ),
    ("duplicate_product_id.yaml", 18, "products[1].id", "duplicate product id 'latte'"),
    ("duplicate_group_id.yaml", 11, "option_groups[1].id", "duplicate option group id 'size'"),
    (
        "duplicate_choice_id.yaml",
        15,
        "option_groups[1].choices[1].id",
        "duplicate choice id 'whole'",
    ),
    ("duplicate_store_id.yaml", 6, "stores[1].id", "duplicate store id 'corner'"),
    ("negative_price.yaml", 18, "products[1].price", "must be at least 0, got -300"),
    ("fractional_price.yaml", 18, "products[1].price", "whole cents"),
    ("price_below_zero_with_choices.yaml", 17, "products[0].price", "below zero"),
    (
        "default_not_a_choice.yaml",
        17,
        "products[0].defaults.size",
        "'huge' is not a choice of group 'size'",
    ),
    ("default_group_not_offered.yaml", 17, "products[0].defaults.milk", "does not offer 'milk'"),
    ("unknown_store_in_availability.yaml", 18, "products[1].stores[1]", "unknown store 'kiosk'"),
    ("bad_hours.yaml", 9, "store.hours.mon", "'7am to 8pm' is not a time range"),
    ("overlapping_hours.yaml", 9, "store.hours.fri", "overlap"),
    ("unknown_day.yaml", 9, "store.hours.tues", "did you mean 'tue'?"),
    ("bad_timezone.yaml", 4, "store.timezone", "did you mean 'America/Vancouver'?"),
    ("bad_tax_rate.yaml", 4, "store.tax_rate", "write 0.0875"),
    ("missing_required.yaml", 18, "products[1].name", "missing required field"),
    ("wrong_type.yaml", 13, "option_groups[1].required", "must be true or false"),
    ("aliases_not_a_list.yaml", 18, "products[1].aliases", "must be a list"),
    ("unknown_top_level_key.yaml", 5, "option_group", "did you mean 'option_groups'?"),
    ("unknown_product_key.yaml", 18, "products[1].catgory", "did you mean 'category'?"),
    ("comma_in_name.yaml", 18, "products[1].Blueberry", "a comma inside unquoted text?"),
    ("bad_format_version.yaml", 2, "format", "this VoiceCart reads format 1"),
    ("bad_currency.yaml", 3, "currency", "not an ISO 4217 code"),
    ("max_above_choices.yaml", 13, "option_groups[1].max", "the group has 2 choices"),
    (
        "prep_minutes_unknown_category.yaml",
        16,
        "prep_minutes.Coffe",
        "no product has category 'Coffe'",
    ),
    ("store_and_stores.yaml", 5, "stores", "not both"),
    ("duplicate_key.yaml", 21, "products[1].price", "duplicate key"),
    ("syntax_error.yaml", 19, "(file)", "flow mapping that starts on line 18"),
    ("unknown_option_group.json", 13, "products[0].options[0]", "unknown option group 'milc'"),
    ("syntax_error.json", 6, "(file)", "not valid JSON"),
]


@pytest.mark.parametrize(("name", "line", "field", "fragment"), INVALID_CASES)
def test_invalid_file_names_file_line_and_field(
    name: str, line: int, field: str, fragment: str
) -> None:
    path = INVALID / name
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    expected = f"{path}:{line}: {field}: "
    lines = caught.value.detail.splitlines()
    assert any(text.startswith(expected) and fragment in text for text in lines), lines


def test_every_problem_is_reported_at_once() -> None:
    assert problems_of(INVALID / "many_problems.yaml") == [
        (3, "currency"),
        (4, "store.timezone"),
        (4, "store.pickup"),
        (8, "option_groups[0].max"),
        (11, "option_groups[0].choices[1].id"),
        (13, "products[0].options[1]"),
        (13, "products[0].defaults.size"),
        (14, "products[1].id"),
        (15, "products[2].name"),
        (15, "products[2].price"),
        (15, "products[2].stores[0]"),
        (16, "products[3].colour"),
        (16, "products[3].id"),
    ]


def test_one_bad_product_rejects_the_whole_demo_file(tmp_path: Path) -> None:
    text = DEMO_CATALOGS["grocery"].read_text(encoding="utf-8").rstrip("\n")
    bad = tmp_path / "grocery.yaml"
    bad.write_text(text + "\n  - {id: extra, name: Extra, price: 100, options: [size]}\n")
    line = text.count("\n") + 2
    assert problems_of(bad) == [
        (line, f"products[{len(load_catalog(DEMO_CATALOGS['grocery']).products)}].options[0]")
    ]


def test_anchors_and_aliases_are_followed(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "format: 1\ncurrency: EUR\nstore: {id: s, name: S}\n"
        "option_groups:\n  - {id: size, name: Size, choices: [{id: s, name: Small}]}\n"
        "products:\n"
        "  - {id: a, name: A, price: 100, options: &drink [size]}\n"
        "  - {id: b, name: B, price: 200, options: *drink}\n",
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    assert catalog.products["b"].options == ("size",)


def test_a_list_that_contains_itself_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("format: 1\ncurrency: USD\nstore: {id: s, name: S}\nproducts: &p [*p]\n")
    assert problems_of(path) == [(4, "products[0]")]


def test_nested_aliases_are_not_expanded_when_finding_lines(tmp_path: Path) -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(["format: 1", "currency: USD", *rows]) + "\n", encoding="utf-8")
    started = time.perf_counter()
    problems = problems_of(path)
    assert time.perf_counter() - started < 2.0
    assert problems[:2] == [(1, "products"), (1, "store")]  # missing: the line of the mapping
    assert problems[2:] == [(line, f"a{line - 3}") for line in range(3, 12)]


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "must be a mapping (key: value pairs), got nothing"), ("- a\n- b\n", "got a list")],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "top.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"top\.yml(:1)?: \(top level\): ") as caught:
        load_catalog(path)
    assert message in caught.value.detail


def test_unknown_file_type_names_the_file_and_the_expected_types(tmp_path: Path) -> None:
    path = tmp_path / "menu.txt"
    path.write_text("format: 1\n", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.detail == (
        f"{path}: (file): unknown file type .txt: expected .yaml, .yml, .json or .csv"
    )


def test_missing_and_undecodable_files_are_catalog_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"nothere\.yaml: \(file\): No such file"):
        load_catalog(tmp_path / "nothere.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("format: 1\nname: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog(latin)


def test_csv_is_dispatched_by_its_header() -> None:
    voicecart = load_catalog(CATALOGS / "products.csv")
    instacart = load_catalog(CATALOGS / "instacart" / "products.csv")
    assert voicecart.products["oj-tropicana"].price == 499
    assert instacart.products["24852"].price is None
    assert instacart.products["24852"].category == "produce"


def test_load_catalog_accepts_a_str_path() -> None:
    assert isinstance(load_catalog(str(CATALOGS / "valid.yaml")), Catalog)


def test_the_documented_examples_load(tmp_path: Path) -> None:
    doc = (CATALOGS.parent.parent.parent / "docs" / "catalog-format.md").read_text(encoding="utf-8")
    example_yaml = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text(example_yaml, encoding="utf-8")
    catalog = load_catalog(tmp_path / "example.yaml")
    assert catalog.products["latte"].defaults == {"size": "grande", "milk": "two-percent"}
    example_csv = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.csv").write_text(example_csv, encoding="utf-8")
    assert load_catalog(tmp_path / "example.csv").products["tp-charmin"].price is None


def test_a_bad_or_missing_id_does_not_hide_the_other_fields() -> None:
    data = {
        "format": 1,
        "currency": "USD",
        "store": {"id": "s", "name": "S"},
        "option_groups": [{"id": "bad id", "name": 1, "choices": [{"id": None, "name": True}]}],
        "products": [
            {"id": "bad id", "name": 5, "price": 1},
            {"id": None, "name": "X", "price": 1},
        ],
    }
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data, source="api")
    assert [(p.field, p.message.split(",")[0]) for p in caught.value.problems] == [
        ("option_groups[0].id", "'bad id' is not a valid id: use letters"),
        ("option_groups[0].choices[0].id", "missing required field"),
        ("option_groups[0].choices[0].name", "must be text"),
        ("option_groups[0].name", "must be text"),
        ("products[0].id", "'bad id' is not a valid id: use letters"),
        ("products[0].name", "must be text"),
        ("products[1].id", "missing required field"),
    ]
