"""Recorded conversations: the folder format, a stage to play them on, and the checks.

A conversation is a folder holding one WAV per shopper turn and `expected.yaml`:

    title: Fill a grocery cart and read it back
    catalog: grocery              # a demo catalog name, or a catalog file (relative path)
    customer: Ada
    clock: "2025-03-04T17:00:00+00:00"   # the conversation's fixed "now"
    setup: [add paper towels]     # typed turns played first and not checked (optional)
    turns:
      - audio: 01.wav
        said: add two avocados    # what the recording says (for people and reports)
        expect:                   # every key is optional
          words: [avocado]        # phrases the transcript must contain (normalised)
          intent: add_items       # the Request's intent ("none": nothing usable heard)
          kind: added             # the Reply's kind (orders.dialog_reply.ReplyKind)
          cart:                   # the whole cart after the turn ([] = empty)
            - {product: avocados-hass, quantity: 2, options: [Grande]}
            - {product: latte, note: no lid}   # `note`: the line's special request, exactly
          order: {status: placed, store: cafe-main-street}

Each conversation runs on a fresh SQLite database with the catalog loaded and the customer
created, through voice.turn.Pipeline: the same steps as POST /v1/voice/turn.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from catalog.demo import DEMO_CATALOGS, load_demo_catalog
from catalog.errors import VoiceCartError
from catalog.format import load_catalog
from catalog.model import Catalog
from orders.catalog_store import CatalogCache, load_catalog_into
from orders.clock import Clock, utc_now
from orders.customers import create_customer
from orders.db import make_engine, make_sessions, upgrade
from orders.tables import Channel
from voice import audio
from voice.stt import Transcriber
from voice.tts import Speaker
from voice.turn import Pipeline, Shopper, TurnResult
from voice.vocabulary import normalise

logger = logging.getLogger(__name__)

EXPECTED = "expected.yaml"
NO_REQUEST = "none"


class _Loader(yaml.SafeLoader):
    """YAML with only true/false as booleans: "yes", "no", "on" and "off" stay words, since
    shoppers say them (`said: yes`, `words: [no]`)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class ConversationFormatError(VoiceCartError):
    """A conversation folder that cannot be read; the detail names the file and the field."""

    status_code = 422


@dataclass(frozen=True)
class ExpectedLine:
    """A cart line the turn must leave: product, quantity, (some of) its options and, when
    given, its special request."""

    product: str
    quantity: int
    options: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Expect:
    """What one turn must achieve; None (or empty words) means "not checked"."""

    words: tuple[str, ...] = ()
    intent: str | None = None
    kind: str | None = None
    cart: tuple[ExpectedLine, ...] | None = None
    order: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ExpectedTurn:
    """One recorded shopper turn and what it must do."""

    audio: Path
    said: str
    expect: Expect


@dataclass(frozen=True)
class Conversation:
    """A whole recorded conversation, read from its folder."""

    name: str
    folder: Path
    title: str
    catalog: str
    customer: str
    clock: datetime
    turns: tuple[ExpectedTurn, ...]
    setup: tuple[str, ...] = ()

    def load_catalog(self) -> Catalog:
        """The conversation's catalog: a demo catalog by name, or a file beside it."""
        if self.catalog in DEMO_CATALOGS:
            return load_demo_catalog(self.catalog)
        return load_catalog(self.folder / self.catalog)


@dataclass
class TurnOutcome:
    """A played turn: what happened, and every way it differs from what was expected."""

    turn: ExpectedTurn
    result: TurnResult
    problems: list[str] = field(default_factory=list)


