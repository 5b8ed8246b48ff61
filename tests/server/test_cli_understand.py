"""`voicecart understand` and `voicecart eval` with real whisper on fixture and barista audio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.demo import DEMO_CATALOGS
from server.__main__ import main
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

AUDIO = FIXTURES / "audio"
COFFEE = DEMO_CATALOGS["coffee"]
RECORD_KEYS = [
    "file", "transcript", "intent", "items", "alternatives", "seconds", "note", "note_for"
]  # fmt: skip


@pytest.fixture(autouse=True)
def _fixture_audio() -> None:
    if not (AUDIO / "two_double_shot_americanos.wav").is_file():
        pytest.skip("fixture audio missing: run .venv/bin/python scripts/make_test_audio.py")


def understand_json(capsys: pytest.CaptureFixture[str], *files: Path) -> list[dict[str, object]]:
    """Run `understand --json` and read its lines."""
    code = main(
        ["understand", "--catalog", str(COFFEE), "--threads", "2", "--json", *map(str, files)]
    )
    assert code == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_understand_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    files = [
        AUDIO / "two_double_shot_americanos.wav",
        AUDIO / "silence.wav",
        AUDIO / "large_oat_latte_bit_of_vanilla.wav",
    ]
    records = understand_json(capsys, *files)
    assert [r["file"] for r in records] == [str(f) for f in files]
    assert all(list(r) == RECORD_KEYS for r in records)
    americanos, silence, latte = records
    assert americanos["intent"] == "add_items"
    assert americanos["items"] == [
        {
            "product_id": "americano",
            "quantity": 2.0,
            "options": {"shots": {"choice": "double", "amount": "regular"}},
            "note": None,
        }
    ]
    assert silence == {
        "file": str(files[1]),
        "transcript": "",
        "intent": "unknown",
        "items": [],
        "alternatives": [],
        "seconds": silence["seconds"],
        "note": None,
        "note_for": None,
    }
    items = latte["items"]
    assert isinstance(items, list)
    assert items[0]["options"]["syrup"] == {"choice": "vanilla", "amount": "light"}
    alternatives = latte["alternatives"]
    assert isinstance(alternatives, list)
    assert alternatives
    assert set(alternatives[0]) == {"text", "confidence"}
    assert all(isinstance(r["seconds"], float) for r in records)


def test_understand_text_output_and_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    code = main(["understand", "--catalog", str(COFFEE), str(bad), str(AUDIO / "silence.wav")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "notes.wav: error:" in err
    assert out.startswith(f"{AUDIO / 'silence.wav'}\tunknown\t-\t")


LABELS = """\
labels:
  two_double_shot_americanos.wav:
    intent: add_items
    items:
      - {product: americano, quantity: 2, options: {shots: double}}
  large_oat_latte_bit_of_vanilla.wav:
    intent: add_items
    items:
      - product: latte
        options: {size: venti, milk: oat, syrup: {choice: vanilla, amount: light}}
  silence.wav:
    intent: unknown
"""


def test_eval_over_fixtures_with_noise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.yaml"
    labels.write_text(LABELS)
    plot = tmp_path / "acc.png"
    out_file = tmp_path / "outcomes.jsonl"
    code = main(
        [
            "eval",
            "--catalog",
            str(COFFEE),
            "--audio",
            str(AUDIO),
            "--labels",
            str(labels),
            "--noise",
            str(AUDIO / "white_noise.wav"),
            "--snr",
            "24",
            "--plot",
            str(plot),
            "--out",
            str(out_file),
            "--threads",
            "2",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    names = ["two_double_shot_americanos.wav", "large_oat_latte_bit_of_vanilla.wav", "silence.wav"]
    assert [(r["file"], r["condition"]) for r in rows] == [
        (name, condition) for name in names for condition in ("clean", "24 dB")
    ]
    clean = {r["file"]: r["accepted"] for r in rows if r["condition"] == "clean"}
    assert clean == dict.fromkeys(clean, True)
    assert "Command acceptance per condition" in out
    assert "Per-slot accuracy" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_eval_refuses_bad_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.yaml"
    labels.write_text("labels: {a.wav: {items: [{product: unicorn-frappe}]}}")
    code = main(["eval", "--catalog", str(COFFEE), "--audio", str(AUDIO), "--labels", str(labels)])
    assert code == 1
    assert "unicorn-frappe" in capsys.readouterr().err


def test_eval_on_barista_subset(
    shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first 12 recordings of the barista dev set, clean: at most one may be rejected."""
    root = shared_dir / "data" / "barista"
    out_file = tmp_path / "outcomes.jsonl"
    code = main(
        [
            "eval",
            "--catalog",
            str(root / "menu.yaml"),
            "--audio",
            str(root / "dev"),
            "--labels",
            str(root / "dev-labels.json"),
            "--limit",
            "12",
            "--threads",
            "2",
            "--plot",
            str(tmp_path / "barista.png"),
            "--out",
            str(out_file),
            "--no-progress",
        ]
    )
    capsys.readouterr()
    assert code == 0
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert len(rows) == 12
    rejected = [(r["file"], r["transcript"], r["errors"]) for r in rows if not r["accepted"]]
    assert len(rejected) <= 1, rejected
