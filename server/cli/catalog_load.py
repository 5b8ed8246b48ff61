"""`voicecart catalog load FILE`: upsert a catalog file into the database (a new version).

Wired into the `catalog` command group by server/cli/catalog.py via add_load_command().
Running servers pick the new version up on their next request.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog.format import load_catalog
from orders.catalog_store import load_catalog_into
from orders.db import make_sessions, require_migrated
from server.cli.db import add_database_options, engine_from


def add_load_command(
    catalog_subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add `load` to the `catalog` command group."""
    load = catalog_subparsers.add_parser(
        "load",
        help="load a catalog file into the database (insert or update)",
        description=__doc__,
    )
    load.add_argument("file", type=Path, metavar="FILE", help="catalog file (YAML/JSON/CSV)")
    add_database_options(load)
    load.set_defaults(func=run_load)


def run_load(args: argparse.Namespace) -> int:
    """Validate the file, upsert it, print the new catalog version."""
    catalog = load_catalog(args.file)
    engine = engine_from(args)
    try:
        require_migrated(engine)
        with make_sessions(engine)() as session:
            version = load_catalog_into(session, catalog, source=str(args.file))
    finally:
        engine.dispose()
    print(
        f"catalog version {version}: {len(catalog.products)} products, "
        f"{len(catalog.option_groups)} option groups, {len(catalog.stores)} stores from {args.file}"
    )
    return 0
