"""`voicecart understand` and `voicecart eval`: recorded audio -> Requests, and scoring them.

    voicecart understand --catalog menu.yaml [--engine E] [--json] FILE...
    voicecart eval --catalog menu.yaml --audio DIR --labels FILE [--noise WAV --snr 24 12 6]

The model is loaded once per process. `understand --json` prints one JSON object per line per
file, in input order; docs/eval.md states that contract, which outside tools score against.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog.errors import VoiceCartError
from catalog.format import load_catalog
from server.cli.models import models_dir_option
from server.cli.transcribe import read
from voice import audio
from voice.evaluation import CLEAN, Condition, Outcome, evaluate
from voice.labels import LabelError, load_labels
from voice.report import plot, render, summarise
from voice.stt import Engine
from voice.understand import Understander, Understanding, catalog_vocabulary, load_transcriber

logger = logging.getLogger(__name__)

DEFAULT_SNRS = (24.0, 12.0, 6.0)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `understand` and `eval` commands."""
    common = _common_options()
    command = subparsers.add_parser(
        "understand",
        parents=[common],
        help="audio files -> transcript and Request",
        description="Recognise each file with the catalog's vocabulary and parse it.",
    )
    command.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files")
    command.add_argument("--json", action="store_true", help="one JSON object per line per file")
    command.add_argument(
        "--raw-rate", type=int, default=16_000, help="rate of .raw/.pcm input (default: 16000)"
    )
    command.set_defaults(func=run_understand)
    _register_eval(subparsers, common)


def _register_eval(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    scoring = subparsers.add_parser(
        "eval",
        parents=[common],
        help="score understanding of labelled recordings, clean and in noise",
        description="Understand every labelled file, clean and mixed with noise at each SNR.",
    )
    scoring.add_argument("--audio", type=Path, required=True, help="folder of the recordings")
    scoring.add_argument(
        "--labels", type=Path, required=True, help="labels: our YAML, or barista dev-labels.json"
    )
    scoring.add_argument("--noise", type=Path, default=None, help="noise WAV to mix in")
    scoring.add_argument(
        "--snr",
        type=float,
        nargs="+",
        default=None,
        help="SNRs in dB (default with --noise: 24 12 6)",
    )
    scoring.add_argument(
        "--skip-clean", action="store_true", help="only the noisy conditions, not the clean files"
    )
    scoring.add_argument(
        "--plot", type=Path, default=Path("eval.png"), help="PNG to write (default: %(default)s)"
    )
    scoring.add_argument(
        "--out", type=Path, default=None, help="also write every outcome as JSON lines here"
    )
    scoring.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes, each with its own model and cores/workers threads (default: 1)",
    )
    scoring.add_argument("--limit", type=int, default=None, help="only the first N labelled files")
    scoring.add_argument("--no-progress", action="store_true", help="no progress bar")
    scoring.set_defaults(func=run_eval)


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, parents=[models_dir_option()])
    common.add_argument("--catalog", type=Path, required=True, help="catalog file (YAML/JSON/CSV)")
    common.add_argument(
        "--engine",
        choices=[e.value for e in Engine],
        default=Engine.AUTO.value,
        help="auto: Vosk when an English Vosk model is in the models folder, else whisper"
        " (default: %(default)s)",
    )
    common.add_argument("--model", type=Path, default=None, help="explicit model folder")
    common.add_argument(
        "--threads", type=int, default=None, help="CPU threads for whisper (default: up to 4)"
    )
    return common


def build_understander(
    catalog_path: Path,
    *,
    engine: str,
    models_dir: Path,
    model: Path | None = None,
    threads: int | None = None,
) -> Understander:
    """Load the catalog and the engine (whisper with the understanding settings)."""
    catalog = load_catalog(catalog_path)
    vocabulary = catalog_vocabulary(catalog)
    transcriber = load_transcriber(
        engine, models_dir=models_dir, model=model, vocabulary=vocabulary, threads=threads
    )
    return Understander(transcriber, catalog, vocabulary=vocabulary)


