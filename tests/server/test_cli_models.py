"""`voicecart models list | pull | verify`, pulling from a local HTTP server."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from catalog.errors import VoiceCartError
from server.cli import models as models_cli
from tests.voice.test_models import NAME, Server, entry_for, model_zip, server  # noqa: F401


def cli(argv: list[str]) -> int:
    """Run `voicecart models ...` as server/__main__.py does, with only this command group."""
    parser = argparse.ArgumentParser(prog="voicecart")
    models_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VoiceCartError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1


def test_list_shows_the_manifest_and_checksum_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["models", "list", "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "vosk-model-small-en-us-0.15" in out
    assert "https://alphacephei.com/vosk/models/vosk-model-en-us-0.22-lgraph.zip" in out
    [large] = [line for line in out.splitlines() if line.startswith("vosk-model-en-us-0.22 ")]
    assert "sha256 UNCONFIRMED" in large
    assert "no grammar" in large
    assert "whisper tiny.en (default)" in out


def test_pull_then_verify_through_the_cli(
    server: Server,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = tmp_path / "manifest.json"
    entry = entry_for(server, model_zip())
    manifest.write_text(json.dumps({"format": 1, "models": [asdict(entry)]}))
    models_dir = tmp_path / "models"
    common = ["--models-dir", str(models_dir), "--manifest", str(manifest)]
    assert cli(["models", "pull", NAME, "--no-progress", *common]) == 0
    assert f"installed {NAME} in {models_dir / NAME}" in capsys.readouterr().out
    assert cli(["models", "list", *common]) == 0
    assert f"{NAME} " in capsys.readouterr().out
    assert cli(["models", "verify", *common]) == 0
    assert "ok" in capsys.readouterr().out
    (models_dir / NAME / "am" / "final.mdl").write_bytes(b"tampered")
    assert cli(["models", "verify", *common]) == 1
    assert "changed files: am/final.mdl" in capsys.readouterr().out


def test_pull_failures_exit_1_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["models", "pull", "vosk-model-nope", "--models-dir", str(tmp_path)]) == 1
    assert "unknown model 'vosk-model-nope'" in capsys.readouterr().err


def test_verify_an_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["models", "verify", "--models-dir", str(tmp_path)]) == 0
    assert "no models in" in capsys.readouterr().out
