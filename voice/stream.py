"""One streamed utterance: endpointing, throttled partials, and a final decode started early.

All decoding runs in the shared voice.lane.Lane. While the shopper is silent after speaking,
the audio reaches the Understander's Listening, which decodes a draft once its speech gate has
heard enough silence; the hangover before the endpoint hides that decode's cost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from catalog.request import Intent, Request
from voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from voice.endpoint import EndpointConfig, Endpointer, EndpointEvent, EventKind, Phase
from voice.lane import Job, Lane, Priority
from voice.stt import Transcript
from voice.understand import Understander, Understanding

logger = logging.getLogger(__name__)

T = TypeVar("T")
BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH // 1000


@dataclass(frozen=True)
class StreamConfig:
    """Timing of one streamed utterance."""

    partial_every_ms: int = 500
    """At most one partial per this many milliseconds of wall time per utterance."""
    partial_min_new_ms: int = 300
    """And only when at least this much new audio arrived since the last one."""
    preroll_ms: int = 400
    """Audio kept from before the speech started (the endpointer needs a few frames)."""
    speculate: bool = True
    """Feed the Listening during the silence after speech, so it can decode a draft early."""
    handover_ms: int = 100
    partials: bool = True


@dataclass
class UtteranceStats:
    """What happened to one utterance, for the events and the benchmark."""

    bytes_in: int = 0
    bytes_kept: int = 0
    partials: int = 0
    handovers: int = 0
    speculation_used: bool = False
    final_wait_seconds: float = 0.0
    """From `understanding()` to its answer: the lane queue, any decode left, the finish."""
    finish_seconds: float = 0.0
    """The Listening's finish alone: with a draft, the gate check and the n-best parse."""


