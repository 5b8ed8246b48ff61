"""Endpointing: where an utterance starts and ends in streamed PCM, by energy with a hangover.

The Endpointer reads 16 kHz mono int16 PCM in fixed frames (20 ms). The noise floor is the
quietest frame of the last `floor_window_ms` (speech always has quieter gaps between words;
steady noise does not, so a room that gets louder is learnt within the window), and a frame
is voiced when it is `margin_db` over that floor and over an absolute `min_dbfs`. Speech
starts after `min_speech_ms` of voiced frames; it ends after `hangover_ms` of unvoiced frames,
after `max_speech_ms` of talking, or when the client says so (`end()`). A PAUSE event comes
earlier, after `pause_ms` of silence, so a caller can start the final decode while the
hangover runs out; RESUME says that decode is stale.

Until the window has filled, the floor is seeded (by the previous utterance's floor, or low
enough that `min_dbfs` decides), so speech from the first frame counts. The price: noise
louder than `min_dbfs` at the very start of a stream reads as speech until the window has
learnt it (at most `floor_window_ms` plus the hangover).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from voice.errors import AudioFormatError

FLOOR_MIN_DBFS = -90.0
"""Digital silence would drag the noise floor to -inf; it never goes below this."""


class Phase(StrEnum):
    """Where the endpointer is in the current utterance."""

    WAITING = "waiting"
    """No speech yet."""
    SPEECH = "speech"
    TRAILING = "trailing"
    """Speech was heard and has stopped; the hangover is running."""
    ENDED = "ended"


class EventKind(StrEnum):
    """What an endpointer event reports."""

    SPEECH_START = "speech_start"
    PAUSE = "pause"
    RESUME = "resume"
    ENDPOINT = "endpoint"


class EndReason(StrEnum):
    """Why an utterance ended."""

    SILENCE = "silence"
    MAX_LENGTH = "max_length"
    CLIENT = "end"


@dataclass(frozen=True)
class EndpointConfig:
    """Frame size, thresholds and timings; the defaults suit push-to-talk and hands-free."""

    frame_ms: int = 20
    hangover_ms: int = 700
    pause_ms: int = 240
    min_speech_ms: int = 100
    max_speech_ms: int = 30_000
    min_dbfs: float = -50.0
    margin_db: float = 12.0
    hold_db: float = 4.0
    """While someone speaks the threshold is this much lower, so soft word endings hold."""
    floor_window_ms: int = 2000
    end_on_silence: bool = True
    """False for push-to-talk: only the client (or max_speech_ms) ends the utterance; PAUSE
    and RESUME still come, so the early final decode still works."""

    def __post_init__(self) -> None:
        if self.frame_ms <= 0 or self.frame_ms > 100:
            raise ValueError(f"frame_ms must be 1..100, got {self.frame_ms}")
        if not 0 < self.pause_ms <= self.hangover_ms:
            raise ValueError("pause_ms must be positive and at most hangover_ms")
        if self.floor_window_ms < self.frame_ms:
            raise ValueError("floor_window_ms must hold at least one frame")


@dataclass(frozen=True)
class EndpointEvent:
    """Something the endpointer noticed, at `at_ms` from the start of the utterance's audio."""

    kind: EventKind
    at_ms: int
    reason: EndReason | None = None


