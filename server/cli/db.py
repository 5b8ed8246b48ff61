"""`voicecart db upgrade|status`: migrate the database, or say where it stands.

    voicecart db upgrade [--data-dir DIR | --database-url URL]
    voicecart db status  [--data-dir DIR | --database-url URL]

Also the database options every command that opens the database shares.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sqlalchemy import Engine

from orders.db import current_revisions, display_url, head_revisions, make_engine, upgrade
from server.settings import Settings

logger = logging.getLogger(__name__)


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """--data-dir and --database-url (defaults: VOICECART_DATA_DIR / VOICECART_DATABASE_URL)."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder of the embedded SQLite database (default: $VOICECART_DATA_DIR or ./data)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (default: "
        "$VOICECART_DATABASE_URL, else SQLite in the data dir)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the command-line options on top."""
    overrides = {
        name: getattr(args, name)
        for name in ("data_dir", "database_url", "host", "port", "workers")
        if getattr(args, name, None) is not None
    }
    return Settings(**overrides)


def engine_from(args: argparse.Namespace) -> Engine:
    """An engine on the database the options name (the SQLite data dir is created if needed)."""
    settings = settings_from(args)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.resolved_database_url, pool_size=2)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `db` command group."""
    group = subparsers.add_parser("db", help="database migrations", description=__doc__)
    commands = group.add_subparsers(dest="db_command", required=True)
    up = commands.add_parser("upgrade", help="migrate the database to the latest schema")
    add_database_options(up)
    up.set_defaults(func=run_upgrade)
    status = commands.add_parser("status", help="show the schema revision and the latest one")
    add_database_options(status)
    status.set_defaults(func=run_status)


def run_upgrade(args: argparse.Namespace) -> int:
    """Migrate to head; safe to run again."""
    engine = engine_from(args)
    try:
        before = current_revisions(engine)
        upgrade(engine)
        after = current_revisions(engine)
        print(f"{display_url(engine)}: {', '.join(before) or 'empty'} -> {', '.join(after)}")
    finally:
        engine.dispose()
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print the current and head revisions; exit 1 when the database is behind."""
    engine = engine_from(args)
    try:
        current, head = current_revisions(engine), head_revisions(engine)
    finally:
        engine.dispose()
    print(f"database: {display_url(engine)}")
    print(f"current:  {', '.join(current) or 'empty (never migrated)'}")
    print(f"head:     {', '.join(head)}")
    if set(current) != set(head):
        print("run `voicecart db upgrade` to migrate")
        return 1
    return 0
