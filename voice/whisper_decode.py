"""Whisper decoding on CTranslate2: short encoder windows, fallbacks, n-best, word times.

Whisper pads every window to 30 s. Here a window holds the speech the VAD found plus
`window_pad_s` of padding: on two cores that cuts the encoder from about 350 ms to under
100 ms, and on the 188 barista recordings it scored as well as the 30 s window did (slot
values found 0.978-0.980 against 0.974). Without enough padding the decoder loops; with 10 s it did
not on any fixture, and `collapse_repeats` removes loops that slip through.
"""

from __future__ import annotations

import logging
import math
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.errors import EngineUnavailable, ModelInvalid
from voice.stt import Alternative, Word

logger = logging.getLogger(__name__)

FRAMES_PER_SECOND = 100
MAX_FRAMES = 3000
PROMPT_TOKENS = 223
"""Whisper's decoder keeps at most this many prompt tokens (max_length // 2 - 1)."""


@dataclass(frozen=True)
class WhisperOptions:
    """Decoding knobs; the defaults are the measured best trade-off on two CPU cores."""

    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0,)
    """Tried in order while the output loops or has a low log-probability. Whisper's usual
    fallback (0.0, 0.2, ..., 1.0) samples at random; on the 188 barista files (0.0, 0.4, 0.8)
    scored exactly as (0.0,) did, so the default stays deterministic."""
    n_best: int = 1
    window_pad_s: float | None = 10.0
    """Encoder window = speech + this padding; None keeps Whisper's full 30 s window."""
    prompt: bool = True
    """Put the vocabulary's menu prompt in the decoder context (same tokens as `hotwords`)."""
    vad: bool = True
    """Ask the speech gate first and decode only the speech it found."""
    word_timestamps: bool = True
    partial_every_ms: int = 500
    no_speech_threshold: float = 0.5
    """Whisper's own default is 0.6; "Thank you." on kitchen noise came at 0.59-0.60, while 120
    barista orders (clean, and mixed with kitchen noise at 6 and 0 dB SNR) stayed under 0.13."""
    unsure_no_speech: float = 0.15
    unsure_log_prob: float = -0.8
    """A decode with no-speech probability over `unsure_no_speech` *and* a mean log-probability
    under `unsure_log_prob` is dropped too: in the same measurement no order was that unsure,
    while most kitchen clips that passed the VAD were. Far-off voices that Whisper hears
    clearly ("I'll see you later.") still come through: they are speech, not noise."""
    min_log_prob: float = -2.3
    """Below this mean log-probability (confidence 0.1) a decode is dropped whatever else:
    "right" at confidence 0.02 came from kitchen noise; one order in 120 fell this low (at 0 dB)."""
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    cpu_threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Decoded:
    """One decode of one window: the best text, its tokens and scores, and the n-best."""

    text: str
    tokens: list[int]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    alternatives: tuple[Alternative, ...] = ()


