"""Generate the recorded conversations in tests/fixtures/conversations with espeak-ng and sox.

Each conversation becomes a folder with one 16 kHz mono 16-bit WAV per shopper turn and an
expected.yaml (format: voice/conversations.py, docs/voice.md). The expectations below are
what the dialogue should do, written by hand from the catalogs; the recordings are checked
against them by `voicecart eval-conversations` and tests/voice/test_conversations.py.

Deterministic: espeak-ng and sox (run with -D, no dither) give the same bytes for the same
versions. Run: .venv/bin/python scripts/make_conversations.py [--out DIR] [--voice V]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "conversations"
RATE = 16_000
VOICE = "en-gb-x-rp"
WORDS_PER_MINUTE = 130
"""Of 13 espeak-ng voices and rates tried, this one gave Whisper tiny.en the fewest word
errors over all the turns below (24 in 111 words; en-us at 150 wpm: 34)."""
PAD_SECONDS = ("0.3", "0.3")
CLOCK = "2025-03-04T17:00:00+00:00"
"""A Tuesday, 9:00 in Seattle and 11:00 in Springfield: the demo stores are open."""

Turn = tuple[str, dict[str, Any]]


def line(product: str, quantity: int = 1, *options: str) -> dict[str, Any]:
    """An expected cart line."""
    found: dict[str, Any] = {"product": product, "quantity": quantity}
    if options:
        found["options"] = list(options)
    return found


PLACE_GROCERY_ORDER = ["add paper towels", "the first one", "check out", "Elm Street", "yes"]
PLACE_COFFEE_ORDER = ["a grande latte with oat milk", "check out", "Main Street", "yes"]

CONVERSATIONS: dict[str, dict[str, Any]] = {
    "grocery_fill_cart": {
        "title": "Fill a grocery cart over three turns and read it back",
        "catalog": "grocery",
        "turns": [
            (
                "add two avocados and a pound of strawberries",
                {
                    "words": ["avocado", "strawberr"],
                    "intent": "add_items",
                    "kind": "added",
                    "cart": [line("avocados-hass", 2), line("strawberries")],
                },
            ),
            (
                "add a bag of baby carrots",
                {
                    "words": ["carrot"],
                    "kind": "added",
                    "cart": [line("avocados-hass", 2), line("strawberries"), line("carrots-baby")],
                },
            ),
            ("what's in my cart right now", {"intent": "read_cart", "kind": "cart"}),
        ],
    },
    "grocery_pickup_checkout": {
        "title": "Lemons and limes, then check out for pickup at Elm Street",
        "catalog": "grocery",
        "turns": [
            (
                "add three lemons and two limes please",
                {
                    "words": ["lemon", "lime"],
                    "kind": "added",
                    "cart": [line("lemons", 3), line("limes", 2)],
                },
            ),
            ("I'd like to check out now", {"intent": "checkout", "kind": "ask_store"}),
            ("the Elm Street store", {"kind": "confirm_order"}),
            (
                "yes please",
                {
                    "intent": "confirm",
                    "kind": "placed",
                    "cart": [],
                    "order": {"status": "placed", "store": "market-elm-street"},
                },
            ),
        ],
    },
    "grocery_reorder": {
        "title": "Reorder paper towels from an earlier order",
        "catalog": "grocery",
        "setup": PLACE_GROCERY_ORDER,
        "turns": [
            (
                "reorder my paper towels",
                {
                    "words": ["reorder", "paper towel"],
                    "intent": "reorder",
                    "kind": "confirm_reorder",
                    "cart": [],
                },
            ),
            ("yes", {"kind": "reordered", "cart": [line("paper-towels-bounty")]}),
        ],
    },
    "grocery_disambiguation": {
        "title": "Oat milk: two brands, the shopper picks the second",
        "catalog": "grocery",
        "turns": [
            ("I'd like some oat milk", {"words": ["oat milk"], "kind": "disambiguate", "cart": []}),
            ("the second one please", {"kind": "added", "cart": [line("oat-milk-oatly")]}),
        ],
    },
    "grocery_correction": {
        "title": "A quantity corrected in the next turn",
        "catalog": "grocery",
        "turns": [
            (
                "add three lemons",
                {"words": ["lemon"], "kind": "added", "cart": [line("lemons", 3)]},
            ),
            (
                "actually, make that two lemons",
                {"intent": "set_quantity", "kind": "quantity_set", "cart": [line("lemons", 2)]},
            ),
        ],
    },
    "grocery_self_correction": {
        "title": "A correction inside one sentence",
        "catalog": "grocery",
        "turns": [
            (
                "add two limes, no wait, make it three limes",
                {"words": ["lime"], "kind": "added", "cart": [line("limes", 3)]},
            ),
        ],
    },
    "grocery_remove": {
        "title": "Add two things, then take one out",
        "catalog": "grocery",
        "turns": [
            (
                "add a box of cheerios cereal and two avocados",
                {
                    "words": ["cheerios", "avocado"],
                    "kind": "added",
                    "cart": [line("cereal-cheerios"), line("avocados-hass", 2)],
                },
            ),
            (
                "please remove the avocados",
                {"intent": "remove_items", "kind": "removed", "cart": [line("cereal-cheerios")]},
            ),
        ],
    },
    "coffee_custom_pickup": {
        "title": "A customised latte for pickup at Main Street",
        "catalog": "coffee",
        "turns": [
            (
                "a grande oat latte with an extra shot",
                {
                    "words": ["latte"],
                    "intent": "add_items",
                    "kind": "added",
                    "cart": [line("latte", 1, "Grande", "Oat Milk")],
                },
            ),
            ("that's all, I'd like to check out", {"intent": "checkout", "kind": "ask_store"}),
            ("pick it up at Main Street", {"kind": "confirm_order"}),
            (
                "yes please",
                {
                    "kind": "placed",
                    "cart": [],
                    "order": {"status": "placed", "store": "cafe-main-street"},
                },
            ),
        ],
    },
    "coffee_request_said_next": {
        "title": "A grande latte, then its special requests in turns of their own",
        "catalog": "coffee",
        "turns": [
            (
                "a grande latte with oat milk",
                {"words": ["latte"], "intent": "add_items", "kind": "added"},
            ),
            (
                "and no lid please",
                {
                    "kind": "request_noted",
                    "cart": [{**line("latte", 1, "Grande", "Oat Milk"), "note": "no lid"}],
                },
            ),
            (
                "oh and without the sleeve",
                {
                    "kind": "request_noted",
                    # Whisper tiny.en hears espeak's "the sleeve" as "a sleeve".
                    "cart": [
                        {
                            **line("latte", 1, "Grande", "Oat Milk"),
                            "note": "no lid, without a sleeve",
                        }
                    ],
                },
            ),
        ],
    },
    "coffee_pickup_in_fifteen": {
        "title": "A tall oat milk latte with an extra shot, ready at Main Street in 15 minutes",
        "catalog": "coffee",
        "turns": [
            (
                "a tall oat milk latte with an extra shot",
                {
                    "words": ["latte", "oat"],
                    "intent": "add_items",
                    "kind": "added",
                    "cart": [line("latte", 1, "Tall", "Oat Milk", "Double Shot")],
                },
            ),
            ("I'd like to check out", {"intent": "checkout", "kind": "ask_store"}),
            ("Main Street, in fifteen minutes", {"kind": "confirm_order"}),
            (
                "yes, place it",
                {
                    "kind": "placed",
                    "cart": [],
                    "order": {"status": "placed", "store": "cafe-main-street"},
                },
            ),
        ],
    },
    "coffee_iced_and_pastry": {
        "title": "An iced drink with options, then a warmed muffin",
        "catalog": "coffee",
        "turns": [
            (
                "a venti iced caramel macchiato with almond milk",
                {
                    "words": ["caramel macchiato"],
                    "kind": "added",
                    "cart": [line("iced-caramel-macchiato", 1, "Venti", "Almond Milk")],
                },
            ),
            (
                "and a blueberry muffin, warmed",
                {
                    "words": ["muffin"],
                    "kind": "added",
                    "cart": [
                        line("iced-caramel-macchiato", 1, "Venti", "Almond Milk"),
                        line("blueberry-muffin", 1, "Warmed"),
                    ],
                },
            ),
        ],
    },
    "coffee_disambiguation": {
        "title": "Which muffin? Blueberry",
        "catalog": "coffee",
        "turns": [
            ("a muffin please", {"words": ["muffin"], "kind": "disambiguate", "cart": []}),
            ("blueberry", {"kind": "added", "cart": [line("blueberry-muffin")]}),
        ],
    },
    "coffee_cancel": {
        "title": "Start a pickup order, refuse it, and leave",
        "catalog": "coffee",
        "turns": [
            (
                "a tall mocha please",
                {"words": ["mocha"], "kind": "added", "cart": [line("mocha", 1, "Tall")]},
            ),
            ("I'm ready to check out", {"kind": "ask_store"}),
            ("at the Harbor Avenue store", {"kind": "confirm_order"}),
            ("no, don't place it", {"kind": "not_placed", "cart": [line("mocha", 1, "Tall")]}),
            ("never mind", {"intent": "cancel", "kind": "goodbye"}),
        ],
    },
    "coffee_reorder_last": {
        "title": "Reorder the last café order",
        "catalog": "coffee",
        "setup": PLACE_COFFEE_ORDER,
        "turns": [
            (
                "reorder my last order",
                {"words": ["reorder"], "intent": "reorder", "kind": "confirm_reorder"},
            ),
            ("yes", {"kind": "reordered", "cart": [line("latte", 1, "Grande", "Oat Milk")]}),
        ],
    },
}


def run(*command: str) -> None:
    """Run a tool, failing loudly."""
    subprocess.run(command, check=True, capture_output=True)


def speak(text: str, destination: Path, *, voice: str) -> None:
    """espeak-ng, then sox to 16 kHz mono 16-bit without dither, padded with silence."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        run("espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(raw), text)
        run("sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(destination),
            "pad", *PAD_SECONDS)  # fmt: skip


