"""Audio -> transcript -> Request: the pipeline behind `understand`, `eval` and the voice turn.

An Understander holds one loaded transcriber, the catalog, its product index and the catalog's
vocabulary. For each utterance the speech tracker (voice.speech_span: a level floor and the
Silero VAD) finds the speech; audio without any is never handed to the engine, so silence and
noise cannot become an order. The speech, from the first run's start to the last run's end, is
recognised (biased to the catalog), every hypothesis of the engine's n-best list is parsed, and
voice.rescore picks the one the catalog explains best.

Streaming (`listen`): once the tracker hears `hangover_ms` of silence after speech, the speech
so far is decoded as a draft while audio keeps arriving. `finish()` takes the speech span of the
whole utterance; when its bytes are the draft's, the draft is the answer, so the time from the
last chunk to the Request is a lookup. Any other audio (the shopper went on talking) is decoded
afresh: a draft never changes a result, only when it is ready.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from catalog.match import ProductIndex
from catalog.model import Catalog
from catalog.parse import COMMAND_WORDS, index_for
from catalog.request import Intent, Request
from voice import models
from voice.audio import SAMPLE_RATE, SAMPLE_WIDTH, chunks
from voice.rescore import Choice, choose
from voice.speech_span import SpeechSpan, SpeechTracker
from voice.stt import Engine, Session, Transcriber, Transcript, create_transcriber
from voice.vocabulary import Vocabulary, vocabulary_from_catalog
from voice.whisper_engine import WhisperOptions, WhisperTranscriber

logger = logging.getLogger(__name__)

CHUNK_MS = 500
BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH
UNDERSTAND_WHISPER = WhisperOptions(n_best=5, word_timestamps=False, vad=False)
"""Whisper settings for understanding orders (the measurements are in docs/eval.md)."""


def load_transcriber(
    engine: str,
    *,
    models_dir: Path,
    model: Path | None = None,
    vocabulary: Vocabulary | None = None,
    threads: int | None = None,
) -> Transcriber:
    """The engine for understanding orders: Vosk when chosen (or found, with auto), else
    Whisper with UNDERSTAND_WHISPER (n-best for rescoring against the catalog)."""
    kind = Engine(engine)
    if kind is Engine.VOSK or (kind is Engine.AUTO and models.find_vosk_model(models_dir)):
        return create_transcriber(
            kind.value, models_dir=models_dir, vocabulary=vocabulary, model=model
        )
    options = UNDERSTAND_WHISPER
    if threads is not None:
        options = replace(options, cpu_threads=threads)
    path = model if model is not None else models.find_whisper_model(models_dir)
    return WhisperTranscriber(path, vocabulary=vocabulary, options=options)


@dataclass(frozen=True)
class Understanding:
    """What one utterance meant: the transcript, the Request, and where the time went.

    `seconds` is the wall time from the end of the audio to the Request (the whole call for
    `Understander.understand`); `timings` splits it by step ("stt", "parse"), or is
    {"draft": 1.0} when a streamed utterance was answered by its draft decode. `chosen` is the
    hypothesis the Request was read from.
    """

    transcript: Transcript
    request: Request
    seconds: float
    timings: Mapping[str, float] = field(default_factory=dict)
    chosen: str = ""


@dataclass(frozen=True)
class Endpointing:
    """When a streamed utterance gets a draft decode: after `hangover_ms` of silence."""

    hangover_ms: int = 300
    check_every_ms: int = 100
    enabled: bool = True


class Understander:
    """A transcriber, a catalog and its index: turns utterances into Requests."""

    def __init__(
        self,
        transcriber: Transcriber,
        catalog: Catalog,
        *,
        index: ProductIndex | None = None,
        vocabulary: Vocabulary | None = None,
        rescore: bool = True,
        endpointing: Endpointing | None = None,
    ) -> None:
        self.transcriber = transcriber
        self.catalog = catalog
        self.index = index or index_for(catalog)
        self.vocabulary = vocabulary or catalog_vocabulary(catalog)
        self.rescore = rescore
        self.endpointing = endpointing or Endpointing()

    def understand(self, pcm: bytes, *, history: Mapping[str, int] | None = None) -> Understanding:
        """Recognise and parse one whole utterance of 16 kHz mono int16 PCM."""
        started = time.perf_counter()
        result = self.decode(self.speech(pcm), seconds=len(pcm) / BYTES_PER_SECOND)
        result = self.reinterpret(result, history)
        return replace(result, seconds=time.perf_counter() - started)

    def listen(self, *, partials: bool = False) -> Listening:
        """Start one streamed utterance: feed chunks with accept(), then finish()."""
        return Listening(self, partials=partials)

    def tracker(self) -> SpeechTracker:
        """A fresh incremental speech detector for one utterance."""
        return SpeechTracker()

    def speech(self, pcm: bytes) -> bytes:
        """The padded speech of a whole utterance; b"" when there is none."""
        tracker = self.tracker()
        tracker.extend(pcm)
        return clip(pcm, tracker.span())

    def decode(self, clip: bytes, *, seconds: float) -> Understanding:
        """Recognise a speech clip and parse it; an empty clip is no speech (no engine run)."""
        started = time.perf_counter()
        if not clip:
            transcript = Transcript.silence(engine=self.transcriber.name, seconds=seconds)
        else:
            session = self.transcriber.session(vocabulary=self.vocabulary, partials=False)
            for chunk in chunks(clip, ms=CHUNK_MS):
                session.accept(chunk)
            transcript = session.finish()
        heard = time.perf_counter()
        choice = self.interpret(transcript)
        done = time.perf_counter()
        return Understanding(
            transcript=transcript,
            request=choice.request,
            seconds=done - started,
            timings={"stt": heard - started, "parse": done - heard},
            chosen=choice.text,
        )

    def interpret(
        self, transcript: Transcript, *, history: Mapping[str, int] | None = None
    ) -> Choice:
        """The Request a transcript carries, choosing among its n-best hypotheses."""
        if transcript.no_speech or not transcript.text.strip():
            return Choice(Request(Intent.UNKNOWN, text=""), "", 0.0)
        texts = [(a.text, a.confidence) for a in transcript.alternatives]
        if not self.rescore or not texts:
            texts = [(transcript.text, 1.0)]
        return choose(texts, self.catalog, index=self.index, history=history)

    def reinterpret(
        self, result: Understanding, history: Mapping[str, int] | None
    ) -> Understanding:
        """The result parsed again with the shopper's purchase history, when there is one."""
        if not history:
            return result
        choice = self.interpret(result.transcript, history=history)
        return replace(result, request=choice.request, chosen=choice.text)


