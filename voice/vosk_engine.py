"""Vosk speech-to-text: streaming recognition with a runtime grammar built from the catalog."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voice.audio import SAMPLE_RATE, SAMPLE_WIDTH, SpeechGate
from voice.errors import AudioFormatError, EngineUnavailable, ModelInvalid, ModelMissing
from voice.models import is_vosk_model, vosk_supports_grammar
from voice.stt import Alternative, Transcript, Word
from voice.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

UNK = "[unk]"


class VoskTranscriber:
    """A loaded Vosk model; sessions are cheap recognisers sharing it.

    With `grammar=True` and a model with a dynamic graph, each session decodes against the
    vocabulary's phrases plus "[unk]"; otherwise it decodes freely with the model's own LM.
    Input the speech gate finds no speech in, or whose mean word confidence is under
    `min_confidence`, gives an empty transcript (with n-best on, Vosk reports no word
    confidences, so only the gate applies).
    """

    name = "vosk"

    def __init__(
        self,
        model_path: Path,
        *,
        vocabulary: Vocabulary | None = None,
        grammar: bool = True,
        n_best: int = 1,
        gate: SpeechGate | None = None,
        min_confidence: float = 0.5,
    ) -> None:
        if not is_vosk_model(model_path):
            raise ModelMissing(f"{model_path} is not an unpacked Vosk model (no am/final.mdl)")
        self.model_path = model_path
        self.vocabulary = vocabulary
        self.use_grammar = grammar and vosk_supports_grammar(model_path)
        self.n_best = n_best
        self.gate = gate or SpeechGate()
        self.min_confidence = min_confidence
        self._model = _load_model(model_path)
        self._grammars: dict[tuple[str, ...], str | None] = {}
        self._lock = threading.Lock()
        if grammar and not self.use_grammar:
            logger.info("%s has a static graph; decoding freely without a grammar", model_path.name)

    def knows(self, word: str) -> bool:
        """Whether the model's lexicon has this word."""
        return int(self._model.vosk_model_find_word(word)) >= 0

    def grammar(self, vocabulary: Vocabulary | None) -> list[str] | None:
        """The phrase list for SetGrammar, or None for free decoding."""
        text = self._grammar_json(vocabulary)
        return None if text is None else list(json.loads(text))

    def session(
        self, *, vocabulary: Vocabulary | None = None, partials: bool = True
    ) -> VoskSession:
        """Start one utterance."""
        grammar = self._grammar_json(vocabulary or self.vocabulary)
        recognizer = _new_recognizer(self._model, grammar, n_best=self.n_best)
        return VoskSession(recognizer, owner=self, partials=partials)

    def _grammar_json(self, vocabulary: Vocabulary | None) -> str | None:
        if not self.use_grammar or not vocabulary:
            return None
        with self._lock:
            if vocabulary.phrases not in self._grammars:
                self._grammars[vocabulary.phrases] = self._build_grammar(vocabulary.phrases)
            return self._grammars[vocabulary.phrases]

    def _build_grammar(self, phrases: Sequence[str]) -> str | None:
        kept: list[str] = []
        unknown: set[str] = set()
        for phrase in phrases:
            words = phrase.split()
            unknown.update(w for w in words if not self.knows(w))
            known = [w for w in words if self.knows(w)]
            if known:
                kept.append(" ".join(known))
        if unknown:
            logger.info(
                "%d vocabulary words are not in %s's lexicon, e.g. %s",
                len(unknown),
                self.model_path.name,
                ", ".join(sorted(unknown)[:8]),
            )
        if not kept:
            logger.warning("no vocabulary word is in %s; decoding freely", self.model_path.name)
            return None
        if self.knows(UNK):
            kept.append(UNK)
        return json.dumps(list(dict.fromkeys(kept)), ensure_ascii=False)


