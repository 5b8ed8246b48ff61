"""`voicecart alexa model`: write the skill package (skill.json + en-US model) for `ask deploy`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from catalog.format import load_catalog
from skills.interaction import write_skill_package

PLACEHOLDER_ENDPOINT = "https://voicecart.example.com/alexa"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `alexa` command group."""
    alexa = subparsers.add_parser("alexa", help="Alexa skill tools")
    commands = alexa.add_subparsers(dest="alexa_command", required=True)
    model = commands.add_parser(
        "model",
        help="generate skill-package/ from a catalog",
        description="Write skill.json and interactionModels/custom/en-US.json for `ask deploy`.",
    )
    model.add_argument("--catalog", type=Path, required=True, help="catalog file (YAML/JSON/CSV)")
    model.add_argument(
        "--out",
        type=Path,
        default=Path("skill-package"),
        help="output folder (default: %(default)s)",
    )
    model.add_argument(
        "--endpoint",
        default=PLACEHOLDER_ENDPOINT,
        help="public HTTPS URL of this server's POST /alexa (default: %(default)s)",
    )
    model.add_argument(
        "--invocation-name",
        default=None,
        help="what shoppers say to open the skill (default: store name)",
    )
    model.set_defaults(func=run_model)


def run_model(args: argparse.Namespace) -> int:
    """Generate the package; a model Alexa would refuse exits 1 with every problem listed."""
    catalog = load_catalog(args.catalog)
    written = write_skill_package(
        catalog, args.out, endpoint=args.endpoint, invocation_name=args.invocation_name
    )
    model = json.loads(written[1].read_text(encoding="utf-8"))["interactionModel"]
    language = model["languageModel"]
    samples = sum(len(intent["samples"]) for intent in language["intents"])
    for path in written:
        print(path)
    print(
        f"invocation name {language['invocationName']!r}: {len(language['intents'])} intents, "
        f"{samples} samples, {len(language['types'])} slot types"
    )
    if args.endpoint == PLACEHOLDER_ENDPOINT:
        print(
            f"note: endpoint is the placeholder {PLACEHOLDER_ENDPOINT}; pass --endpoint",
            file=sys.stderr,
        )
    return 0
