"""The `voicecart` command line: the one place that builds objects and wires them together."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from catalog.errors import VoiceCartError

# Each module defines register(subparsers) and sets `func` on its parsers.
COMMAND_MODULES = (
    "server.cli.catalog",
    "server.cli.alexa",
    "server.cli.models",
    "server.cli.transcribe",
    "server.cli.understand",
    "server.cli.db",
    "server.cli.customers",
    "server.cli.serve",
    "server.cli.converse",
    "server.cli.staff",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command group registered."""
    parser = argparse.ArgumentParser(prog="voicecart", description=__doc__)
    parser.add_argument("--log-level", default="WARNING", help="logging level (default: WARNING)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit 1 with the error's detail on a VoiceCart error."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        result: int | None = args.func(args)
    except VoiceCartError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    return result or 0


if __name__ == "__main__":
    sys.exit(main())
