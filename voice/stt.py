"""Speech-to-text: the Transcriber protocol, its result types, and the engine factory."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from voice import models
from voice.audio import chunks
from voice.errors import EngineUnavailable, ModelMissing
from voice.vocabulary import Vocabulary

logger = logging.getLogger(__name__)


class Engine(StrEnum):
    """The speech engines `create_transcriber` knows."""

    AUTO = "auto"
    WHISPER = "whisper"
    VOSK = "vosk"


@dataclass(frozen=True)
class Word:
    """One recognised word with its start and end in seconds and the engine's confidence."""

    text: str
    start: float
    end: float
    confidence: float | None = None


@dataclass(frozen=True)
class Alternative:
    """One hypothesis of an n-best list."""

    text: str
    confidence: float


@dataclass(frozen=True)
class Transcript:
    """What an engine heard in one utterance.

    `confidence` is in [0, 1]. `alternatives` is the n-best list, best first (the first one is
    `text`), when the engine gives one. `no_speech` says the input was judged silence or noise:
    `text` is then empty and `dropped` holds whatever the engine produced and we threw away.
    """

    text: str
    confidence: float
    words: tuple[Word, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    engine: str = ""
    seconds: float = 0.0
    no_speech: bool = False
    dropped: str = ""

    @classmethod
    def silence(cls, *, engine: str, seconds: float, dropped: str = "") -> Transcript:
        """The transcript of input that held no usable speech."""
        return cls(
            text="", confidence=0.0, engine=engine, seconds=seconds, no_speech=True, dropped=dropped
        )


class Session(Protocol):
    """One utterance being recognised: feed PCM chunks, read partials, then finish."""

    def accept(self, pcm: bytes) -> str:
        """Feed 16 kHz mono int16 little-endian PCM; return the partial text so far."""
        ...

    def finish(self) -> Transcript:
        """End the utterance and return the final transcript (independent of partials)."""
        ...


class Transcriber(Protocol):
    """A loaded speech engine; cheap, thread-safe `session()` calls share the one model."""

    name: str

    def session(self, *, vocabulary: Vocabulary | None = None, partials: bool = True) -> Session:
        """Start recognising one utterance, biased to `vocabulary` (or the transcriber's own)."""
        ...


def transcribe(
    transcriber: Transcriber,
    pcm: bytes,
    *,
    vocabulary: Vocabulary | None = None,
    chunk_ms: int = 500,
) -> Transcript:
    """Recognise a whole utterance of 16 kHz mono PCM without computing partials."""
    session = transcriber.session(vocabulary=vocabulary, partials=False)
    for chunk in chunks(pcm, ms=chunk_ms):
        session.accept(chunk)
    return session.finish()


def create_transcriber(
    engine: str,
    *,
    models_dir: Path,
    vocabulary: Vocabulary | None,
    model: Path | None = None,
) -> Transcriber:
    """Load the named engine ("auto", "whisper", "vosk"); `model` overrides model discovery.

    "auto" picks Vosk when an English Vosk model is installed in `models_dir`, otherwise the
    embedded faster-whisper default. The choice is logged.
    """
    try:
        kind = Engine(engine)
    except ValueError:
        known = ", ".join(e.value for e in Engine)
        raise EngineUnavailable(
            f"unknown speech engine {engine!r}; choose one of: {known}"
        ) from None
    if kind is Engine.AUTO:
        vosk_model = model if model is not None else models.find_vosk_model(models_dir)
        if vosk_model is not None:
            logger.info("engine auto: using Vosk with the English model %s", vosk_model)
            kind, model = Engine.VOSK, vosk_model
        else:
            logger.info(
                "engine auto: no English Vosk model in %s; using faster-whisper", models_dir
            )
            kind = Engine.WHISPER
    if kind is Engine.VOSK:
        from voice.vosk_engine import VoskTranscriber

        path = model if model is not None else models.find_vosk_model(models_dir)
        if path is None:
            raise ModelMissing(models.vosk_missing_message(models_dir))
        return VoskTranscriber(path, vocabulary=vocabulary)
    from voice.whisper_engine import WhisperTranscriber

    path = model if model is not None else models.find_whisper_model(models_dir)
    return WhisperTranscriber(path, vocabulary=vocabulary)
