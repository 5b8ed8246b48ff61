"""`voicecart serve` runs the HTTP API; `voicecart demo` sets up demo data, then serves it.

voicecart serve [--host H] [--port P] [--workers N] [--data-dir DIR | --database-url URL]
voicecart demo  [--data-dir DIR] [--host H] [--port P] [--no-serve]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from orders.clock import utc_now
from orders.db import make_sessions, require_migrated, upgrade
from server.cli.db import add_database_options, engine_from, settings_from
from server.demo import load_demo_catalog, seed_shoppers
from server.settings import Settings

DEMO_DIR = Path("demo-data")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` and `demo` commands."""
    serve = subparsers.add_parser("serve", help="run the HTTP API (uvicorn)", description=__doc__)
    _add_server_options(serve)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: $VOICECART_WORKERS or 1)",
    )
    add_database_options(serve)
    serve.set_defaults(func=run_serve)
    demo = subparsers.add_parser(
        "demo",
        help="create a demo data directory (catalogs, two shoppers, history) and serve it",
        description=__doc__,
    )
    demo.add_argument(
        "--data-dir", type=Path, default=DEMO_DIR, help="demo data folder (default: %(default)s)"
    )
    demo.add_argument("--database-url", default=None, help=argparse.SUPPRESS)
    _add_server_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="set up the data and exit")
    demo.set_defaults(func=run_demo)


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: 8000)")


def run_serve(args: argparse.Namespace) -> int:
    """Check the database is migrated, then run uvicorn with the app factory."""
    settings = settings_from(args)
    engine = engine_from(args)
    try:
        require_migrated(engine)
    finally:
        engine.dispose()
    serve(settings)
    return 0


def serve(settings: Settings) -> None:
    """Run uvicorn; worker processes read the same settings from the environment."""
    os.environ["VOICECART_DATABASE_URL"] = settings.resolved_database_url
    os.environ["VOICECART_DB_POOL_SIZE"] = str(settings.db_pool_size)
    uvicorn.run(
        "server.app:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
    )


def run_demo(args: argparse.Namespace) -> int:
    """Migrate the demo database, load both demo catalogs, seed two shoppers, print, serve."""
    settings = settings_from(args)
    engine = engine_from(args)
    try:
        upgrade(engine)
        with make_sessions(engine)() as session:
            version = load_demo_catalog(session)
            shoppers = seed_shoppers(session, now=utc_now())
    finally:
        engine.dispose()
    base = f"http://{settings.host}:{settings.port}"
    print(f"VoiceCart demo: data in {settings.data_dir.resolve()} (catalog version {version})")
    for customer, token in shoppers:
        print(f"  {customer.name:<12} home store {customer.home_store_id:<20} token {token}")
    print(f"API docs: {base}/docs    try: curl -H 'Authorization: Bearer <token>' {base}/v1/cart")
    if not args.no_serve:
        serve(settings)
    return 0
