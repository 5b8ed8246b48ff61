"""Recorded conversations: the folder format, the checks, the runner on real Whisper, the CLI."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from orders.dialog_reply import CartSummary, LineSummary, OrderSummary, Reply
from server.__main__ import main
from tests.conftest import FIXTURES, REPO
from tests.voice.engines import server_whisper
from voice.conversations import (
    ConversationFormatError,
    Expect,
    ExpectedLine,
    check_turn,
    find_conversations,
    load_conversation,
    run_conversation,
)
from voice.turn import TurnResult

CONVERSATIONS = FIXTURES / "conversations"
KNOWN_FAILURES = {
    # Whisper tiny.en mishears these espeak-ng recordings (measured with the committed WAVs):
    "coffee_custom_pickup": "'grande oat latte' is heard as a matcha latte",
    "coffee_iced_and_pastry": "'venti' is heard as 'minty' (peppermint syrup)",
    "grocery_fill_cart": "'add two avocados and' -> 'add to avocados, and pound on'",
    "grocery_pickup_checkout": "'two limes' is heard as 'two rhymes'",
    "grocery_remove": "'a box of cheerios' is heard as 'the marks on chirios'",
}
"""Conversations that fail today, and why; the test fails when one starts to pass.

Measured with the arithmetic tests/conftest.py pins (oneDNN, AVX2): Intel MKL, CTranslate2's
default on Intel CPUs, hears grocery_remove's "cheerios" right and the conversation passes."""


def conversation_folders() -> list[Path]:
    """The committed conversations (at least ten, as the issue asks)."""
    return find_conversations(CONVERSATIONS) if CONVERSATIONS.is_dir() else []


def maker() -> ModuleType:
    """scripts/make_conversations.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "make_conversations", REPO / "scripts" / "make_conversations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_conversations", module)
    spec.loader.exec_module(module)
    return module


def test_ten_or_more_conversations_are_committed() -> None:
    folders = conversation_folders()
    assert len(folders) >= 10
    names = {folder.name for folder in folders}
    assert set(KNOWN_FAILURES) <= names
    for folder in folders:
        conversation = load_conversation(folder)
        assert conversation.turns
        for turn in conversation.turns:
            assert turn.audio.is_file(), turn.audio


def test_the_committed_expectations_are_what_the_script_writes() -> None:
    script = maker()
    for name, spec in script.CONVERSATIONS.items():
        committed = (CONVERSATIONS / name / "expected.yaml").read_text(encoding="utf-8")
        assert committed == script.expected_yaml(name, spec), f"re-run the script for {name}"


@pytest.mark.slow
@pytest.mark.parametrize("folder", conversation_folders(), ids=lambda folder: folder.name)
def test_recorded_conversation(folder: Path) -> None:
    outcome = run_conversation(load_conversation(folder), transcriber=server_whisper())
    problems = [(t.turn.said, t.result.heard, t.problems) for t in outcome.turns if t.problems]
    if folder.name in KNOWN_FAILURES:
        with pytest.raises(AssertionError):
            assert not problems, problems
    else:
        assert not problems, problems


def write_conversation(folder: Path, text: str) -> Path:
    """A conversation folder holding `text` as expected.yaml and an empty 01.wav."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "expected.yaml").write_text(text, encoding="utf-8")
    (folder / "01.wav").write_bytes(b"")
    return folder


VALID = """
title: t
catalog: coffee
customer: Ada
clock: "2025-03-04T17:00:00+00:00"
setup: [a latte]
turns:
  - audio: 01.wav
    said: yes
    expect:
      words: [yes]
      kind: placed
      cart: []
      order: {status: placed}
"""


def test_a_valid_folder_is_read(tmp_path: Path) -> None:
    conversation = load_conversation(write_conversation(tmp_path / "c", VALID))
    assert conversation.name == "c"
    assert conversation.setup == ("a latte",)
    assert conversation.clock.isoformat() == "2025-03-04T17:00:00+00:00"
    (turn,) = conversation.turns
    assert turn.audio == tmp_path / "c" / "01.wav"
    assert turn.expect == Expect(words=("yes",), kind="placed", cart=(), order={"status": "placed"})
    assert find_conversations(tmp_path) == [tmp_path / "c"]
    assert find_conversations(tmp_path / "c") == [tmp_path / "c"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("catalog: coffee\n", ""), "catalog: required"),
        (('clock: "2025-03-04T17:00:00+00:00"', 'clock: "2025-03-04T17:00:00"'), "UTC offset"),
        (('clock: "2025-03-04T17:00:00+00:00"', "clock: soon"), "clock"),
        (("      kind: placed\n", "      mood: happy\n"), "unknown keys ['mood']"),
        (("  - audio: 01.wav\n", "  - file: 01.wav\n"), "turns[1]: needs `audio"),
        (("      cart: []\n", "      cart: [{quantity: 2}]\n"), "each line needs `product`"),
        (("title: t\n", "title: [\n"), "expected.yaml"),
    ],
)
def test_format_errors_name_the_file_and_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in VALID
    folder = write_conversation(tmp_path / "bad", VALID.replace(old, new))
    with pytest.raises(ConversationFormatError) as error:
        load_conversation(folder)
    assert message in error.value.detail
    assert str(folder / "expected.yaml") in error.value.detail


