"""The demo catalogs shipped in catalog/data: a grocery store and a coffee shop."""

from __future__ import annotations

from pathlib import Path

from catalog.errors import CatalogError, Problem
from catalog.fields import suggest
from catalog.format import load_catalog, merge_catalogs
from catalog.model import Catalog

DATA_DIR = Path(__file__).resolve().parent / "data"

DEMO_CATALOGS: dict[str, Path] = {
    "grocery": DATA_DIR / "grocery.yaml",
    "coffee": DATA_DIR / "coffee.yaml",
}
"""Demo catalog name -> its file."""


def load_demo_catalog(name: str) -> Catalog:
    """Load one demo catalog by name ("grocery" or "coffee")."""
    path = DEMO_CATALOGS.get(name)
    if path is None:
        message = f"unknown demo catalog {name!r}{suggest(name, DEMO_CATALOGS)}; "
        message += f"choose one of: {', '.join(DEMO_CATALOGS)}"
        raise CatalogError([Problem(str(DATA_DIR), None, "name", message)])
    return load_catalog(path)


def load_demo_store() -> Catalog:
    """The README quick-start store: the grocery and coffee demo catalogs merged."""
    return merge_catalogs(*(load_demo_catalog(name) for name in DEMO_CATALOGS))
