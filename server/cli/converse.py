"""`voicecart converse` and `voicecart eval-conversations`: whole recorded conversations.

    voicecart converse --customer Ada --catalog coffee turn1.wav turn2.wav ...
    voicecart eval-conversations tests/fixtures/conversations

Both play the turns through voice.turn.Pipeline (speech-to-text, the parser, the dialogue and
the order service on a scratch SQLite database), the same steps as POST /v1/voice/turn.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from catalog.demo import DEMO_CATALOGS, load_demo_catalog, load_demo_store
from catalog.format import load_catalog
from catalog.model import Catalog
from server.cli.models import models_dir_option
from voice import understand
from voice.conversations import (
    ConversationOutcome,
    find_conversations,
    load_conversation,
    open_stage,
    run_conversation,
)
from voice.stt import Engine, Transcriber
from voice.turn import TurnResult

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `converse` and `eval-conversations` commands."""
    engine = _engine_options()
    command = subparsers.add_parser(
        "converse",
        parents=[engine],
        help="play recorded turns as one conversation and print each turn",
        description="Play each audio file as the next turn of one conversation, on a scratch "
        "database with the catalog loaded and the customer created.",
    )
    command.add_argument("files", nargs="+", type=Path, metavar="FILE", help="one file per turn")
    command.add_argument("--customer", default="Shopper", help="customer name (default: Shopper)")
    command.add_argument(
        "--catalog",
        required=True,
        help=f"a catalog file, or a demo catalog: {', '.join(DEMO_CATALOGS)}, demo (both)",
    )
    command.add_argument(
        "--setup",
        action="append",
        default=[],
        metavar="TEXT",
        help="a typed turn to play first, e.g. to place an earlier order (repeatable)",
    )
    command.add_argument(
        "--clock", default=None, help="fixed ISO time with offset for 'now' (default: real time)"
    )
    command.add_argument("--json", action="store_true", help="one JSON object per turn")
    command.set_defaults(func=run_converse)
    evaluate = subparsers.add_parser(
        "eval-conversations",
        parents=[engine],
        help="check recorded conversations against their expected.yaml",
        description="Run every conversation folder under DIR (docs/voice.md) and report.",
    )
    evaluate.add_argument("folder", type=Path, metavar="DIR", help="conversations folder")
    evaluate.add_argument("--json", action="store_true", help="one JSON object per conversation")
    evaluate.set_defaults(func=run_eval_conversations)


def _engine_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False, parents=[models_dir_option()])
    parent.add_argument(
        "--engine",
        choices=[e.value for e in Engine],
        default=Engine.AUTO.value,
        help="speech engine (default: %(default)s)",
    )
    parent.add_argument("--model", type=Path, default=None, help="explicit model folder")
    parent.add_argument("--threads", type=int, default=None, help="CPU threads for whisper")
    return parent


def load_transcriber(args: argparse.Namespace) -> Transcriber:
    """The engine the understand/eval commands use, loaded once."""
    started = time.perf_counter()
    transcriber = understand.load_transcriber(
        args.engine,
        models_dir=args.models_dir,
        model=args.model,
        vocabulary=None,
        threads=args.threads,
    )
    logger.info("loaded %s in %.2f s", transcriber.name, time.perf_counter() - started)
    return transcriber


def catalog_from(name: str) -> Catalog:
    """A demo catalog by name ("demo" merges them), or a catalog file."""
    if name == "demo":
        return load_demo_store()
    if name in DEMO_CATALOGS:
        return load_demo_catalog(name)
    return load_catalog(Path(name))


def run_converse(args: argparse.Namespace) -> int:
    """Play the files in order as one conversation; print every turn."""
    catalog = catalog_from(args.catalog)
    clock = datetime.fromisoformat(args.clock) if args.clock else None
    transcriber = load_transcriber(args)
    with open_stage(catalog, customer=args.customer, transcriber=transcriber, clock=clock) as stage:
        for text in args.setup:
            result = stage.text(text)
            print(f"setup: {text!r} -> [{result.reply.kind}] {result.reply.speech}")
        for number, path in enumerate(args.files, 1):
            result = stage.audio(path)
            if args.json:
                print(json.dumps(turn_record(number, path, result), ensure_ascii=False))
            else:
                print(describe_turn(number, path, result), flush=True)
    return 0


