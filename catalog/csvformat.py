"""CSV catalogs: the VoiceCart products CSV and the Instacart-style products.csv adapter."""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from catalog.errors import CatalogError, Problem
from catalog.fields import ID_PATTERN, by_line, suggest
from catalog.model import Catalog, Product, Store
from catalog.schema import CURRENCY_PATTERN

logger = logging.getLogger(__name__)

DEFAULT_STORE = Store(id="main", name="Main Store")
"""The store a CSV catalog gets unless the caller passes one (CSV files cannot describe stores)."""
DEFAULT_CURRENCY = "USD"

INSTACART_HEADER = ("product_id", "product_name", "aisle_id", "department_id")
PRODUCT_COLUMNS = ("id", "name", "brand", "size", "price", "category", "aliases", "tags")
REQUIRED_COLUMNS = ("id", "name", "price")
LIST_SEPARATOR = "|"
_QUOTES = re.compile(r'"+')


def read_header(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The first row of a CSV file, cells stripped (empty tuple for an empty file)."""
    for _, row in _rows(os.fspath(path)):
        return tuple(cell.strip() for cell in row)
    return ()


def load_products_csv(
    path: str | os.PathLike[str], *, store: Store | None = None, currency: str = DEFAULT_CURRENCY
) -> Catalog:
    """Load a VoiceCart products CSV (id,name,price + optional brand,size,category,aliases,tags)."""
    source = os.fspath(path)
    rows = _rows(source)
    first = next(rows, None)
    if first is None:
        raise CatalogError([Problem(source, 1, "(header)", "the file is empty")])
    header = [cell.strip().lower() for cell in first[1]]
    problems = _check_header(source, header)
    if problems:
        raise CatalogError(problems)
    products: dict[str, Product] = {}
    first_line: dict[str, int] = {}
    for line, row in rows:
        product = _product_from_row(source, line, header, row, problems)
        row_id = row[header.index("id")].strip() if len(row) == len(header) else ""
        if row_id in first_line:
            message = f"duplicate product id {row_id!r} (first on line {first_line[row_id]})"
            problems.append(Problem(source, line, "id", message))
        elif row_id:
            first_line[row_id] = line
        if product is not None:
            products[product.id] = product
    return _catalog(source, products, problems, store=store, currency=currency)


def _check_header(source: str, header: list[str]) -> list[Problem]:
    """Unknown, repeated and missing columns of a products CSV."""
    problems = []
    for column in header:
        if column == "options":
            message = "CSV catalogs cannot have option groups: use the YAML format for those"
            problems.append(Problem(source, 1, column, message))
        elif column not in PRODUCT_COLUMNS:
            hint = suggest(column, PRODUCT_COLUMNS)
            message = f"unknown column{hint}; columns: {', '.join(PRODUCT_COLUMNS)}"
            problems.append(Problem(source, 1, column or "(empty)", message))
        elif header.count(column) > 1:
            problems.append(Problem(source, 1, column, "column appears more than once"))
    for column in REQUIRED_COLUMNS:
        if column not in header:
            problems.append(Problem(source, 1, column, "missing required column"))
    return problems


def _product_from_row(
    source: str, line: int, header: list[str], row: list[str], problems: list[Problem]
) -> Product | None:
    """One product row, or None (with problems recorded) when it is unusable."""
    if not any(cell.strip() for cell in row):
        return None
    if len(row) != len(header):
        message = f"has {len(row)} cells but the header has {len(header)}"
        problems.append(Problem(source, line, "(row)", message))
        return None
    cells = {column: cell.strip() for column, cell in zip(header, row, strict=True)}
    count = len(problems)
    product_id, name = cells["id"], cells["name"]
    if not ID_PATTERN.fullmatch(product_id):
        message = f"{product_id!r} is not a valid id: use letters, digits and . _ : - only"
        problems.append(Problem(source, line, "id", message))
    if not name:
        problems.append(Problem(source, line, "name", "missing required value"))
    price = _parse_price(cells["price"], source, line, problems)
    if len(problems) > count:
        return None
    return Product(
        id=product_id,
        name=name,
        price=price,
        category=cells.get("category", ""),
        brand=cells.get("brand", ""),
        size=cells.get("size", ""),
        aliases=_split(cells.get("aliases", "")),
        tags=_split(cells.get("tags", "")),
    )


def _parse_price(text: str, source: str, line: int, problems: list[Problem]) -> int | None:
    """Whole cents; empty means "not priced yet" (None)."""
    if not text:
        return None
    if not text.isdigit():
        hint = " (prices are whole cents: 450 means 4.50)" if "." in text or "," in text else ""
        if text.startswith("-"):
            hint = " (prices cannot be negative)"
        problems.append(
            Problem(source, line, "price", f"{text!r} is not a whole number of cents{hint}")
        )
        return None
    return int(text)


def _split(text: str) -> tuple[str, ...]:
    """Split "a | b|c" into ("a", "b", "c"), dropping empty parts."""
    return tuple(part.strip() for part in text.split(LIST_SEPARATOR) if part.strip())


def load_instacart_csv(
    path: str | os.PathLike[str], *, store: Store | None = None, currency: str = DEFAULT_CURRENCY
) -> Catalog:
    """Load an Instacart-style products.csv; departments.csv/aisles.csv beside it name categories.

    Products get no price (None): they can be searched but not bought until priced.
    """
    source = os.fspath(path)
    rows = _rows(source)
    first = next(rows, None)
    header = tuple(cell.strip() for cell in first[1]) if first else ()
    if header != INSTACART_HEADER:
        message = (
            f"expected the header {','.join(INSTACART_HEADER)}, got {','.join(header) or 'nothing'}"
        )
        raise CatalogError([Problem(source, 1, "(header)", message)])
    folder = Path(source).parent
    departments = _read_names(folder / "departments.csv")
    aisles = _read_names(folder / "aisles.csv")
    problems: list[Problem] = []
    products: dict[str, Product] = {}
    for line, row in rows:
        product = _instacart_row(
            source, line, row, departments=departments, aisles=aisles, problems=problems
        )
        if product is None:
            continue
        if product.id in products:
            problems.append(Problem(source, line, "product_id", f"duplicate id {product.id!r}"))
        products[product.id] = product
    return _catalog(source, products, problems, store=store, currency=currency)


def _instacart_row(
    source: str,
    line: int,
    row: list[str],
    *,
    departments: dict[str, str] | None,
    aisles: dict[str, str] | None,
    problems: list[Problem],
) -> Product | None:
    """One Instacart row: category from the department (else aisle) name, the aisle as a tag."""
    if len(row) != len(INSTACART_HEADER):
        if any(cell.strip() for cell in row):
            problems.append(Problem(source, line, "(row)", f"has {len(row)} cells, expected 4"))
        return None
    product_id, name, aisle_id, department_id = row
    if not product_id.isdigit():
        problems.append(Problem(source, line, "product_id", f"{product_id!r} is not a number"))
        return None
    aisle = aisles.get(aisle_id) if aisles is not None else ""
    department = departments.get(department_id) if departments is not None else ""
    if aisle is None:
        problems.append(Problem(source, line, "aisle_id", f"{aisle_id!r} is not in aisles.csv"))
    if department is None:
        message = f"{department_id!r} is not in departments.csv"
        problems.append(Problem(source, line, "department_id", message))
    name = clean_instacart_name(name)
    if not name:
        problems.append(Problem(source, line, "product_name", "missing required value"))
    return Product(
        id=product_id,
        name=name,
        price=None,
        category=department or aisle or "",
        tags=(aisle,) if aisle and department else (),
    )


def clean_instacart_name(name: str) -> str:
    """Undo the dataset's quoting artefacts: '"10\\"" Bamboo Skewers"' -> '10" Bamboo Skewers'."""
    if '"' in name:
        if len(name) > 1 and name[0] == name[-1] == '"':
            name = name[1:-1]
        name = _QUOTES.sub('"', name.replace('\\"', '"'))
    return " ".join(name.split())


def _read_names(path: Path) -> dict[str, str] | None:
    """An `id,name` side file (no header, or one is skipped); None when it does not exist."""
    if not path.is_file():
        return None
    names: dict[str, str] = {}
    for _, row in _rows(str(path)):
        if len(row) >= 2 and row[0].strip().isdigit():
            names[row[0].strip()] = row[1].strip()
    return names


def _catalog(
    source: str,
    products: dict[str, Product],
    problems: list[Problem],
    *,
    store: Store | None,
    currency: str,
) -> Catalog:
    """The one-store catalog, or a CatalogError listing every problem."""
    if not CURRENCY_PATTERN.fullmatch(currency):
        problems.append(Problem(source, None, "currency", f"{currency!r} is not an ISO 4217 code"))
    if not products and not problems:
        problems.append(Problem(source, None, "(file)", "has no product rows"))
    if problems:
        raise CatalogError(sorted(problems, key=by_line))
    logger.info("loaded %s: %d products", source, len(products))
    return Catalog(
        currency=currency,
        stores=(store or DEFAULT_STORE,),
        option_groups={},
        products=products,
        source=source,
    )


def _rows(source: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) for each CSV record; unreadable files and CSV syntax errors raise."""
    try:
        text = Path(source).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start}): save the file as UTF-8"
        raise CatalogError([Problem(source, None, "(file)", message)]) from error
    except OSError as error:
        raise CatalogError(
            [Problem(source, None, "(file)", error.strerror or str(error))]
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as error:
        raise CatalogError(
            [Problem(source, reader.line_num, "(file)", f"bad CSV: {error}")]
        ) from error