def run_understand(args: argparse.Namespace) -> int:
    """Understand each file in order; exit 1 if any file could not be read."""
    understander = build_understander(
        args.catalog,
        engine=args.engine,
        models_dir=args.models_dir,
        model=args.model,
        threads=args.threads,
    )
    failed = 0
    for path in args.files:
        try:
            result = understander.understand(read(path, raw_rate=args.raw_rate).pcm)
        except VoiceCartError as error:
            failed += 1
            print(f"{path}: error: {error.detail}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(record(str(path), result), ensure_ascii=False), flush=True)
        else:
            print(describe(str(path), result), flush=True)
    return 1 if failed else 0


def record(file: str, result: Understanding) -> dict[str, Any]:
    """The stable JSON record of one file (see docs/eval.md)."""
    request = result.request
    items = [
        {
            "product_id": item.product_id,
            "quantity": item.quantity,
            "options": {
                group: {"choice": value.choice, "amount": value.amount.value}
                for group, value in item.options.items()
            },
            "note": item.note,
        }
        for item in request.items
    ]
    alternatives = [
        {"text": a.text, "confidence": round(a.confidence, 4)}
        for a in result.transcript.alternatives
    ]
    return {
        "file": file,
        "transcript": result.chosen or result.transcript.text,
        "intent": request.intent.value,
        "items": items,
        "alternatives": alternatives,
        "seconds": round(result.seconds, 3),
        "note": request.note,
        "note_for": request.note_for.product_id if request.note_for is not None else None,
    }


def describe(file: str, result: Understanding) -> str:
    """One line for people: file, intent, items, transcript."""
    request = result.request
    items = []
    for item in request.items:
        options = ", ".join(f"{v.amount.value} {v.choice}" for v in item.options.values())
        request_words = f' "{item.note}"' if item.note else ""
        items.append(
            f"{item.quantity:g} x {item.product_id}"
            + (f" ({options})" if options else "")
            + request_words
        )
    heard = result.chosen or result.transcript.text or "(no speech)"
    summary = "; ".join(items) or (f'request "{request.note}"' if request.note else "-")
    return f"{file}\t{request.intent.value}\t{summary}\t{result.seconds:.2f}s\t{heard}"


def run_eval(args: argparse.Namespace) -> int:
    """Score every labelled file under every condition, print the report, write the plot."""
    catalog = load_catalog(args.catalog)
    try:
        labels = load_labels(args.labels, catalog)
    except (LabelError, OSError) as error:
        print(f"error: {args.labels}: {error}", file=sys.stderr)
        return 1
    if args.limit is not None:
        labels = dict(list(labels.items())[: args.limit])
    conditions = _conditions(args.noise, args.snr)
    if args.skip_clean:
        conditions = [c for c in conditions if c.snr is not None] or conditions
    noise_pcm = audio.load(args.noise, limits=_long()).pcm if args.noise else None
    threads = args.threads
    if threads is None and args.workers > 1:
        threads = max(1, (os.cpu_count() or 1) // args.workers)
    make = functools.partial(
        build_understander,
        args.catalog,
        engine=args.engine,
        models_dir=args.models_dir,
        model=args.model,
        threads=threads,
    )
    outcomes = evaluate(
        make,
        args.audio,
        labels,
        conditions=conditions,
        noise_pcm=noise_pcm,
        workers=args.workers,
        progress=not args.no_progress,
    )
    if args.out is not None:
        args.out.write_text("".join(json.dumps(outcome_record(o)) + "\n" for o in outcomes))
    print(render(outcomes))
    plot(summarise(outcomes), args.plot)
    print(f"\nplot: {args.plot}")
    return 0


def outcome_record(result: Outcome) -> dict[str, Any]:
    """One outcome as JSON: file, condition, accepted, slots, errors, transcript, seconds."""
    return {
        "file": result.file,
        "condition": result.condition,
        "accepted": result.accepted,
        "slots": dict(result.slots),
        "errors": list(result.errors),
        "transcript": result.transcript,
        "seconds": round(result.seconds, 3),
        "audio_seconds": round(result.audio_seconds, 3),
        "alternatives": [[text, round(share, 4)] for text, share in result.alternatives],
    }


def _conditions(noise: Path | None, snrs: Sequence[float] | None) -> list[Condition]:
    if snrs and noise is None:
        raise VoiceCartError("--snr needs --noise")
    if noise is None:
        return [Condition(CLEAN)]
    return [Condition(CLEAN), *(Condition.noisy(s) for s in (snrs or DEFAULT_SNRS))]


def _long() -> audio.AudioLimits:
    """Noise recordings may run for minutes."""
    return audio.AudioLimits(max_seconds=3600.0, max_bytes=512 * 1024 * 1024)