def run_eval_conversations(args: argparse.Namespace) -> int:
    """Run every conversation; exit 1 unless all passed."""
    folders = find_conversations(args.folder)
    if not folders:
        print(f"no conversations (folders with expected.yaml) in {args.folder}", file=sys.stderr)
        return 1
    transcriber = load_transcriber(args)
    outcomes = []
    for folder in folders:
        outcome = run_conversation(load_conversation(folder), transcriber=transcriber)
        outcomes.append(outcome)
        if args.json:
            print(json.dumps(outcome_record(outcome), ensure_ascii=False), flush=True)
        else:
            print(describe_outcome(outcome), flush=True)
    passed = sum(o.passed for o in outcomes)
    turns = [t for o in outcomes for t in o.turns]
    good = sum(not t.problems for t in turns)
    summary = f"{passed}/{len(outcomes)} conversations passed, {good}/{len(turns)} turns"
    print(summary, file=sys.stderr if args.json else sys.stdout)
    return 0 if passed == len(outcomes) else 1


def describe_request(result: TurnResult) -> str:
    """The Request in one line: "add_items: 2 x latte (grande, oat)"."""
    request = result.request
    if request is None:
        return "(nothing usable heard)"
    items = []
    for item in request.items:
        options = ", ".join(v.choice for v in item.options.values())
        product = item.product_id or f"? {item.spoken!r}"
        items.append(f"{item.quantity:g} x {product}" + (f" ({options})" if options else ""))
    extra = [f"not found: {', '.join(request.unmatched)}"] if request.unmatched else []
    if request.reorder:
        extra.append(f"reorder {request.reorder}")
    return f"{request.intent}: " + "; ".join(items + extra) if items or extra else request.intent


def describe_turn(number: int, path: Path, result: TurnResult) -> str:
    """A turn for people: heard, request, reply, cart and time."""
    transcript = result.transcript
    heard = result.heard or "(no speech)"
    confidence = f"  (confidence {transcript.confidence:.2f})" if transcript else ""
    lines = [
        f"turn {number}  {path}",
        f"  heard:    {heard}{confidence}",
        f"  request:  {describe_request(result)}",
        f"  reply:    [{result.reply.kind}] {result.reply.speech}",
    ]
    cart = result.reply.cart
    if cart is not None:
        items = ", ".join(f"{line.quantity} x {line.name}" for line in cart.lines) or "empty"
        lines.append(f"  cart:     {items} (total {cart.total / 100:.2f} {cart.currency})")
    order = result.reply.order
    if order is not None:
        lines.append(f"  order:    #{order.order_id} {order.status} at {order.store_name}")
    timings = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in result.timings.items())
    lines.append(f"  time:     {timings}")
    return "\n".join(lines)


def turn_record(number: int, path: Path, result: TurnResult) -> dict[str, Any]:
    """A turn as JSON."""
    reply = result.reply
    return {
        "turn": number,
        "file": str(path),
        "transcript": result.transcript.text if result.transcript else None,
        "heard": result.heard,
        "request": describe_request(result),
        "intent": result.request.intent.value if result.request else None,
        "reply": reply.speech,
        "kind": reply.kind,
        "cart": [
            {"product": line.product_id, "quantity": line.quantity}
            for line in (reply.cart.lines if reply.cart else ())
        ],
        "order": {"id": reply.order.order_id, "status": reply.order.status}
        if reply.order
        else None,
        "timings_ms": {k: round(v * 1000, 1) for k, v in result.timings.items()},
    }


def describe_outcome(outcome: ConversationOutcome) -> str:
    """PASS/FAIL of a conversation, with every problem of a failing turn."""
    conversation = outcome.conversation
    verdict = "PASS" if outcome.passed else "FAIL"
    lines = [f"{verdict}  {conversation.name}: {conversation.title}"]
    for number, turn in enumerate(outcome.turns, 1):
        if turn.problems:
            lines.append(f"    turn {number} said {turn.turn.said!r}")
            lines += [f"      - {problem}" for problem in turn.problems]
    return "\n".join(lines)


def outcome_record(outcome: ConversationOutcome) -> dict[str, Any]:
    """A conversation's outcome as JSON."""
    return {
        "conversation": outcome.conversation.name,
        "passed": outcome.passed,
        "turns": [
            {
                "said": turn.turn.said,
                "heard": turn.result.heard,
                "kind": turn.result.reply.kind,
                "problems": turn.problems,
            }
            for turn in outcome.turns
        ],
    }
