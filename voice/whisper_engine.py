"""faster-whisper speech-to-text: the embedded English default, biased to the catalog.

Sessions buffer PCM and re-decode it greedily for partials; `finish` decodes the speech the
gate found from scratch with beam search (see voice/whisper_decode.py for the decoding).
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.audio import SAMPLE_RATE, SAMPLE_WIDTH, SpeechGate, peak_frame_dbfs, to_float
from voice.errors import AudioFormatError, ModelInvalid
from voice.models import is_whisper_model
from voice.stt import Transcript, Word
from voice.vocabulary import Vocabulary
from voice.whisper_decode import (
    FRAMES_PER_SECOND,
    MAX_FRAMES,
    Decoded,
    WhisperDecoder,
    WhisperOptions,
    collapse_repeats,
    is_silence,
)

__all__ = ["WhisperOptions", "WhisperSession", "WhisperTranscriber", "collapse_repeats"]

logger = logging.getLogger(__name__)


class WhisperTranscriber:
    """A loaded CTranslate2 Whisper model (int8 on CPU); sessions are cheap and thread-safe."""

    name = "whisper"

    def __init__(
        self,
        model_path: Path,
        *,
        vocabulary: Vocabulary | None = None,
        options: WhisperOptions | None = None,
        gate: SpeechGate | None = None,
    ) -> None:
        if not is_whisper_model(model_path):
            raise ModelInvalid(f"{model_path} is not a CTranslate2 Whisper model folder")
        self.model_path = model_path
        self.vocabulary = vocabulary
        self.options = options or WhisperOptions()
        self.gate = gate or SpeechGate()
        self.decoder = WhisperDecoder(model_path, cpu_threads=self.options.cpu_threads)
        self._prompts: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def session(
        self, *, vocabulary: Vocabulary | None = None, partials: bool = True
    ) -> WhisperSession:
        """Start one utterance."""
        return WhisperSession(self, vocabulary or self.vocabulary, partials=partials)

    def prompt_tokens(self, vocabulary: Vocabulary | None) -> list[int]:
        """The decoder prompt for a vocabulary (its menu words, when prompting is on)."""
        text = vocabulary.prompt if self.options.prompt and vocabulary is not None else ""
        with self._lock:
            if text not in self._prompts:
                self._prompts[text] = self.decoder.prompt(text)
            return self._prompts[text]

    def decode(
        self,
        audio: npt.NDArray[np.float32],
        *,
        prompt: list[int],
        beam_size: int,
        temperatures: tuple[float, ...],
        n_best: int = 1,
    ) -> tuple[Decoded, Any, int]:
        """Decode up to 30 s of audio with this transcriber's options."""
        return self.decoder.decode(
            audio,
            prompt=prompt,
            beam_size=beam_size,
            temperatures=temperatures,
            n_best=n_best,
            options=self.options,
        )

    def is_silence(self, decoded: Decoded) -> bool:
        """Whether a decode must be dropped as silence, noise or a hallucination."""
        return is_silence(decoded, self.options)


class WhisperSession:
    """One utterance: buffers PCM, re-decodes greedily for partials, decodes fully at the end."""

    def __init__(
        self, owner: WhisperTranscriber, vocabulary: Vocabulary | None, *, partials: bool
    ) -> None:
        self._owner = owner
        self._prompt = owner.prompt_tokens(vocabulary)
        self._partials = partials
        self._audio = bytearray()
        self._partial = ""
        self._partial_at = 0

    def accept(self, pcm: bytes) -> str:
        """Feed 16 kHz mono int16 PCM; return the latest partial text."""
        if len(pcm) % SAMPLE_WIDTH:
            raise AudioFormatError(f"PCM chunk of {len(pcm)} bytes is not whole 16-bit samples")
        self._audio += pcm
        every = self._owner.options.partial_every_ms * SAMPLE_RATE * SAMPLE_WIDTH // 1000
        if self._partials and len(self._audio) - self._partial_at >= every:
            self._partial_at = len(self._audio)
            self._partial = self._decode_partial()
        return self._partial

    def finish(self) -> Transcript:
        """Decode the whole buffer from scratch (beam search, fallbacks, words, gate)."""
        owner, options = self._owner, self._owner.options
        pcm = bytes(self._audio)
        seconds = len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)
        if options.vad:
            spans = owner.gate.segments(pcm)
            if not spans:
                return Transcript.silence(engine=owner.name, seconds=seconds)
            start, end = spans[0][0], spans[-1][1]
        else:
            start, end = 0.0, seconds
        audio = to_float(pcm)[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        if audio.size > (MAX_FRAMES - 100) * SAMPLE_RATE // FRAMES_PER_SECOND:
            return _long_transcript(owner, audio, self._prompt, start=start, seconds=seconds)
        decoded, encoded, frames = owner.decode(
            audio,
            prompt=self._prompt,
            beam_size=options.beam_size,
            temperatures=options.temperatures,
            n_best=options.n_best,
        )
        if owner.is_silence(decoded):
            logger.info(
                "whisper: dropped %r (no_speech %.2f, compression %.2f)",
                decoded.text,
                decoded.no_speech_prob,
                decoded.compression_ratio,
            )
            return Transcript.silence(engine=owner.name, seconds=seconds, dropped=decoded.text)
        words = (
            owner.decoder.words(decoded, encoded, frames, start) if options.word_timestamps else ()
        )
        return Transcript(
            text=decoded.text,
            confidence=math.exp(decoded.avg_logprob),
            words=words,
            alternatives=decoded.alternatives,
            engine=owner.name,
            seconds=seconds,
        )

    def _decode_partial(self) -> str:
        owner = self._owner
        pcm = bytes(self._audio)
        if peak_frame_dbfs(pcm) < owner.gate.min_dbfs:
            return ""
        audio = to_float(pcm)
        keep = (MAX_FRAMES - 100) * SAMPLE_RATE // FRAMES_PER_SECOND
        decoded, _, _ = owner.decode(
            audio[-keep:], prompt=self._prompt, beam_size=1, temperatures=(0.0,)
        )
        return "" if owner.is_silence(decoded) else decoded.text


def _long_transcript(
    owner: WhisperTranscriber,
    audio: npt.NDArray[np.float32],
    prompt: list[int],
    *,
    start: float,
    seconds: float,
) -> Transcript:
    """Speech over 29 s: faster-whisper's own sliding-window transcribe, no n-best."""
    options = owner.options
    texts, words, logprobs = [], [], []
    for decoded, segment_words in owner.decoder.decode_long(audio, prompt=prompt, options=options):
        if owner.is_silence(decoded):
            continue
        texts.append(decoded.text)
        logprobs.append(decoded.avg_logprob)
        words += [
            Word(w.text, round(w.start + start, 3), round(w.end + start, 3), w.confidence)
            for w in segment_words
        ]
    if not texts:
        return Transcript.silence(engine=owner.name, seconds=seconds)
    return Transcript(
        text=" ".join(texts),
        confidence=math.exp(sum(logprobs) / len(logprobs)),
        words=tuple(words) if options.word_timestamps else (),
        engine=owner.name,
        seconds=seconds,
    )
