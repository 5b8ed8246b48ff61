"""The STT lane's scheduling (pure logic) and streamed utterances on real Whisper."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.voice.conftest import normalise, small_catalog
from tests.voice.engines import server_whisper
from tests.voice.test_endpoint import silence, tone
from voice import audio
from voice.endpoint import EndpointConfig, EventKind
from voice.lane import Lane, Priority
from voice.stream import StreamConfig, Utterance
from voice.turn import ENDPOINTING
from voice.understand import Understander, Understanding


def blocker() -> tuple[threading.Event, Callable[[], str]]:
    """A job that holds its worker until the event is set."""
    release = threading.Event()

    def job() -> str:
        release.wait(10)
        return "blocker"

    return release, job


def recorder(log: list[str], name: str) -> Callable[[], str]:
    """A job that notes when it ran."""

    def job() -> str:
        log.append(name)
        return name

    return job


def test_waiting_jobs_run_best_priority_first() -> None:
    async def scenario() -> list[str]:
        lane = Lane(workers=1)
        release, hold = blocker()
        log: list[str] = []
        first = lane.submit(hold, priority=Priority.PARTIAL)
        jobs = [
            lane.submit(recorder(log, "speculative"), priority=Priority.SPECULATIVE),
            lane.submit(recorder(log, "partial"), priority=Priority.PARTIAL),
            lane.submit(recorder(log, "final"), priority=Priority.FINAL),
        ]
        release.set()
        await asyncio.gather(first.future, *(job.future for job in jobs))
        lane.close()
        return log

    assert asyncio.run(scenario()) == ["final", "speculative", "partial"]


def test_partials_are_skipped_while_the_lane_is_busy() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        lane = Lane(workers=1)
        release, hold = blocker()
        busy = lane.submit(hold, priority=Priority.FINAL)
        skipped = lane.try_idle(lambda: "partial") is None
        release.set()
        await busy.future
        ran = lane.try_idle(lambda: "partial")
        assert ran is not None
        result = await ran.future
        lane.close()
        return skipped, result == "partial", lane.stats.partials_skipped

    assert asyncio.run(scenario()) == (True, True, 1)


def test_a_promoted_job_overtakes_and_a_cancelled_one_never_runs() -> None:
    async def scenario() -> list[str]:
        lane = Lane(workers=1)
        release, hold = blocker()
        log: list[str] = []
        busy = lane.submit(hold, priority=Priority.FINAL)
        other = lane.submit(recorder(log, "other final"), priority=Priority.FINAL)
        early = lane.submit(recorder(log, "early"), priority=Priority.SPECULATIVE)
        dropped = lane.submit(recorder(log, "dropped"), priority=Priority.SPECULATIVE)
        lane.promote(early, Priority.FINAL)
        lane.cancel(dropped)
        release.set()
        await asyncio.gather(busy.future, other.future, early.future)
        await asyncio.sleep(0.05)
        lane.close()
        assert dropped.future.cancelled()
        return log

    # The promoted job keeps its place in the queue: it was submitted after "other final".
    assert asyncio.run(scenario()) == ["other final", "early"]


def test_errors_reach_the_caller_and_free_the_worker() -> None:
    async def scenario() -> str:
        lane = Lane(workers=1)

        def broken() -> str:
            raise RuntimeError("decoder broke")

        failing = lane.submit(broken, priority=Priority.FINAL)
        with pytest.raises(RuntimeError, match="decoder broke"):
            await failing.future
        after = lane.submit(lambda: "still working", priority=Priority.FINAL)
        result = await after.future
        lane.close()
        return result

    assert asyncio.run(scenario()) == "still working"


def test_two_workers_run_two_jobs_at_once() -> None:
    async def scenario() -> float:
        lane = Lane(workers=2)
        started = time.perf_counter()
        jobs = [lane.submit(lambda: time.sleep(0.3), priority=Priority.FINAL) for _ in range(2)]
        await asyncio.gather(*(job.future for job in jobs))
        lane.close()
        return time.perf_counter() - started

    assert asyncio.run(scenario()) < 0.55


async def stream(
    utterance: Utterance, pcm: bytes, *, chunk_ms: int = 20, pace: float = 0.0
) -> list[EventKind]:
    """Feed until the endpoint (optionally at real-time pace); the events seen."""
    kinds: list[EventKind] = []
    for chunk in audio.chunks(pcm, ms=chunk_ms):
        events, _ = utterance.feed(chunk)
        kinds += [event.kind for event in events]
        if utterance.endpoint is not None:
            break
        await asyncio.sleep(pace * chunk_ms / 1000)
    return kinds


@pytest.fixture(scope="module")
def understander() -> Understander:
    """The server's Whisper with the small voice-test catalog."""
    return Understander(server_whisper(), small_catalog(), endpointing=ENDPOINTING)


