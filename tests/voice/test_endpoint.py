"""The endpointer: speech start, pause, resume and endpoint on synthetic and recorded audio."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES
from voice import audio
from voice.endpoint import (
    EndpointConfig,
    Endpointer,
    EndpointEvent,
    EndReason,
    EventKind,
    Phase,
)
from voice.errors import AudioFormatError

RATE = 16_000


def tone(ms: int, *, dbfs: float = -15.0, hz: float = 220.0) -> bytes:
    """A sine at `dbfs` RMS: loud enough to be speech for an energy VAD."""
    t = np.arange(RATE * ms // 1000) / RATE
    amplitude = 10 ** (dbfs / 20) * np.sqrt(2)
    return audio.to_int16(amplitude * np.sin(2 * np.pi * hz * t)).tobytes()


def silence(ms: int) -> bytes:
    """Digital silence."""
    return bytes(RATE * 2 * ms // 1000)


def noise(ms: int, *, dbfs: float, seed: int = 7) -> bytes:
    """White noise at `dbfs` RMS (seeded)."""
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, 10 ** (dbfs / 20), RATE * ms // 1000)
    return audio.to_int16(samples).tobytes()


def feed(endpointer: Endpointer, pcm: bytes, *, chunk_ms: int = 100) -> list[EndpointEvent]:
    """Feed in chunks, collecting every event."""
    events: list[EndpointEvent] = []
    for chunk in audio.chunks(pcm, ms=chunk_ms):
        events += endpointer.feed(chunk)
    return events


def kinds(events: Sequence[EndpointEvent]) -> list[EventKind]:
    """The events' kinds in order."""
    return [event.kind for event in events]


def test_speech_then_silence_starts_pauses_and_ends() -> None:
    endpointer = Endpointer()
    events = feed(endpointer, silence(500) + tone(1000) + silence(1000))
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.PAUSE, EventKind.ENDPOINT]
    start, pause, end = events
    assert start.at_ms == 500
    assert pause.at_ms == 1500 + 240
    assert end.at_ms == 1500 + 700
    assert end.reason is EndReason.SILENCE
    assert endpointer.speech_end_ms == 1500
    assert endpointer.phase is Phase.ENDED


def test_silence_alone_never_starts() -> None:
    endpointer = Endpointer()
    assert feed(endpointer, silence(3000)) == []
    assert not endpointer.heard_speech
    assert endpointer.phase is Phase.WAITING


def test_loud_noise_at_the_start_is_learnt_within_the_floor_window() -> None:
    config = EndpointConfig(min_dbfs=-60.0)
    first = Endpointer(config)
    events = feed(first, noise(4000, dbfs=-40.0))
    # Noise over min_dbfs reads as speech until the 2 s window has learnt it: a bounded
    # false utterance (the speech gate then finds no speech in it).
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.PAUSE, EventKind.ENDPOINT]
    assert events[-1].at_ms <= config.floor_window_ms + config.hangover_ms + config.frame_ms
    assert -42.0 < first.floor_dbfs < -38.0
    second = Endpointer(config, floor_dbfs=first.floor_dbfs)
    assert feed(second, noise(3000, dbfs=-40.0, seed=8)) == []
    speech = np.frombuffer(tone(800), "<i2").astype(np.int32) + np.frombuffer(
        noise(800, dbfs=-40.0, seed=9), "<i2"
    )
    mixed = np.clip(speech, -32768, 32767).astype("<i2").tobytes()
    events = feed(second, mixed + noise(1000, dbfs=-40.0, seed=10))
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.PAUSE, EventKind.ENDPOINT]
    assert events[0].at_ms == 3000


def test_a_short_gap_pauses_then_resumes() -> None:
    endpointer = Endpointer()
    events = feed(endpointer, tone(600) + silence(400) + tone(600) + silence(900))
    assert kinds(events) == [
        EventKind.SPEECH_START,
        EventKind.PAUSE,
        EventKind.RESUME,
        EventKind.PAUSE,
        EventKind.ENDPOINT,
    ]
    assert events[-1].at_ms == 600 + 400 + 600 + 700


