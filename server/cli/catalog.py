"""`voicecart catalog check` and `voicecart catalog search`: validate a catalog, try the matcher.

    voicecart catalog check FILE
    voicecart catalog search --catalog PATH [--limit N] [--store ID] [--json] [QUERY...]

`search` builds the index once and runs every query (or every line of stdin when no QUERY is
given). `--json` prints one object per query, one per line, in input order:
{"query": str, "matches": [{"product_id": str, "name": str, "score": float}], "ambiguous": bool}.
Outside scoring tools read that contract; keep it stable.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from catalog.format import load_catalog
from catalog.match import Match, ProductIndex, is_ambiguous
from catalog.model import Catalog
from server.cli.catalog_load import add_load_command

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `catalog` command group: `check`, `search` and `load`."""
    group = subparsers.add_parser(
        "catalog", help="validate a catalog file or search it", description=__doc__
    )
    commands = group.add_subparsers(dest="catalog_command", required=True)
    check = commands.add_parser(
        "check",
        help="validate a catalog file and summarise it",
        description="Load a catalog (YAML/JSON format 1, VoiceCart CSV or Instacart products.csv).",
    )
    check.add_argument("file", type=Path, metavar="FILE", help="the catalog file")
    check.set_defaults(func=run_check)
    search = commands.add_parser(
        "search",
        help="match spoken queries against a catalog",
        description="Match each QUERY (or each stdin line) against the catalog's products.",
    )
    search.add_argument("--catalog", type=Path, required=True, help="the catalog file")
    search.add_argument(
        "--limit", type=_positive, default=5, help="matches per query (default: %(default)s)"
    )
    search.add_argument("--store", default=None, help="only products sold at this store id")
    search.add_argument("--json", action="store_true", help="one JSON object per line per query")
    search.add_argument("queries", nargs="*", metavar="QUERY", help="queries (default: stdin)")
    search.set_defaults(func=run_search)
    add_load_command(commands)


def _positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def run_check(args: argparse.Namespace) -> int:
    """Validate a catalog; print its summary (errors go up to main, which exits 1)."""
    catalog = load_catalog(args.file)
    for line in summarise(catalog, args.file):
        print(line)
    return 0


def summarise(catalog: Catalog, path: Path) -> Iterator[str]:
    """Lines that describe a valid catalog: stores, option groups, products, categories."""
    categories = Counter(p.category or "(none)" for p in catalog.products.values())
    yield f"ok: {path}"
    yield _counted("stores", [s.id for s in catalog.stores])
    yield _counted("option groups", list(catalog.option_groups))
    yield f"products: {len(catalog.products)}"
    yield _counted("categories", [f"{name} {n}" for name, n in sorted(categories.items())])


def _counted(label: str, items: list[str]) -> str:
    return f"{label}: {len(items)}" + (f" ({', '.join(items)})" if items else "")


def run_search(args: argparse.Namespace) -> int:
    """Index the catalog once, then match every query in input order."""
    catalog = load_catalog(args.catalog)
    index = ProductIndex.from_catalog(catalog)
    logger.info("indexed %d products from %s", len(index), args.catalog)
    queries: Iterable[str] = args.queries or (line.rstrip("\r\n") for line in sys.stdin)
    for query in queries:
        matches = index.match(query, limit=args.limit, store_id=args.store)
        if args.json:
            print(json.dumps(as_json(query, matches), ensure_ascii=False), flush=True)
        else:
            for line in as_text(query, matches):
                print(line)
    return 0


def as_json(query: str, matches: list[Match]) -> dict[str, object]:
    """The stable JSON form of one query's result."""
    return {
        "query": query,
        "matches": [
            {"product_id": m.product_id, "name": m.name, "score": m.score} for m in matches
        ],
        "ambiguous": is_ambiguous(matches),
    }


def as_text(query: str, matches: list[Match]) -> Iterator[str]:
    """Ranked matches with scores, for people."""
    yield f"{query!r}:"
    if not matches:
        yield "  no match"
        return
    for rank, match in enumerate(matches, 1):
        yield f"  {rank}. {match.score:6.2f}  {match.product_id}  {match.name}  [{match.why}]"
    if is_ambiguous(matches):
        yield "  (ambiguous: the top two are too close to call)"