class Listening:
    """One utterance in progress: PCM chunks in, then the Understanding."""

    def __init__(self, owner: Understander, *, partials: bool) -> None:
        self._owner = owner
        self._pcm = bytearray()
        self._tracker = owner.tracker()
        self._checked = 0
        self._draft: tuple[bytes, Understanding] | None = None
        self._partials: Session | None = None
        if partials:
            vocabulary = owner.vocabulary
            self._partials = owner.transcriber.session(vocabulary=vocabulary, partials=True)

    @property
    def drafted(self) -> bool:
        """Whether a draft decode has been made."""
        return self._draft is not None

    def accept(self, pcm: bytes) -> str:
        """Feed a chunk of 16 kHz mono int16 PCM; return the engine's partial text, if any."""
        self._pcm += pcm
        self._tracker.extend(pcm)
        endpointing = self._owner.endpointing
        every = endpointing.check_every_ms * BYTES_PER_SECOND // 1000
        if endpointing.enabled and len(self._pcm) - self._checked >= every:
            self._checked = len(self._pcm)
            self._maybe_draft()
        return self._partials.accept(pcm) if self._partials is not None else ""

    def finish(self, *, history: Mapping[str, int] | None = None) -> Understanding:
        """End the utterance: the Request, timed from this call."""
        started = time.perf_counter()
        pcm = bytes(self._pcm)
        speech = clip(pcm, self._tracker.span())
        draft = self._draft[1] if self._draft and self._draft[0] == speech else None
        result = draft or self._owner.decode(speech, seconds=len(pcm) / BYTES_PER_SECOND)
        result = self._owner.reinterpret(result, history)
        timings = {"draft": 1.0} if draft else dict(result.timings)
        return replace(result, seconds=time.perf_counter() - started, timings=timings)

    def _maybe_draft(self) -> None:
        """Decode the speech so far once it is followed by enough silence."""
        span = self._tracker.span()
        if span is None or span.silence_after * 1000 < self._owner.endpointing.hangover_ms:
            return
        pcm = bytes(self._pcm)
        speech = clip(pcm, span)
        if self._draft is None or self._draft[0] != speech:
            seconds = len(pcm) / BYTES_PER_SECOND
            self._draft = (speech, self._owner.decode(speech, seconds=seconds))


def clip(pcm: bytes, span: SpeechSpan | None) -> bytes:
    """The bytes of a speech span (b"" for None)."""
    if span is None:
        return b""
    return pcm[span.start * SAMPLE_WIDTH : span.end * SAMPLE_WIDTH]


def catalog_vocabulary(catalog: Catalog) -> Vocabulary:
    """The catalog's words plus every word the parser understands, for biasing engines."""
    return vocabulary_from_catalog(catalog, command_words=sorted(COMMAND_WORDS))