def test_an_empty_folder_has_no_conversations(tmp_path: Path) -> None:
    assert find_conversations(tmp_path) == []
    with pytest.raises(ConversationFormatError):
        find_conversations(tmp_path / "missing")


def reply(
    kind: str, lines: tuple[LineSummary, ...] = (), order: OrderSummary | None = None
) -> Reply:
    """A Reply with a cart of these lines."""
    cart = CartSummary(lines=lines, subtotal=0, tax=0, total=0, currency="USD", store_id=None)
    return Reply(
        speech="", display="", expects_answer=False, end_session=False, cart=cart, order=order,
        kind=kind,
    )  # fmt: skip


def line(product: str, quantity: int, *options: str) -> LineSummary:
    """A cart line."""
    return LineSummary(1, product, product, options, quantity, 100, 100 * quantity)


def test_check_turn_reports_every_difference() -> None:
    result = TurnResult(
        reply=reply("disambiguate", (line("latte", 1, "Tall"),)), request=None, heard="a mocha"
    )
    expect = Expect(
        words=("latte",),
        intent="add_items",
        kind="added",
        cart=(ExpectedLine("latte", 2, ("Grande",)),),
        order={"status": "placed"},
    )
    problems = check_turn(expect, result)
    assert problems == [
        "heard 'a mocha': missing latte",
        "intent: expected add_items, got none",
        "reply: expected added, got disambiguate",
        "cart: expected [('latte', 2)], got [('latte', 1)]",
        "cart: latte lacks options ['Grande'] (has ('Tall',))",
        "order: expected {'status': 'placed'}, got none",
    ]


def test_check_turn_passes_a_matching_turn() -> None:
    result = TurnResult(
        reply=reply("added", (line("latte", 1, "Grande", "Oat Milk"),)),
        request=None,
        heard="A grande oat latte.",
    )
    expect = Expect(
        words=("grande", "latte"), kind="added", cart=(ExpectedLine("latte", 1, ("Grande",)),)
    )
    assert check_turn(expect, result) == []
    assert check_turn(Expect(), result) == []


def test_check_turn_compares_a_lines_request_when_one_is_expected() -> None:
    noted = replace(line("latte", 1, "Grande"), note="no lid")
    result = TurnResult(reply=reply("request_noted", (noted,)), request=None, heard="no lid")
    assert check_turn(Expect(cart=(ExpectedLine("latte", 1, note="no lid"),)), result) == []
    assert check_turn(Expect(cart=(ExpectedLine("latte", 1),)), result) == []
    assert check_turn(Expect(cart=(ExpectedLine("latte", 1, note="no bag"),)), result) == [
        "cart: latte has request 'no lid', not 'no bag'"
    ]


def test_check_turn_words_ignore_apostrophes_as_the_matcher_does() -> None:
    result = TurnResult(reply=reply("added"), request=None, heard="Add Cheerio's and avocado's.")
    assert check_turn(Expect(words=("cheerios", "avocados")), result) == []
    assert (
        check_turn(
            Expect(words=("cheerio's",)),
            TurnResult(reply=reply("added"), request=None, heard="cheerios"),
        )
        == []
    )
    assert check_turn(Expect(words=("cheddar",)), result) == [
        "heard 'add cheerios and avocados': missing cheddar"
    ]


@pytest.mark.slow
def test_eval_conversations_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    passing = [f for f in conversation_folders() if f.name not in KNOWN_FAILURES][:2]
    failing = CONVERSATIONS / "grocery_pickup_checkout"
    for folder in (*passing, failing):
        target = tmp_path / folder.name
        target.mkdir()
        for file in folder.iterdir():
            (target / file.name).write_bytes(file.read_bytes())
    assert main(["eval-conversations", "--engine", "whisper", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    for folder in passing:
        assert f"PASS  {folder.name}" in out
    assert "FAIL  grocery_pickup_checkout" in out
    assert "2/3 conversations passed" in out
    assert main(["eval-conversations", "--engine", "whisper", str(tmp_path / passing[0].name)]) == 0


@pytest.mark.slow
def test_converse_prints_every_turn(capsys: pytest.CaptureFixture[str]) -> None:
    folder = CONVERSATIONS / "grocery_disambiguation"
    files = [str(folder / "01.wav"), str(folder / "02.wav")]
    code = main(
        ["converse", "--engine", "whisper", "--customer", "Ada", "--catalog", "grocery", *files]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("\nturn ") + out.startswith("turn ") == 2
    assert "request:  add_items: 1 x oat-milk" in out
    assert "[disambiguate]" in out
    assert "[added]" in out
    assert "Oat Milk Original" in out


def test_eval_conversations_without_conversations_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["eval-conversations", str(tmp_path)]) == 1
    assert "no conversations" in capsys.readouterr().err