class WhisperDecoder:
    """A CTranslate2 Whisper model and its tokenizer, int8 on the CPU; safe to share."""

    def __init__(self, path: Path, *, cpu_threads: int) -> None:
        self.model, self.tokenizer = _load(path, cpu_threads=cpu_threads)

    def prompt(self, text: str) -> list[int]:
        """The decoder prompt: [sot_prev] + `text` (when given) + start-of-transcript."""
        tokenizer = self.tokenizer
        context = tokenizer.encode(" " + text.strip())[-PROMPT_TOKENS:] if text.strip() else []
        start = [tokenizer.sot_prev, *context] if context else []
        return [*start, *tokenizer.sot_sequence, tokenizer.no_timestamps]

    def decode(
        self,
        audio: npt.NDArray[np.float32],
        *,
        prompt: list[int],
        beam_size: int,
        temperatures: tuple[float, ...],
        n_best: int = 1,
        options: WhisperOptions,
    ) -> tuple[Decoded, Any, int]:
        """Decode up to 30 s of audio; returns the result, the encoder output and frame count."""
        features = self.model.feature_extractor(audio)
        frames = min(MAX_FRAMES, features.shape[-1] - 1)
        pad = options.window_pad_s
        window = MAX_FRAMES if pad is None else min(MAX_FRAMES, frames + int(pad * 100))
        window += window % 2
        segment = np.zeros((features.shape[0], window), dtype=np.float32)
        segment[:, :frames] = features[:, :frames]
        encoded = self.model.encode(segment)
        # max_length counts the prompt too; a bound on new tokens per second of audio stops a
        # looping decoder early (speech runs at about 3-5 tokens a second).
        max_length = min(448, len(prompt) + int(24 + 10 * frames / FRAMES_PER_SECOND))
        best: Decoded | None = None
        for temperature in temperatures:
            best = self._generate(
                encoded,
                prompt,
                temperature=temperature,
                beam_size=beam_size,
                n_best=n_best,
                max_length=max_length,
            )
            if _acceptable(best, options):
                break
        assert best is not None, "temperatures must not be empty"
        return best, encoded, frames

    def decode_long(
        self, audio: npt.NDArray[np.float32], *, prompt: list[int], options: WhisperOptions
    ) -> list[tuple[Decoded, list[Word]]]:
        """Over 29 s of speech: faster-whisper's own sliding-window transcribe, no n-best."""
        tokenizer = self.tokenizer
        end = prompt.index(tokenizer.sot)
        context = prompt[1:end] if prompt[0] == tokenizer.sot_prev else []
        segments, _ = self.model.transcribe(
            audio,
            language="en",
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            initial_prompt=context or None,
            condition_on_previous_text=False,
            vad_filter=False,
            word_timestamps=options.word_timestamps,
            no_speech_threshold=options.no_speech_threshold,
        )
        out = []
        for s in segments:
            text = str(s.text).strip()
            decoded = Decoded(
                text=text,
                tokens=list(s.tokens),
                avg_logprob=float(s.avg_logprob),
                no_speech_prob=float(s.no_speech_prob),
                compression_ratio=_compression_ratio(text),
            )
            words = [
                Word(str(w.word).strip(), float(w.start), float(w.end), float(w.probability))
                for w in (s.words or [])
            ]
            out.append((decoded, words))
        return out

    def words(self, decoded: Decoded, encoded: Any, frames: int, offset: float) -> tuple[Word, ...]:
        """Word start/end times and probabilities by cross-attention alignment."""
        from faster_whisper.transcribe import merge_punctuations

        if not decoded.tokens:
            return ()
        aligned = self.model.find_alignment(self.tokenizer, [decoded.tokens], encoded, frames)
        alignment: list[dict[str, Any]] = aligned[0]
        merge_punctuations(alignment, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、")
        return tuple(
            Word(
                text=str(w["word"]).strip(),
                start=round(offset + float(w["start"]), 3),
                end=round(offset + float(w["end"]), 3),
                confidence=float(w["probability"]),
            )
            for w in alignment
            if str(w["word"]).strip()
        )

    def _generate(
        self,
        encoded: Any,
        prompt: list[int],
        *,
        temperature: float,
        beam_size: int,
        n_best: int,
        max_length: int,
    ) -> Decoded:
        from faster_whisper.transcribe import get_suppressed_tokens

        if temperature > 0:
            search: dict[str, Any] = {
                "beam_size": 1,
                "sampling_temperature": temperature,
                "sampling_topk": 0,
                "num_hypotheses": max(1, n_best),
            }
        else:
            search = {"beam_size": max(beam_size, n_best), "num_hypotheses": max(1, n_best)}
        result = self.model.model.generate(
            encoded,
            [prompt],
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(self.tokenizer, [-1]),
            **search,
        )[0]
        hypotheses = []
        raw = ""
        for tokens, score in zip(result.sequences_ids, result.scores, strict=True):
            ids = [t for t in tokens if t < self.tokenizer.eot]
            decoded = self.tokenizer.decode(ids).strip()
            raw = raw or decoded
            text = collapse_repeats(decoded)
            if text != decoded:
                logger.info("whisper: collapsed a decoder loop %r", decoded)
            hypotheses.append((text, ids, float(score)))
        text, ids, score = hypotheses[0]
        # As faster-whisper: the length-normalised score back to a per-token log-probability.
        return Decoded(
            text=text,
            tokens=ids if text == raw else self.tokenizer.encode(" " + text),
            avg_logprob=score * len(ids) / (len(ids) + 1),
            no_speech_prob=float(result.no_speech_prob),
            compression_ratio=_compression_ratio(raw),
            alternatives=_shares(hypotheses) if n_best > 1 else (),
        )


def is_silence(decoded: Decoded, options: WhisperOptions) -> bool:
    """Whisper's own no-speech signal, an unsure or very unlikely decode, or one that loops."""
    unsure = (
        decoded.no_speech_prob >= options.unsure_no_speech
        and decoded.avg_logprob < options.unsure_log_prob
    )
    return (
        unsure
        or decoded.avg_logprob < options.min_log_prob
        or decoded.no_speech_prob >= options.no_speech_threshold
        or decoded.compression_ratio > options.compression_ratio_threshold
        or not decoded.text
    )


def _acceptable(decoded: Decoded, options: WhisperOptions) -> bool:
    if decoded.no_speech_prob >= options.no_speech_threshold:
        return True
    return (
        decoded.compression_ratio <= options.compression_ratio_threshold
        and decoded.avg_logprob >= options.log_prob_threshold
    )


def collapse_repeats(text: str) -> str:
    """One copy of a text that is the same phrase (2+ words) said over and over.

    Whisper's decoder loops on short clips ("Add two oat milks. Add two oat milks."); left in,
    a loop would order things twice. A phrase repeated by the shopper is rare by comparison.
    """
    tokens = text.split()
    words = [re.sub(r"[^\w']", "", t.lower()) for t in tokens]
    for copies in range(len(words) // 2, 1, -1):
        size, rest = divmod(len(words), copies)
        if rest == 0 and size >= 2 and words == words[:size] * copies:
            return " ".join(tokens[:size]).rstrip(",;")
    return text


def _compression_ratio(text: str) -> float:
    payload = text.encode("utf-8")
    return len(payload) / len(zlib.compress(payload)) if payload else 0.0


def _shares(hypotheses: list[tuple[str, list[int], float]]) -> tuple[Alternative, ...]:
    """The n-best list, each with its share of belief (the shares sum to 1).

    The beam ranks by per-token log-probability; scaling those by the mean length keeps that
    order while spreading the shares like whole-sequence probabilities would.
    """
    length = sum(len(ids) for _, ids, _ in hypotheses) / len(hypotheses)
    top = max(s for _, _, s in hypotheses)
    weights = [math.exp((s - top) * length) for _, _, s in hypotheses]
    total = sum(weights)
    return tuple(
        Alternative(t, w / total) for (t, _, _), w in zip(hypotheses, weights, strict=True)
    )


def _load(path: Path, *, cpu_threads: int) -> tuple[Any, Any]:
    """Load the model with int8 on the CPU, never touching the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
    except ImportError as error:
        raise EngineUnavailable(
            "faster-whisper is not installed: pip install faster-whisper"
        ) from error
    try:
        model = WhisperModel(
            str(path),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as error:
        raise ModelInvalid(f"faster-whisper could not load {path}: {error}") from error
    multilingual = bool(model.model.is_multilingual)
    tokenizer = Tokenizer(
        model.hf_tokenizer, multilingual, task="transcribe", language="en" if multilingual else None
    )
    # Touch the tokenizer's cached properties once, before sessions share it across threads.
    _ = (
        tokenizer.sot,
        tokenizer.sot_prev,
        tokenizer.eot,
        tokenizer.no_timestamps,
        tokenizer.sot_sequence,
        tokenizer.non_speech_tokens,
    )
    logger.info("loaded Whisper %s (int8, %d CPU threads)", path, cpu_threads)
    return model, tokenizer