class VoskSession:
    """One utterance through a KaldiRecognizer; Vosk's own endpoints split it into segments."""

    def __init__(self, recognizer: Any, *, owner: VoskTranscriber, partials: bool) -> None:
        self._recognizer = recognizer
        self._gate = owner.gate
        self._min_confidence = owner.min_confidence
        self._partials = partials
        self._n_best = owner.n_best
        self._segments: list[dict[str, Any]] = []
        self._audio = bytearray()

    def accept(self, pcm: bytes) -> str:
        """Feed 16 kHz mono int16 PCM; return the text so far (finished segments + partial)."""
        if len(pcm) % SAMPLE_WIDTH:
            raise AudioFormatError(f"PCM chunk of {len(pcm)} bytes is not whole 16-bit samples")
        self._audio += pcm
        if self._recognizer.AcceptWaveform(pcm):
            self._segments.append(_parse(self._recognizer.Result()))
        if not self._partials:
            return ""
        partial = str(_parse(self._recognizer.PartialResult()).get("partial", ""))
        texts = [_segment_text(s) for s in self._segments] + [_clean(partial)]
        return " ".join(t for t in texts if t)

    def finish(self) -> Transcript:
        """Flush the recogniser and return the whole utterance's transcript."""
        self._segments.append(_parse(self._recognizer.FinalResult()))
        seconds = len(self._audio) / (SAMPLE_RATE * SAMPLE_WIDTH)
        words = tuple(w for s in self._segments for w in _segment_words(s))
        text = " ".join(w.text for w in words)
        if not self._gate.segments(bytes(self._audio)):
            if text:
                logger.info("vosk: dropped %r heard in audio without speech", text)
            return Transcript.silence(engine="vosk", seconds=seconds, dropped=text)
        if not text:
            return Transcript.silence(engine="vosk", seconds=seconds)
        alternatives = self._alternatives()
        scores = [w.confidence for w in words if w.confidence is not None]
        if scores:
            confidence = sum(scores) / len(scores)
            if confidence < self._min_confidence:
                # A grammar forces noise onto its phrases with low word confidences.
                logger.info("vosk: dropped %r at confidence %.2f", text, confidence)
                return Transcript.silence(engine="vosk", seconds=seconds, dropped=text)
        else:  # with n-best Vosk gives no word confidences: the top share is all there is
            confidence = alternatives[0].confidence if alternatives else 0.0
        return Transcript(
            text=text,
            confidence=confidence,
            words=words,
            alternatives=alternatives,
            engine="vosk",
            seconds=seconds,
        )

    def _alternatives(self) -> tuple[Alternative, ...]:
        """The n-best list of the last segment, prefixed by the earlier segments' best text."""
        if self._n_best <= 1 or "alternatives" not in self._segments[-1]:
            return ()
        prefix = " ".join(_segment_text(s) for s in self._segments[:-1])
        alts = [
            (_clean(str(a.get("text", ""))), float(a.get("confidence", 0.0)))
            for a in self._segments[-1]["alternatives"]
        ]
        alts = [(t, c) for t, c in alts if t]
        if not alts:
            return ()
        # Vosk gives total lattice scores; a softmax turns them into shares of belief.
        top = max(c for _, c in alts)
        weights = [math.exp(c - top) for _, c in alts]
        total = sum(weights)
        return tuple(
            Alternative(" ".join(p for p in (prefix, t) if p), w / total)
            for (t, _), w in zip(alts, weights, strict=True)
        )


def _load_model(path: Path) -> Any:
    try:
        import vosk
    except ImportError as error:
        raise EngineUnavailable("the vosk package is not installed: pip install vosk") from error
    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(model_path=str(path))
    except Exception as error:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelInvalid(f"Vosk could not load {path}: {error}") from error


def _new_recognizer(model: Any, grammar: str | None, *, n_best: int) -> Any:
    import vosk

    if grammar is None:
        recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
    else:
        recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar)
    recognizer.SetWords(True)
    if n_best > 1:
        recognizer.SetMaxAlternatives(n_best)
    return recognizer


def _parse(result: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(result)
    return parsed


def _clean(text: str) -> str:
    return " ".join(w for w in text.split() if w != UNK)


def _segment_text(segment: dict[str, Any]) -> str:
    if "alternatives" in segment:
        alternatives = segment["alternatives"]
        return _clean(str(alternatives[0].get("text", ""))) if alternatives else ""
    return _clean(str(segment.get("text", "")))


def _segment_words(segment: dict[str, Any]) -> list[Word]:
    if "alternatives" in segment:
        alternatives = segment["alternatives"]
        raw = alternatives[0].get("result", []) if alternatives else []
    else:
        raw = segment.get("result", [])
    return [
        Word(
            text=str(w["word"]),
            start=float(w["start"]),
            end=float(w["end"]),
            confidence=float(w["conf"]) if "conf" in w else None,
        )
        for w in raw
        if w["word"] != UNK
    ]