@dataclass
class ConversationOutcome:
    """A played conversation."""

    conversation: Conversation
    turns: list[TurnOutcome] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every turn did what was expected."""
        return all(not turn.problems for turn in self.turns)


def find_conversations(root: Path) -> list[Path]:
    """The conversation folders under `root` (it may be one itself), sorted by name."""
    if (root / EXPECTED).is_file():
        return [root]
    if not root.is_dir():
        raise ConversationFormatError(f"{root}: not a folder")
    return sorted(p.parent for p in root.glob(f"*/{EXPECTED}"))


def load_conversation(folder: Path) -> Conversation:
    """Read a conversation folder; ConversationFormatError names what is wrong."""
    path = folder / EXPECTED
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except (OSError, yaml.YAMLError) as error:
        raise ConversationFormatError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise ConversationFormatError(f"{path}: expected a mapping at the top")
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, list) or not raw_turns:
        raise ConversationFormatError(f"{path}: turns: a list of at least one turn is required")
    return Conversation(
        name=folder.name,
        folder=folder,
        title=str(data.get("title", folder.name)),
        catalog=_text(data, "catalog", path),
        customer=str(data.get("customer", "Shopper")),
        clock=_clock(data.get("clock"), path),
        setup=tuple(str(t) for t in data.get("setup") or ()),
        turns=tuple(_turn(folder, n, raw, path) for n, raw in enumerate(raw_turns, 1)),
    )


def _text(data: Mapping[str, Any], key: str, path: Path) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConversationFormatError(f"{path}: {key}: required")
    return value


def _clock(value: object, path: Path) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise ConversationFormatError(f"{path}: clock: {error}") from error
    if moment.tzinfo is None:
        raise ConversationFormatError(f"{path}: clock: needs a UTC offset, e.g. +00:00")
    return moment


def _turn(folder: Path, number: int, raw: object, path: Path) -> ExpectedTurn:
    where = f"{path}: turns[{number}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("audio"), str):
        raise ConversationFormatError(f"{where}: needs `audio: FILE.wav`")
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise ConversationFormatError(f"{where}: expect: must be a mapping")
    unknown = set(expect) - {"words", "intent", "kind", "cart", "order"}
    if unknown:
        raise ConversationFormatError(f"{where}: expect: unknown keys {sorted(unknown)}")
    cart = expect.get("cart")
    return ExpectedTurn(
        audio=folder / raw["audio"],
        said=str(raw.get("said", "")),
        expect=Expect(
            words=tuple(str(w) for w in expect.get("words") or ()),
            intent=_optional(expect.get("intent")),
            kind=_optional(expect.get("kind")),
            cart=None if cart is None else tuple(_line(line, where) for line in cart),
            order=None if expect.get("order") is None else _order(expect["order"], where),
        ),
    )


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _line(raw: object, where: str) -> ExpectedLine:
    if not isinstance(raw, dict) or "product" not in raw:
        raise ConversationFormatError(f"{where}: cart: each line needs `product`")
    return ExpectedLine(
        product=str(raw["product"]),
        quantity=int(raw.get("quantity", 1)),
        options=tuple(str(o) for o in raw.get("options") or ()),
        note=_optional(raw.get("note")),
    )


def _order(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ConversationFormatError(f"{where}: order: must be a mapping")
    return {str(k): str(v) for k, v in raw.items()}


@dataclass
class Stage:
    """A pipeline on a database with one catalog and one customer: where turns are played."""

    pipeline: Pipeline
    shopper: Shopper

    def text(self, text: str) -> TurnResult:
        """A typed turn."""
        return self.pipeline.text_turn(text, self.shopper)

    def audio(self, path: Path, *, speak: bool = False) -> TurnResult:
        """A recorded turn (any format voice.audio decodes)."""
        return self.pipeline.audio_turn(audio.load(path).pcm, self.shopper, speak=speak)


@contextmanager
def open_stage(
    catalog: Catalog,
    *,
    customer: str,
    transcriber: Transcriber,
    speaker: Speaker | None = None,
    clock: datetime | None = None,
    database_url: str | None = None,
    session_id: str = "conversation",
) -> Iterator[Stage]:
    """A stage on `database_url` (default: a new SQLite file in a temporary folder).

    `clock` pins "now" (store hours and pickup times then come out the same on every run).
    """
    tick: Clock = utc_now if clock is None else (lambda: clock)
    with tempfile.TemporaryDirectory(prefix="voicecart-") as folder:
        engine = make_engine(database_url or f"sqlite:///{folder}/conversation.db")
        try:
            upgrade(engine)
            sessions = make_sessions(engine)
            with sessions() as db:
                load_catalog_into(db, catalog, source="conversation", clock=tick)
                person, _ = create_customer(db, name=customer, clock=tick)
            pipeline = Pipeline(
                transcriber=transcriber,
                speaker=speaker,
                sessions=sessions,
                catalogs=CatalogCache(),
                clock=tick,
            )
            yield Stage(pipeline, Shopper(person.id, session_id, Channel.APP))
        finally:
            engine.dispose()


def run_conversation(
    conversation: Conversation, *, transcriber: Transcriber, speaker: Speaker | None = None
) -> ConversationOutcome:
    """Play a conversation on a fresh stage and check every turn."""
    outcome = ConversationOutcome(conversation)
    with open_stage(
        conversation.load_catalog(),
        customer=conversation.customer,
        transcriber=transcriber,
        speaker=speaker,
        clock=conversation.clock,
    ) as stage:
        for text in conversation.setup:
            stage.text(text)
        for turn in conversation.turns:
            result = stage.audio(turn.audio, speak=speaker is not None)
            outcome.turns.append(TurnOutcome(turn, result, check_turn(turn.expect, result)))
    return outcome


def check_turn(expect: Expect, result: TurnResult) -> list[str]:
    """Every difference between what a turn did and what was expected."""
    problems: list[str] = []
    heard = _spelling(result.heard or (result.transcript.text if result.transcript else ""))
    missing = [w for w in expect.words if _spelling(w) not in heard]
    if missing:
        problems.append(f"heard {heard!r}: missing {', '.join(missing)}")
    intent = result.request.intent.value if result.request is not None else NO_REQUEST
    if expect.intent is not None and intent != expect.intent:
        problems.append(f"intent: expected {expect.intent}, got {intent}")
    if expect.kind is not None and result.reply.kind != expect.kind:
        problems.append(f"reply: expected {expect.kind}, got {result.reply.kind}")
    if expect.cart is not None:
        problems += _cart_problems(expect.cart, result)
    if expect.order is not None:
        problems += _order_problems(expect.order, result)
    return problems


def _spelling(text: str) -> str:
    """Text as the words check compares it: normalised, apostrophes dropped as the matcher does
    (a recogniser may spell "cheerios" as "Cheerio's"; the cart is the same)."""
    return normalise(text).replace("'", "")


def _cart_problems(expected: Sequence[ExpectedLine], result: TurnResult) -> list[str]:
    cart = result.reply.cart
    lines = list(cart.lines) if cart is not None else []
    got = sorted((line.product_id, line.quantity) for line in lines)
    want = sorted((line.product, line.quantity) for line in expected)
    problems = [] if got == want else [f"cart: expected {want}, got {got}"]
    for line in expected:
        match = next((g for g in lines if g.product_id == line.product), None)
        if match is None:
            continue
        absent = [o for o in line.options if o not in match.options]
        if absent:
            problems.append(f"cart: {line.product} lacks options {absent} (has {match.options})")
        if line.note is not None and match.note != line.note:
            problems.append(f"cart: {line.product} has request {match.note!r}, not {line.note!r}")
    return problems


def _order_problems(expected: Mapping[str, str], result: TurnResult) -> list[str]:
    order = result.reply.order
    if order is None:
        return [f"order: expected {dict(expected)}, got none"]
    got = {"status": order.status, "store": order.store_id}
    return [
        f"order {key}: expected {value}, got {got.get(key)}"
        for key, value in expected.items()
        if got.get(key) != value
    ]
