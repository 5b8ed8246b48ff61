"""CSV catalogs: the VoiceCart products CSV and the Instacart-style adapter."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from catalog.csvformat import (
    DEFAULT_STORE,
    clean_instacart_name,
    load_instacart_csv,
    load_products_csv,
    read_header,
)
from catalog.errors import CatalogError
from catalog.model import Store

CATALOGS = Path(__file__).resolve().parent.parent / "fixtures" / "catalogs"
INSTACART = CATALOGS / "instacart"


def problems_of(path: Path) -> list[tuple[int | None, str]]:
    """(line, field) of every problem that loading this products CSV reports."""
    with pytest.raises(CatalogError) as caught:
        load_products_csv(path)
    return [(p.line, p.field) for p in caught.value.problems]


def test_products_csv_loads_every_column() -> None:
    catalog = load_products_csv(CATALOGS / "products.csv")
    assert list(catalog.products) == [
        "oj-tropicana",
        "paper-towels-bounty",
        "bananas",
        "tp-charmin",
    ]
    oj = catalog.products["oj-tropicana"]
    assert (oj.name, oj.brand, oj.size, oj.price, oj.category) == (
        "Orange Juice No Pulp",
        "Tropicana",
        "52 fl oz",
        499,
        "Beverages",
    )
    assert oj.aliases == ("oj", "orange juice")
    assert oj.tags == ("breakfast",)
    towels = catalog.products["paper-towels-bounty"]
    assert towels.aliases == ("paper towels", "paper towel", "kitchen roll")
    assert towels.tags == ()
    assert catalog.products["bananas"].name == "Bananas, Organic"
    assert catalog.products["tp-charmin"].price is None  # empty price: not for sale yet
    assert catalog.stores == (DEFAULT_STORE,)
    assert catalog.currency == "USD"
    assert catalog.option_groups == {}


def test_products_csv_takes_a_store_and_currency() -> None:
    store = Store(id="berlin", name="Berlin Shop", timezone="Europe/Berlin")
    catalog = load_products_csv(CATALOGS / "products.csv", store=store, currency="EUR")
    assert catalog.stores == (store,)
    assert catalog.currency == "EUR"


def test_products_csv_reports_every_bad_row() -> None:
    assert problems_of(CATALOGS / "invalid" / "products.csv") == [
        (2, "price"),
        (3, "id"),
        (4, "name"),
        (5, "id"),
        (5, "price"),
        (6, "(row)"),
    ]


def test_products_csv_messages_explain_the_fix() -> None:
    with pytest.raises(CatalogError) as caught:
        load_products_csv(CATALOGS / "invalid" / "products.csv")
    detail = caught.value.detail
    assert (
        "products.csv:2: price: '4.99' is not a whole number of cents (prices are whole" in detail
    )
    assert "products.csv:3: id: duplicate product id 'oj' (first on line 2)" in detail
    assert (
        "products.csv:5: price: '-699' is not a whole number of cents (prices cannot be" in detail
    )


def test_products_csv_header_problems() -> None:
    with pytest.raises(CatalogError) as caught:
        load_products_csv(CATALOGS / "invalid" / "products_columns.csv")
    assert [str(p).split(": ", 1)[1] for p in caught.value.problems] == [
        "brnad: unknown column (did you mean 'brand'?); "
        "columns: id, name, brand, size, price, category, aliases, tags",
        "options: CSV catalogs cannot have option groups: use the YAML format for those",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty.csv:1: (header): the file is empty"),
        ("id,name\nx,X\n", "empty.csv:1: price: missing required column"),
        ("id,name,price,price\n", "empty.csv:1: price: column appears more than once"),
        ("id,name,price\n\n", "empty.csv: (file): has no product rows"),
        ('id,name,price\n"x,X,1\n', "empty.csv:2: (file): bad CSV: unexpected end of data"),
    ],
)
def test_products_csv_file_problems(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_products_csv(path)
    assert str(caught.value.problems[0]).endswith(expected)


def test_products_csv_with_excel_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        "\ufeffID,Name,Price\r\nmilk,Milk,429\r\n\r\neggs,Eggs,449\r\n", encoding="utf-8"
    )
    assert read_header(path) == ("ID", "Name", "Price")
    assert list(load_products_csv(path).products) == ["milk", "eggs"]


def test_bad_currency_is_refused() -> None:
    with pytest.raises(CatalogError, match="'dollars' is not an ISO 4217 code"):
        load_products_csv(CATALOGS / "products.csv", currency="dollars")


def test_instacart_fixture_uses_departments_and_aisles() -> None:
    catalog = load_instacart_csv(INSTACART / "products.csv")
    assert len(catalog.products) == 7
    assert all(p.price is None for p in catalog.products.values())
    milk = catalog.products["27845"]
    assert (milk.name, milk.category, milk.tags) == ("Organic Whole Milk", "dairy eggs", ("milk",))
    assert catalog.products["105"].name == 'Easy Grab 9"x13" Oblong Glass Bakeware'
    assert catalog.products["483"].name == '"Constant Comment" Decaffeinated Black Tea Blend'


def test_instacart_without_side_files_has_no_categories(tmp_path: Path) -> None:
    shutil.copy(INSTACART / "products.csv", tmp_path / "products.csv")
    catalog = load_instacart_csv(tmp_path / "products.csv")
    assert {p.category for p in catalog.products.values()} == {""}
    shutil.copy(INSTACART / "aisles.csv", tmp_path / "aisles.csv")
    catalog = load_instacart_csv(tmp_path / "products.csv")
    assert catalog.products["24852"].category == "fresh fruits"
    assert catalog.products["24852"].tags == ()


def test_instacart_side_file_with_a_header_row(tmp_path: Path) -> None:
    shutil.copy(INSTACART / "products.csv", tmp_path / "products.csv")
    departments = (INSTACART / "departments.csv").read_text(encoding="utf-8")
    (tmp_path / "departments.csv").write_text("department_id,department\n" + departments)
    catalog = load_instacart_csv(tmp_path / "products.csv")
    assert catalog.products["1"].category == "snacks"


def test_instacart_unknown_department_and_bad_rows(tmp_path: Path) -> None:
    shutil.copy(INSTACART / "departments.csv", tmp_path / "departments.csv")
    (tmp_path / "products.csv").write_text(
        "product_id,product_name,aisle_id,department_id\n"
        "1,Cookies,61,19\n2,Mystery,1,99\nx3,Bad Id,1,19\n4,Short Row\n4,Again,1,19\n5,,1,19\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as caught:
        load_instacart_csv(tmp_path / "products.csv")
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "department_id"),
        (4, "product_id"),
        (5, "(row)"),
        (7, "product_name"),
    ]


def test_instacart_adapter_refuses_another_header() -> None:
    with pytest.raises(CatalogError, match=r"products\.csv:1: \(header\): expected the header"):
        load_instacart_csv(CATALOGS / "products.csv")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Banana", "Banana"),
        ('"10\\"" Bamboo Skewers"', '10" Bamboo Skewers'),
        ('"Pop Up Notes  3\\"" X 3\\"""', 'Pop Up Notes 3" X 3"'),
        ("  Spaced   Out ", "Spaced Out"),
    ],
)
def test_clean_instacart_name(raw: str, clean: str) -> None:
    assert clean_instacart_name(raw) == clean


def test_shared_instacart_products_load_fast(shared_dir: Path) -> None:
    path = shared_dir / "data" / "grocery" / "products.csv"
    started = time.perf_counter()
    catalog = load_instacart_csv(path)
    elapsed = time.perf_counter() - started
    assert len(catalog.products) == 49_688
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    categories = Counter(p.category for p in catalog.products.values())
    assert len(categories) == 21
    assert categories["personal care"] == 6563
    assert catalog.products["1"].name == "Chocolate Sandwich Cookies"
    assert catalog.products["1"].category == "snacks"
    assert catalog.products["49688"].name == "Fresh Foaming Cleanser"
    assert all(p.price is None for p in catalog.products.values())
    assert not any('\\"' in p.name or '""' in p.name for p in catalog.products.values())