def test_a_click_in_the_hangover_does_not_hold_the_endpoint() -> None:
    endpointer = Endpointer()
    click = tone(20, dbfs=-6.0)
    events = feed(endpointer, tone(600) + silence(300) + click + silence(600), chunk_ms=20)
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.PAUSE, EventKind.ENDPOINT]
    assert events[-1].at_ms == 600 + 700


def test_events_do_not_depend_on_chunk_sizes() -> None:
    pcm = silence(300) + tone(700) + silence(200) + tone(500) + silence(1000)
    by_size = {ms: feed(Endpointer(), pcm, chunk_ms=ms) for ms in (7, 20, 100, 1000)}
    first = by_size[7]
    assert all(events == first for events in by_size.values())


def test_audio_after_the_endpoint_is_left_over_whole() -> None:
    endpointer = Endpointer()
    after = tone(100, hz=330.0)
    events = endpointer.feed(tone(500) + silence(700) + after)
    assert events[-1].kind is EventKind.ENDPOINT
    assert endpointer.leftover() == after
    assert endpointer.leftover() == b""
    assert endpointer.feed(silence(100)) == []


def test_the_client_can_end_the_utterance() -> None:
    endpointer = Endpointer()
    feed(endpointer, tone(400) + silence(100))
    event = endpointer.end()
    assert event.kind is EventKind.ENDPOINT
    assert event.reason is EndReason.CLIENT
    assert event.at_ms == 500
    assert endpointer.heard_speech


def test_push_to_talk_never_ends_on_silence_but_still_pauses() -> None:
    endpointer = Endpointer(EndpointConfig(end_on_silence=False))
    events = feed(endpointer, tone(500) + silence(5000))
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.PAUSE]
    assert endpointer.phase is Phase.TRAILING


def test_talking_too_long_ends_at_the_limit() -> None:
    endpointer = Endpointer(EndpointConfig(max_speech_ms=2000))
    events = feed(endpointer, silence(200) + tone(3000))
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.ENDPOINT]
    assert events[-1].reason is EndReason.MAX_LENGTH
    assert events[-1].at_ms == 2200


def test_reset_keeps_the_noise_floor() -> None:
    endpointer = Endpointer(EndpointConfig(min_dbfs=-40.0))
    feed(endpointer, noise(500, dbfs=-45.0) + tone(500) + noise(800, dbfs=-45.0))
    floor = endpointer.floor_dbfs
    endpointer.reset()
    assert endpointer.floor_dbfs == floor
    assert endpointer.phase is Phase.WAITING
    assert not endpointer.heard_speech


def test_half_samples_are_refused() -> None:
    with pytest.raises(AudioFormatError, match="16-bit"):
        Endpointer().feed(b"\x00\x01\x02")


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="pause_ms"):
        EndpointConfig(pause_ms=900, hangover_ms=700)
    with pytest.raises(ValueError, match="frame_ms"):
        EndpointConfig(frame_ms=0)
    with pytest.raises(ValueError, match="floor_window_ms"):
        EndpointConfig(floor_window_ms=10)


def test_recorded_speech_is_found_where_the_waveform_has_it() -> None:
    path = FIXTURES / "audio" / "two_oat_milks.wav"
    if not path.is_file():
        pytest.skip("fixture audio missing: run scripts/make_test_audio.py")
    pcm = audio.load(Path(path)).pcm
    samples = np.abs(np.frombuffer(pcm, "<i2").astype(np.int32))
    loud = np.flatnonzero(samples > 1000)
    first_ms, last_ms = loud[0] * 1000 // RATE, loud[-1] * 1000 // RATE
    endpointer = Endpointer()
    events = feed(endpointer, pcm + silence(1000))
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.PAUSE, EventKind.ENDPOINT]
    assert endpointer.speech_start_ms is not None
    assert endpointer.speech_end_ms is not None
    assert abs(endpointer.speech_start_ms - first_ms) <= 60
    assert abs(endpointer.speech_end_ms - last_ms) <= 100
