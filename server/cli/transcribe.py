"""`voicecart transcribe FILE...`: speech-to-text on audio files with one loaded model."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

from catalog.errors import VoiceCartError
from server.cli.models import models_dir_option
from voice import audio
from voice.errors import AudioFormatError
from voice.stt import Engine, Transcript, create_transcriber, transcribe
from voice.vocabulary import Vocabulary, vocabulary_from_catalog

logger = logging.getLogger(__name__)

RAW_SUFFIXES = frozenset({".raw", ".pcm"})


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `transcribe` command."""
    command = subparsers.add_parser(
        "transcribe",
        parents=[models_dir_option()],
        help="speech-to-text on audio files",
        description="Transcribe WAV/FLAC/OGG files (or raw 16-bit PCM with --raw-rate).",
    )
    command.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files")
    command.add_argument(
        "--engine",
        choices=[e.value for e in Engine],
        default=Engine.AUTO.value,
        help="auto: Vosk when an English Vosk model is in the models folder, else whisper"
        " (default: %(default)s)",
    )
    command.add_argument("--model", type=Path, default=None, help="explicit model folder")
    command.add_argument(
        "--catalog", type=Path, default=None, help="catalog file to bias recognition to"
    )
    command.add_argument("--json", action="store_true", help="one JSON object per file")
    command.add_argument(
        "--raw-rate",
        type=int,
        default=16_000,
        help="sample rate of .raw/.pcm files: 16-bit little-endian mono (default: %(default)s)",
    )
    command.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the engine once, then transcribe each file; exit 1 if any file failed."""
    vocabulary = load_vocabulary(args.catalog)
    started = time.perf_counter()
    transcriber = create_transcriber(
        args.engine, models_dir=args.models_dir, vocabulary=vocabulary, model=args.model
    )
    logger.info("loaded %s in %.2f s", transcriber.name, time.perf_counter() - started)
    failed = 0
    for path in args.files:
        try:
            clip = read(path, raw_rate=args.raw_rate)
            started = time.perf_counter()
            result = transcribe(transcriber, clip.pcm)
            elapsed = time.perf_counter() - started
        except VoiceCartError as error:
            failed += 1
            print(f"error: {error.detail}", file=sys.stderr)
            continue
        print(render(path, result, elapsed, as_json=args.json))
    return 1 if failed else 0


def load_vocabulary(catalog_path: Path | None) -> Vocabulary | None:
    """The catalog's vocabulary plus the parser's command words, or None without a catalog."""
    if catalog_path is None:
        return None
    from catalog.format import load_catalog
    from catalog.intents import cue_words

    return vocabulary_from_catalog(load_catalog(catalog_path), command_words=sorted(cue_words()))


def read(path: Path, *, raw_rate: int) -> audio.Audio:
    """Decode a file; .raw/.pcm are headerless 16-bit mono at `raw_rate`."""
    if path.suffix.lower() in RAW_SUFFIXES:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise AudioFormatError(f"cannot read {path}: {error.strerror}") from error
        return audio.from_raw(data, sample_rate=raw_rate, name=str(path))
    return audio.load(path)


def render(path: Path, result: Transcript, elapsed: float, *, as_json: bool) -> str:
    """One output line: tab-separated for people, or a JSON object."""
    if as_json:
        record = {"file": str(path), "elapsed": round(elapsed, 3), **asdict(result)}
        return json.dumps(record, ensure_ascii=False)
    text = result.text if not result.no_speech else "(no speech)"
    return f"{path}\t{result.confidence:.2f}\t{result.seconds:.2f}s audio\t{elapsed:.2f}s\t{text}"