class Utterance:
    """One utterance arriving in chunks: endpointing, throttled partials, early final decode.

    Recognition is the Understander's streamed `Listening` (speech gate, draft decode, n-best
    rescoring). Its blocking calls run as lane jobs, one after the other: once the energy
    endpointer says speech stopped, the audio is handed over every `handover_ms` (the draft
    decode happens there as soon as the gate hears enough silence), and at the endpoint the
    rest, then `finish()`, which takes the draft only when the speech clip is byte-for-byte
    the same. An early decode changes when the answer is ready, never what it is.
    """

    def __init__(
        self,
        *,
        lane: Lane,
        understander: Understander,
        history: Mapping[str, int] | None = None,
        endpoint: EndpointConfig | None = None,
        floor_dbfs: float | None = None,
        on_partial: Callable[[str], Awaitable[None]] | None = None,
        config: StreamConfig | None = None,
    ) -> None:
        self.config = config or StreamConfig()
        self.stats = UtteranceStats()
        self.endpoint: EndpointEvent | None = None
        self._lane = lane
        self._understander = understander
        self._history = history
        self._listening = understander.listen(partials=False)
        self._endpointer = Endpointer(endpoint, floor_dbfs=floor_dbfs)
        self._on_partial = on_partial
        self._audio = bytearray()
        self._handed = 0
        self._tail: asyncio.Task[Any] | None = None
        self._job: Job[Any] | None = None
        self._urgent = False
        self._partial_job: Job[str] | None = None
        self._partial_at = 0.0
        self._partial_len = 0
        self._partial_text = ""
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def audio(self) -> bytes:
        """The utterance's PCM as kept (pre-roll onwards)."""
        return bytes(self._audio)

    @property
    def heard_speech(self) -> bool:
        """Whether the endpointer heard speech in it."""
        return self._endpointer.heard_speech

    @property
    def floor_dbfs(self) -> float:
        """The noise floor learnt so far (the next utterance starts from it)."""
        return self._endpointer.floor_dbfs

    def feed(self, pcm: bytes) -> tuple[list[EndpointEvent], bytes]:
        """Take a chunk; returns the endpointer's events and the audio past the endpoint."""
        if self.endpoint is not None:
            return [], pcm
        self.stats.bytes_in += len(pcm)
        self._audio += pcm
        events = self._endpointer.feed(pcm)
        rest = b""
        for event in events:
            if event.kind is EventKind.ENDPOINT:
                self.endpoint = event
        if self.endpoint is not None:
            rest = self._endpointer.leftover()
            if rest:
                del self._audio[len(self._audio) - len(rest) :]
                self.stats.bytes_in -= len(rest)
        elif self._endpointer.phase is Phase.WAITING:
            self._trim_preroll()
        else:
            self._maybe_partial()
            self._maybe_hand_over()
        return events, rest

    def end(self) -> EndpointEvent:
        """The client ended the utterance."""
        if self.endpoint is None:
            self.endpoint = self._endpointer.end()
        return self.endpoint

    async def understanding(self) -> Understanding:
        """After the endpoint: what was said and meant (the draft decode when still valid)."""
        if self.endpoint is None:
            self.end()
        started = time.perf_counter()
        self._drop_partial()
        self.stats.bytes_kept = len(self._audio)
        if not self.heard_speech:
            result = self._silence()
        else:
            # From now on someone is waiting: what this utterance still needs goes first.
            self._urgent = True
            if self._job is not None:
                self._lane.promote(self._job, Priority.FINAL)
            self._hand_over(Priority.FINAL)
            result = await self._chain(self._finish, Priority.FINAL)
            self.stats.speculation_used = "draft" in result.timings
        self.stats.final_wait_seconds = time.perf_counter() - started
        return result

    def _finish(self) -> Understanding:
        started = time.perf_counter()
        result = self._listening.finish(history=self._history)
        self.stats.finish_seconds = time.perf_counter() - started
        return result

    def cancel(self) -> None:
        """Abandon the utterance (the client cancelled, or the socket closed)."""
        self._drop_partial()
        if self._job is not None:
            self._lane.cancel(self._job)
        if self._tail is not None:
            self._tail.cancel()
        for task in self._tasks:
            task.cancel()

    def _maybe_hand_over(self) -> None:
        """While the shopper is silent, keep the Listening fed so its speech gate can call
        the draft decode as soon as it hears enough silence."""
        if not self.config.speculate or self._endpointer.phase is not Phase.TRAILING:
            return
        if len(self._audio) - self._handed >= self.config.handover_ms * BYTES_PER_MS:
            self._hand_over(Priority.SPECULATIVE)
            self.stats.handovers += 1

    def _hand_over(self, priority: Priority) -> None:
        """Queue the audio not yet given to the Listening (in order, after earlier handovers)."""
        pcm = bytes(self._audio[self._handed :])
        self._handed = len(self._audio)
        if pcm:
            listening = self._listening
            self._chain(lambda: listening.accept(pcm), priority)

    def _chain(self, fn: Callable[[], T], priority: Priority) -> asyncio.Task[T]:
        """Run `fn` in the lane after this utterance's earlier jobs (the Listening is not
        thread-safe); an earlier job's error fails the later ones too."""
        previous = self._tail

        async def run() -> T:
            if previous is not None:
                await previous
            job = self._lane.submit(fn, priority=Priority.FINAL if self._urgent else priority)
            self._job = job
            return await job.future

        task = asyncio.get_running_loop().create_task(run())
        self._tail = task
        return task

    def _silence(self) -> Understanding:
        seconds = len(self._audio) / (SAMPLE_RATE * SAMPLE_WIDTH)
        transcript = Transcript.silence(engine=self._understander.transcriber.name, seconds=seconds)
        return Understanding(transcript, Request(Intent.UNKNOWN, text=""), 0.0)

    def _maybe_partial(self) -> None:
        # Only while the shopper talks: once they stop, the lane is for the draft decode.
        if self._endpointer.phase is not Phase.SPEECH:
            return
        if self._on_partial is None or not self.config.partials or self._partial_job is not None:
            return
        config = self.config
        now = time.perf_counter()
        new_ms = (len(self._audio) - self._partial_len) // BYTES_PER_MS
        if now - self._partial_at < config.partial_every_ms / 1000:
            return
        if new_ms < config.partial_min_new_ms:
            return
        pcm = bytes(self._audio)
        transcriber = self._understander.transcriber
        vocabulary = self._understander.vocabulary
        job = self._lane.try_idle(
            lambda: transcriber.session(vocabulary=vocabulary, partials=True).accept(pcm)
        )
        self._partial_at = now
        if job is None:
            return
        self._partial_job = job
        self._partial_len = len(pcm)
        task = asyncio.get_running_loop().create_task(self._deliver_partial(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_partial(self, job: Job[str]) -> None:
        try:
            text = await job.future
        finally:
            if self._partial_job is job:
                self._partial_job = None
        if self.endpoint is not None or not text or text == self._partial_text:
            return
        self._partial_text = text
        self.stats.partials += 1
        if self._on_partial is not None:
            await self._on_partial(text)

    def _drop_partial(self) -> None:
        if self._partial_job is not None:
            self._lane.cancel(self._partial_job)

    def _trim_preroll(self) -> None:
        keep = self.config.preroll_ms * BYTES_PER_MS
        if len(self._audio) > keep:
            del self._audio[: len(self._audio) - keep]
