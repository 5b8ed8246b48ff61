"""One voice turn: audio -> transcript -> Request -> Reply -> speech, the same for every channel.

A Pipeline holds a turn's collaborators (the one loaded transcriber, a speaker, the database's
session factory, the catalog cache and a clock) and runs the steps; callers choose how the
audio arrives (a whole file, a stream) and how the answer leaves. Every method blocks: the
server calls them off the event loop.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
import wave
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session, sessionmaker

from catalog.request import Request
from orders.catalog_store import CatalogCache, CatalogSnapshot
from orders.clock import Clock
from orders.db import begin_write
from orders.dialog import Reply, handle_turn
from orders.reorders import bought_products
from orders.tables import Channel
from voice.stt import Transcriber, Transcript
from voice.tts import Speaker
from voice.understand import Endpointing, Understander, Understanding

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
ENDPOINTING = Endpointing(hangover_ms=300, check_every_ms=100)
"""The draft decode starts 300 ms into the silence after speech; streamed audio reaches the
Listening in 100 ms steps then (voice.stream), so it is checked that often."""


@dataclass(frozen=True)
class Shopper:
    """Who is talking, in which conversation, over which channel."""

    customer_id: int
    session_id: str
    channel: Channel = Channel.APP


@dataclass(frozen=True)
class TurnResult:
    """What one turn heard, understood and answered, and where the time went (seconds).

    `heard` is the text the Request was read from (a transcript hypothesis, or typed text);
    `request` is None when the shopper said nothing usable. Timings in seconds by step:
    "stt" and "parse" (speech), "dialog" (with the database), "tts" (when spoken).
    """

    reply: Reply
    request: Request | None
    heard: str = ""
    transcript: Transcript | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    audio: bytes | None = None
    """The spoken reply as WAV, when asked for and a speaker is configured."""


@dataclass(frozen=True)
class Listener:
    """What hearing one shopper needs: the catalog's Understander and their purchase history."""

    understander: Understander
    history: Mapping[str, int]


class Pipeline:
    """The collaborators of a turn, shared by every connection of the process."""

    def __init__(
        self,
        *,
        transcriber: Transcriber,
        speaker: Speaker | None,
        sessions: sessionmaker[Session],
        catalogs: CatalogCache,
        clock: Clock,
        locale: str = "en",
    ) -> None:
        self.transcriber = transcriber
        self.speaker = speaker
        self.sessions = sessions
        self.catalogs = catalogs
        self.clock = clock
        self.locale = locale
        self._understander: tuple[int, Understander] | None = None
        self._lock = threading.Lock()

    def understander(self, snapshot: CatalogSnapshot) -> Understander:
        """The Understander of a catalog version (rebuilt once after a new catalog load)."""
        with self._lock:
            cached = self._understander
            if cached is not None and cached[0] == snapshot.version:
                return cached[1]
            understander = Understander(
                self.transcriber,
                snapshot.catalog,
                index=snapshot.index,
                endpointing=ENDPOINTING,
            )
            self._understander = (snapshot.version, understander)
            logger.info("voice: catalog version %d for speech", snapshot.version)
            return understander

    def listener(self, shopper: Shopper) -> Listener:
        """The current catalog's Understander and the shopper's history (one short query)."""
        with self.sessions() as db:
            understander = self.understander(self.catalogs.get(db))
            return Listener(understander, bought_products(db, shopper.customer_id))

    def hear(self, pcm: bytes, listener: Listener) -> Understanding:
        """Recognise and parse one whole utterance of 16 kHz mono PCM (no database)."""
        return listener.understander.understand(pcm, history=listener.history)

    def respond(
        self,
        shopper: Shopper,
        *,
        understanding: Understanding | None = None,
        text: str | None = None,
    ) -> TurnResult:
        """Answer what was heard (or typed) in the dialogue; typed text is parsed here."""
        started = time.perf_counter()
        with self.sessions() as db:
            snapshot = self.catalogs.get(db)
            request, heard = None, ""
            if understanding is not None:
                if not understanding.transcript.no_speech and understanding.chosen.strip():
                    request, heard = understanding.request, understanding.chosen
            elif text and text.strip():
                typed = Transcript(text=text.strip(), confidence=1.0, engine="typed")
                history = bought_products(db, shopper.customer_id)
                choice = self.understander(snapshot).interpret(typed, history=history)
                request, heard = choice.request, choice.text
            parsed = time.perf_counter()
            # A turn always writes (at least the conversation's state). Take the writer's
            # place first, as the order service's use cases do: on SQLite a transaction that
            # read and then writes fails at once ("database is locked") when another turn
            # committed in between, instead of waiting its turn.
            begin_write(db)
            reply = handle_turn(
                request,
                session_id=shopper.session_id,
                customer_id=shopper.customer_id,
                channel=shopper.channel.value,
                db=db,
                catalog=snapshot.catalog,
                index=snapshot.index,
                clock=self.clock,
                locale=self.locale,
            )
        done = time.perf_counter()
        logger.info("turn in session %s: %s", shopper.session_id, reply.kind)
        timings = {"dialog": done - parsed}
        if understanding is None:
            timings["parse"] = parsed - started
        return TurnResult(
            reply=reply,
            request=request,
            heard=heard,
            transcript=understanding.transcript if understanding is not None else None,
            timings=timings,
        )

    def audio_turn(self, pcm: bytes, shopper: Shopper, *, speak: bool = True) -> TurnResult:
        """A whole turn from decoded audio, with the spoken reply when `speak`."""
        started = time.perf_counter()
        understanding = self.hear(pcm, self.listener(shopper))
        heard = time.perf_counter()
        result = self.respond(shopper, understanding=understanding)
        timings = {"hear": heard - started, **understanding.timings}
        return self._spoken(result, timings, speak=speak)

    def text_turn(self, text: str, shopper: Shopper, *, speak: bool = False) -> TurnResult:
        """A typed turn through the same dialogue (spoken too when `speak`)."""
        return self._spoken(self.respond(shopper, text=text), {}, speak=speak)

    def _spoken(
        self, result: TurnResult, timings: Mapping[str, float], *, speak: bool
    ) -> TurnResult:
        merged = {**timings, **result.timings}
        audio = None
        if speak:
            started = time.perf_counter()
            audio = self.speak(result.reply.speech)
            merged["tts"] = time.perf_counter() - started
        return replace(result, timings=merged, audio=audio)

    def speak(self, text: str) -> bytes | None:
        """The reply as one WAV (None without a speaker or with nothing to say)."""
        if self.speaker is None or not text.strip():
            return None
        return self.speaker.synthesize(text)

    def speak_parts(self, text: str) -> Iterator[bytes]:
        """The reply sentence by sentence as WAVs, so the first one can play while the rest
        are rendered (and a repeated sentence, such as "Shall I place it?", is cached)."""
        if self.speaker is None:
            return
        for sentence in split_sentences(text):
            yield self.speaker.synthesize(sentence)


def split_sentences(text: str) -> list[str]:
    """A reply's sentences ("Added 2 lattes. Anything else?" -> two)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def wav_info(wav: bytes) -> tuple[int, float]:
    """The sample rate and duration (seconds) of WAV bytes."""
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        return rate, reader.getnframes() / rate