@pytest.mark.slow
def test_a_streamed_utterance_is_decoded_in_the_silence_after_it(
    understander: Understander, audio_dir: Path
) -> None:
    pcm = audio.load(audio_dir / "two_oat_milks.wav").pcm + silence(1000)
    partials: list[str] = []

    async def on_partial(text: str) -> None:
        partials.append(text)

    async def scenario() -> tuple[list[EventKind], Understanding, Utterance, float]:
        lane = Lane(workers=1)
        utterance = Utterance(lane=lane, understander=understander, on_partial=on_partial)
        kinds = await stream(utterance, pcm, pace=1.0)
        started = time.perf_counter()
        heard = await utterance.understanding()
        waited = time.perf_counter() - started
        lane.close()
        return kinds, heard, utterance, waited

    kinds, heard, utterance, waited = asyncio.run(scenario())
    assert kinds == [EventKind.SPEECH_START, EventKind.PAUSE, EventKind.ENDPOINT]
    assert "oat" in normalise(heard.transcript.text)
    assert [(i.product_id, i.quantity) for i in heard.request.items] == [("oat-milk", 2)]
    assert utterance.stats.speculation_used, "the draft decode made in the hangover is used"
    assert utterance.stats.handovers >= 2
    assert partials, "real-time pace on an idle lane leaves room for partials"
    assert utterance.endpoint is not None
    assert utterance.stats.bytes_in == utterance.endpoint.at_ms * 32
    # Not a speed test: only that the answer did not wait for a whole new decode.
    assert waited < heard.transcript.seconds


@pytest.mark.slow
def test_the_draft_is_dropped_when_the_shopper_goes_on(
    understander: Understander, audio_dir: Path
) -> None:
    # "add two oat milks" ends at 1.66 s; cut at 1.8 s, the 0.3 s of padding before "reorder
    # my paper towels" makes a pause of about 0.45 s: long enough for a draft decode.
    clip = audio.load(audio_dir / "two_oat_milks.wav").pcm[: 18 * 3200]
    towels = audio.load(audio_dir / "reorder_paper_towels.wav").pcm
    pcm = clip + towels + silence(1000)

    async def scenario() -> tuple[list[EventKind], Understanding, Understanding, Utterance]:
        lane = Lane(workers=1)
        utterance = Utterance(lane=lane, understander=understander)
        kinds = await stream(utterance, pcm)
        heard = await utterance.understanding()
        lane.close()
        whole = await asyncio.to_thread(understander.understand, utterance.audio)
        return kinds, heard, whole, utterance

    kinds, heard, whole, _ = asyncio.run(scenario())
    assert EventKind.RESUME in kinds
    assert kinds[-1] is EventKind.ENDPOINT
    assert "towel" in normalise(heard.transcript.text)
    # Streamed or whole, the same audio gives the same answer.
    assert heard.transcript.text == whole.transcript.text
    assert heard.request == whole.request


@pytest.mark.slow
def test_silence_only_is_not_decoded(understander: Understander) -> None:
    async def scenario() -> tuple[bool, int]:
        lane = Lane(workers=1)
        utterance = Utterance(
            lane=lane, understander=understander, endpoint=EndpointConfig(end_on_silence=False)
        )
        await stream(utterance, silence(3000))
        utterance.end()
        heard = await utterance.understanding()
        lane.close()
        return heard.transcript.no_speech, lane.stats.finals

    no_speech, finals = asyncio.run(scenario())
    assert no_speech
    assert finals == 0


def test_audio_past_the_endpoint_is_handed_back(understander: Understander) -> None:
    async def scenario() -> tuple[bytes, int]:
        lane = Lane(workers=1)
        config = StreamConfig(speculate=False, partials=False)
        utterance = Utterance(lane=lane, understander=understander, config=config)
        events, rest = utterance.feed(tone(500) + silence(700) + tone(200, hz=330.0))
        assert events[-1].kind is EventKind.ENDPOINT
        assert utterance.feed(tone(100)) == ([], tone(100))
        lane.close()
        return rest, len(utterance.audio)

    rest, kept = asyncio.run(scenario())
    assert rest == tone(200, hz=330.0)
    assert kept == len(tone(500) + silence(700))


def test_leading_silence_is_trimmed_to_the_preroll(understander: Understander) -> None:
    async def scenario() -> int:
        lane = Lane(workers=1)
        config = StreamConfig(preroll_ms=300)
        utterance = Utterance(lane=lane, understander=understander, config=config)
        for chunk in audio.chunks(silence(5000), ms=100):
            utterance.feed(chunk)
        lane.close()
        return len(utterance.audio)

    assert asyncio.run(scenario()) == 300 * 32