def expected_yaml(name: str, spec: dict[str, Any]) -> str:
    """The expected.yaml of one conversation."""
    turns = [
        {"audio": f"{n:02d}.wav", "said": said, "expect": expect}
        for n, (said, expect) in enumerate(spec["turns"], 1)
    ]
    document: dict[str, Any] = {
        "title": spec["title"],
        "catalog": spec["catalog"],
        "customer": spec.get("customer", "Ada"),
        "clock": CLOCK,
    }
    if spec.get("setup"):
        document["setup"] = spec["setup"]
    document["turns"] = turns
    header = f"# {name}: made by scripts/make_conversations.py; edit the script, not this file.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def write(out: Path, *, voice: str, only: set[str] | None = None) -> int:
    """Write every conversation (or the named ones); returns how many."""
    count = 0
    for name, spec in CONVERSATIONS.items():
        if only and name not in only:
            continue
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for number, (said, _) in enumerate(spec["turns"], 1):
            speak(said, folder / f"{number:02d}.wav", voice=voice)
        (folder / "expected.yaml").write_text(expected_yaml(name, spec), encoding="utf-8")
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """Check the tools, then write the conversations."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output folder (default: %(default)s)"
    )
    parser.add_argument("--voice", default=VOICE, help="espeak-ng voice (default: %(default)s)")
    parser.add_argument("names", nargs="*", help="only these conversations")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        print(
            f"missing tools: {', '.join(missing)} (apt-get install espeak-ng sox)", file=sys.stderr
        )
        return 1
    unknown = set(args.names) - set(CONVERSATIONS)
    if unknown:
        print(f"unknown conversations: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 1
    count = write(args.out, voice=args.voice, only=set(args.names) or None)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {count} conversations to {args.out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
