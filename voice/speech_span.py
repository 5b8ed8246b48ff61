"""Where the speech is in a growing utterance: Silero VAD run once per window, incrementally.

faster-whisper's Silero model carries its LSTM state from window to window, so feeding it the
new 512-sample windows with the state and 64-sample context of the last call gives exactly the
probabilities of one pass over the whole audio (checked in tests/voice/test_understand.py), at a
few milliseconds per 200 ms of audio instead of a pass over everything each time.

A speech run starts at a window at or above `threshold` and lasts while windows stay at or above
`threshold - 0.15` (Silero's hysteresis); runs shorter than `min_speech_ms` are clicks and
ignored. The span is the first run's start to the last run's end, padded by `pad_ms` each side.
Below `min_dbfs` (the loudest window) nothing is speech at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.audio import SAMPLE_RATE, to_float

WINDOW = 512
CONTEXT = 64
HYSTERESIS = 0.15


@dataclass(frozen=True)
class SpeechSpan:
    """Speech from sample `start` to sample `end`, and the silence heard after its last run."""

    start: int
    end: int
    silence_after: float


class SpeechTracker:
    """Incremental speech detection for one utterance; feed PCM, ask for the span any time."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        min_speech_ms: int = 250,
        pad_ms: int = 200,
        min_dbfs: float = -55.0,
    ) -> None:
        from faster_whisper.vad import get_vad_model

        self.threshold = threshold
        self.min_windows = math.ceil(min_speech_ms * SAMPLE_RATE / 1000 / WINDOW)
        self.pad = pad_ms * SAMPLE_RATE // 1000
        self.min_power = 10.0 ** (min_dbfs / 10.0)
        self._session: Any = get_vad_model().session
        self._state = np.zeros((2, 1, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, CONTEXT), dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._probs: list[float] = []
        self._peak_power = 0.0
        self.samples = 0

    def extend(self, pcm: bytes) -> None:
        """Add 16 kHz mono int16 PCM; every complete window is scored once."""
        samples = to_float(pcm)
        self.samples += samples.size
        self._pending = np.concatenate([self._pending, samples])
        whole = self._pending.size // WINDOW * WINDOW
        if whole:
            self._score(self._pending[:whole].reshape(-1, WINDOW))
            self._pending = self._pending[whole:]

    def _score(self, windows: npt.NDArray[np.float32]) -> None:
        contexts = np.concatenate([self._context, windows[:-1, -CONTEXT:]], axis=0)
        batch = np.concatenate([contexts, windows], axis=1)
        out, h, c = self._session.run(
            None, {"input": batch, "h": self._state[0], "c": self._state[1]}
        )
        self._state = np.stack([h, c])
        self._context = windows[-1:, -CONTEXT:]
        self._probs += [float(p) for p in np.asarray(out).reshape(-1)]
        power = float(np.max(np.mean(windows.astype(np.float64) ** 2, axis=1)))
        self._peak_power = max(self._peak_power, power)

    def runs(self) -> list[tuple[int, int]]:
        """Speech runs as (first window, window after the last), clicks left out."""
        runs: list[tuple[int, int]] = []
        start: int | None = None
        low = self.threshold - HYSTERESIS
        for i, p in enumerate(self._probs):
            if start is None and p >= self.threshold:
                start = i
            elif start is not None and p < low:
                runs.append((start, i))
                start = None
        if start is not None:
            runs.append((start, len(self._probs)))
        return [(a, b) for a, b in runs if b - a >= self.min_windows]

    def span(self) -> SpeechSpan | None:
        """The padded speech span so far, or None when nothing is speech yet."""
        if self._peak_power < self.min_power:
            return None
        runs = self.runs()
        if not runs:
            return None
        first, last = runs[0][0] * WINDOW, runs[-1][1] * WINDOW
        scored = len(self._probs) * WINDOW
        return SpeechSpan(
            start=max(0, first - self.pad),
            end=min(scored, last + self.pad),
            silence_after=(self.samples - last) / SAMPLE_RATE,
        )


def speech_span(pcm: bytes, **options: Any) -> SpeechSpan | None:
    """The padded speech span of a whole utterance (the same answer as streaming it)."""
    tracker = SpeechTracker(**options)
    tracker.extend(pcm)
    return tracker.span()