class Endpointer:
    """Energy VAD with a hangover over one utterance; `reset()` starts the next."""

    def __init__(
        self, config: EndpointConfig | None = None, *, floor_dbfs: float | None = None
    ) -> None:
        """`floor_dbfs` seeds the noise floor (the previous utterance's) until the window has
        filled with this utterance's own frames; by default `min_dbfs` decides until then."""
        self.config = config or EndpointConfig()
        config = self.config
        self._frame_bytes = SAMPLE_RATE * SAMPLE_WIDTH * config.frame_ms // 1000
        self._levels: deque[float] = deque(maxlen=max(1, config.floor_window_ms // config.frame_ms))
        seed = floor_dbfs if floor_dbfs is not None else config.min_dbfs - config.margin_db
        self._levels.append(seed)
        self.reset()

    def reset(self) -> None:
        """Forget the utterance (the noise floor is kept: the room did not change)."""
        self._pending = b""
        self._frames = 0
        self.phase = Phase.WAITING
        self.speech_start_ms: int | None = None
        self.speech_end_ms: int | None = None
        self._voiced_run = 0
        self._silent_run = 0
        self._paused = False

    @property
    def floor_dbfs(self) -> float:
        """The noise floor: the quietest recent frame (or the seed, early on)."""
        return min(self._levels)

    @property
    def position_ms(self) -> int:
        """How much audio has been read, in milliseconds (whole frames only)."""
        return self._frames * self.config.frame_ms

    @property
    def heard_speech(self) -> bool:
        """Whether this utterance held speech at all."""
        return self.speech_start_ms is not None

    @property
    def paused(self) -> bool:
        """Speech stopped at least `pause_ms` ago and has not resumed."""
        return self._paused

    def feed(self, pcm: bytes) -> list[EndpointEvent]:
        """Read more PCM; return what happened. Audio after the endpoint is kept as leftover."""
        if len(pcm) % SAMPLE_WIDTH:
            raise AudioFormatError(f"PCM chunk of {len(pcm)} bytes is not whole 16-bit samples")
        data = self._pending + pcm
        events: list[EndpointEvent] = []
        whole = len(data) - len(data) % self._frame_bytes
        used = 0
        for level in _frame_levels(data[:whole], self._frame_bytes):
            if self.phase is Phase.ENDED:
                break
            used += self._frame_bytes
            self._frames += 1
            event = self._step(level)
            if event is not None:
                events.append(event)
        self._pending = data[used:]
        return events

    def leftover(self) -> bytes:
        """After the endpoint: the audio fed but not read (it starts the next utterance)."""
        if self.phase is not Phase.ENDED:
            return b""
        rest, self._pending = self._pending, b""
        return rest

    def end(self) -> EndpointEvent:
        """The client ended the utterance (push-to-talk released)."""
        self.phase = Phase.ENDED
        if self.heard_speech and self.speech_end_ms is None:
            self.speech_end_ms = self.position_ms
        return EndpointEvent(EventKind.ENDPOINT, self.position_ms, EndReason.CLIENT)

    def _threshold(self) -> float:
        threshold = max(self.config.min_dbfs, self.floor_dbfs + self.config.margin_db)
        return threshold - self.config.hold_db if self.phase is Phase.SPEECH else threshold

    def _frames_of(self, ms: int) -> int:
        return max(1, math.ceil(ms / self.config.frame_ms))

    def _step(self, level: float) -> EndpointEvent | None:
        self._levels.append(max(level, FLOOR_MIN_DBFS))
        voiced = level >= self._threshold()
        if self.phase is Phase.WAITING:
            return self._while_waiting(voiced)
        return self._while_speaking(voiced)

    def _while_waiting(self, voiced: bool) -> EndpointEvent | None:
        self._voiced_run = self._voiced_run + 1 if voiced else 0
        if self._voiced_run < self._frames_of(self.config.min_speech_ms):
            return None
        self.phase = Phase.SPEECH
        self.speech_start_ms = self.position_ms - self._voiced_run * self.config.frame_ms
        self._silent_run = 0
        return EndpointEvent(EventKind.SPEECH_START, self.speech_start_ms)

    def _while_speaking(self, voiced: bool) -> EndpointEvent | None:
        config = self.config
        assert self.speech_start_ms is not None
        if self.position_ms - self.speech_start_ms >= config.max_speech_ms:
            self.phase = Phase.ENDED
            self.speech_end_ms = self.position_ms
            return EndpointEvent(EventKind.ENDPOINT, self.position_ms, EndReason.MAX_LENGTH)
        if voiced:
            self._voiced_run += 1
            if self.phase is Phase.SPEECH or self._voiced_run >= self._frames_of(
                config.min_speech_ms
            ):
                return self._resume()
            # A click in the hangover: not speech yet, and the silence keeps counting.
        else:
            self._voiced_run = 0
        self._silent_run += 1
        if self.phase is Phase.SPEECH:
            self.phase = Phase.TRAILING
            self.speech_end_ms = self.position_ms - config.frame_ms
        if config.end_on_silence and self._silent_run >= self._frames_of(config.hangover_ms):
            self.phase = Phase.ENDED
            return EndpointEvent(EventKind.ENDPOINT, self.position_ms, EndReason.SILENCE)
        if not self._paused and self._silent_run >= self._frames_of(config.pause_ms):
            self._paused = True
            return EndpointEvent(EventKind.PAUSE, self.position_ms)
        return None

    def _resume(self) -> EndpointEvent | None:
        self._silent_run = 0
        self.phase = Phase.SPEECH
        self.speech_end_ms = None
        if self._paused:
            self._paused = False
            return EndpointEvent(EventKind.RESUME, self.position_ms)
        return None


def _frame_levels(pcm: bytes, frame_bytes: int) -> list[float]:
    """The RMS level of each whole frame, in dBFS (digital silence is -inf)."""
    if not pcm:
        return []
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    power = np.mean(samples.reshape(-1, frame_bytes // SAMPLE_WIDTH) ** 2, axis=1)
    with np.errstate(divide="ignore"):
        levels = 10.0 * np.log10(power)
    return [float(v) for v in levels]
