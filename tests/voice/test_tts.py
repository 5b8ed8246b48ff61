"""Text-to-speech through the real pyttsx3 + espeak-ng, in the real worker process."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voice.tts import (
    Pyttsx3Speaker,
    TtsError,
    TtsUnavailable,
    TtsWorker,
    check_tts_available,
    resample_wav,
    synthesize_async,
)
from voice.tts_worker import wav_frames

REPO = Path(__file__).resolve().parents[2]
SENTENCE = "Your order will be ready at eight thirty."


def _espeak_missing() -> str | None:
    try:
        check_tts_available()
    except TtsUnavailable as error:
        return error.detail
    return None


MISSING = _espeak_missing()
needs_espeak = pytest.mark.skipif(MISSING is not None, reason=f"espeak-ng not usable: {MISSING}")


@pytest.fixture(scope="module")
def worker() -> Iterator[TtsWorker]:
    """One renderer process shared by the speakers of this module."""
    if MISSING is not None:
        pytest.skip(f"espeak-ng not usable: {MISSING}")
    with TtsWorker() as running:
        yield running


def read_wav(data: bytes) -> tuple[int, int, np.ndarray]:
    """(channels, sample rate, int16 samples) of WAV bytes, checking it is 16-bit PCM."""
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getsampwidth() == 2
        frames = reader.readframes(reader.getnframes())
        return reader.getnchannels(), reader.getframerate(), np.frombuffer(frames, dtype="<i2")


def duration(data: bytes) -> float:
    """Seconds of audio in WAV bytes."""
    channels, rate, samples = read_wav(data)
    return samples.size / channels / rate


def voiced_fraction(samples: np.ndarray, rate: int) -> float:
    """The share of 20 ms frames whose RMS is clearly above silence."""
    size = rate // 50
    frames = samples[: samples.size // size * size].astype(float).reshape(-1, size)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float((rms > 300).mean())


def run_python(
    code: str, *args: str, cwd: Path = REPO, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh Python process that imports this repository's packages."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


@needs_espeak
def test_renders_speech_as_16_bit_mono_wav(worker: TtsWorker) -> None:
    wav = Pyttsx3Speaker(worker=worker).synthesize(SENTENCE)
    channels, rate, samples = read_wav(wav)
    assert (channels, rate) == (1, 22050)
    # Eight words at 175 words per minute: a few seconds, mostly voiced.
    assert 1.5 < samples.size / rate < 5.0
    assert voiced_fraction(samples, rate) > 0.4
    assert int(np.abs(samples).max()) > 3000


@needs_espeak
def test_longer_text_gives_longer_audio(worker: TtsWorker) -> None:
    speaker = Pyttsx3Speaker(worker=worker)
    short = duration(speaker.synthesize("Added."))
    long = duration(speaker.synthesize(f"{SENTENCE} {SENTENCE} {SENTENCE}"))
    assert long > 2.5 * short


@needs_espeak
def test_cache_returns_the_rendered_reply_without_rendering_again(worker: TtsWorker) -> None:
    speaker = Pyttsx3Speaker(worker=worker)
    first = speaker.synthesize("Added two oat milk lattes.")
    renders = worker.renders
    again = speaker.synthesize("  Added two oat  milk lattes. ")
    assert again == first
    assert worker.renders == renders
    info = speaker.cache_info()
    assert (info.hits, info.misses, info.size) == (1, 1, 1)


@needs_espeak
def test_cache_evicts_the_least_recently_used_reply(worker: TtsWorker) -> None:
    speaker = Pyttsx3Speaker(worker=worker, cache_size=2)
    for text in ("One.", "Two.", "One.", "Three."):
        speaker.synthesize(text)
    renders = worker.renders
    speaker.synthesize("One.")
    assert worker.renders == renders
    speaker.synthesize("Two.")
    assert worker.renders == renders + 1
    assert speaker.cache_info().size == 2


@needs_espeak
def test_slower_rate_gives_longer_audio(worker: TtsWorker) -> None:
    slow = Pyttsx3Speaker(worker=worker, rate=100).synthesize(SENTENCE)
    fast = Pyttsx3Speaker(worker=worker, rate=250).synthesize(SENTENCE)
    assert duration(slow) > 1.8 * duration(fast)


@needs_espeak
def test_voice_and_locale_pick_different_voices(worker: TtsWorker) -> None:
    american = Pyttsx3Speaker(worker=worker, locale="en-US")
    british = Pyttsx3Speaker(worker=worker, locale="en-GB")
    named = Pyttsx3Speaker(worker=worker, voice="English (Great Britain)", locale="en-US")
    assert american.voice.id == "gmw/en-us"
    assert british.voice.id == named.voice.id == "gmw/en"
    assert american.synthesize("tomato") != british.synthesize("tomato")


@needs_espeak
def test_interleaved_stores_keep_their_own_rate(worker: TtsWorker) -> None:
    # pyttsx3 drops property changes queued while espeak-ng drains the last utterance; the
    # worker must apply each speaker's rate every time, even when two stores alternate.
    slow = Pyttsx3Speaker(worker=worker, rate=100, cache_size=0)
    fast = Pyttsx3Speaker(worker=worker, rate=300, cache_size=0)
    reference = {id(slow): duration(slow.synthesize(SENTENCE)), id(fast): 0.0}
    reference[id(fast)] = duration(fast.synthesize(SENTENCE))
    for speaker in [slow, fast] * 10:
        assert duration(speaker.synthesize(SENTENCE)) == pytest.approx(
            reference[id(speaker)], rel=0.05
        )


@needs_espeak
def test_concurrent_callers_each_get_their_own_audio(worker: TtsWorker) -> None:
    slow = Pyttsx3Speaker(worker=worker, rate=100, cache_size=0)
    fast = Pyttsx3Speaker(worker=worker, rate=300, cache_size=0)
    expected = {
        "slow": duration(slow.synthesize(SENTENCE)),
        "fast": duration(fast.synthesize(SENTENCE)),
    }
    results: list[tuple[str, float]] = []

    def speak(name: str, speaker: Pyttsx3Speaker) -> None:
        results.append((name, duration(speaker.synthesize(SENTENCE))))

    threads = [
        threading.Thread(target=speak, args=pair) for pair in [("slow", slow), ("fast", fast)] * 6
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12
    for name, seconds in results:
        assert seconds == pytest.approx(expected[name], rel=0.05)


@needs_espeak
def test_an_utterance_pyttsx3_cancels_is_rendered_again(tmp_path: Path) -> None:
    # pyttsx3 keeps a stop flag when espeak-ng looked busy as its loop started; its next loop
    # then cancels the utterance and espeak-ng may end it with an empty WAV (seen in CI: a
    # three-sentence reply came back as 0.0 s). Raise that flag before every render.
    code = (
        "import json, sys\n"
        "from voice.tts_worker import _Engine, wav_frames\n"
        "engine = _Engine()\n"
        "frames = []\n"
        "for _ in range(40):\n"
        "    engine._engine.proxy._driver._stopping = True\n"
        f"    wav = engine.render({SENTENCE!r}, voice='gmw/en-us', rate=175)\n"
        "    frames.append(wav_frames(wav))\n"
        "open(sys.argv[1], 'w').write(json.dumps(frames))\n"
    )
    out = tmp_path / "frames.json"
    done = run_python(code, str(out), timeout=120)
    assert done.returncode == 0, done.stderr
    frames = json.loads(out.read_text())
    assert len(frames) == 40
    # Eight words at 175 words per minute are about 2 s at 22,050 Hz, every time.
    assert min(frames) > 1.5 * 22050
    assert max(frames) < 1.05 * min(frames)


def test_wav_frames_of_bytes_that_are_not_a_wav_is_zero() -> None:
    assert wav_frames(b"") == 0
    assert wav_frames(b"RIFF") == 0
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(22050)
        writer.writeframes(b"\0\0" * 10)
    assert wav_frames(out.getvalue()) == 10


@needs_espeak
def test_16_khz_output_for_round_trips(worker: TtsWorker) -> None:
    native = Pyttsx3Speaker(worker=worker).synthesize(SENTENCE)
    wav = Pyttsx3Speaker(worker=worker, sample_rate=16000).synthesize(SENTENCE)
    channels, rate, samples = read_wav(wav)
    assert (channels, rate) == (1, 16000)
    assert samples.size / rate == pytest.approx(duration(native), rel=0.02)
    assert voiced_fraction(samples, rate) > 0.4


def test_resample_keeps_the_pitch_of_a_tone() -> None:
    rate = 22050
    t = np.arange(rate) / rate
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(tone.tobytes())
    _, new_rate, samples = read_wav(resample_wav(out.getvalue(), rate=16000))
    assert (new_rate, samples.size) == (16000, 16000)
    spectrum = np.abs(np.fft.rfft(samples))
    assert int(spectrum.argmax()) == 1000  # one-second signal: bin index == Hz
    assert np.abs(samples).max() == pytest.approx(8000, rel=0.02)


@needs_espeak
def test_synthesize_async_leaves_the_event_loop_free(worker: TtsWorker) -> None:
    speaker = Pyttsx3Speaker(worker=worker, rate=90, cache_size=0)

    async def main() -> tuple[bytes, int]:
        ticks = 0
        task = asyncio.create_task(synthesize_async(speaker, f"{SENTENCE} {SENTENCE}"))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)
        return await task, ticks

    wav, ticks = asyncio.run(main())
    assert duration(wav) > 3
    assert ticks > 3


@needs_espeak
def test_nothing_reaches_stdout(tmp_path: Path) -> None:
    # pyttsx3 prints "Audio saved to ..."; a CLI printing JSON must see only its own output.
    code = (
        "import json; from voice.tts import Pyttsx3Speaker\n"
        "with Pyttsx3Speaker() as s: n = len(s.synthesize('Hello there.'))\n"
        "print(json.dumps({'bytes': n > 1000}))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"bytes": true}\n'


@needs_espeak
def test_worker_restarts_after_the_child_dies(worker: TtsWorker) -> None:
    speaker = Pyttsx3Speaker(worker=worker, cache_size=0)
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert duration(speaker.synthesize("Still here.")) > 0.3
    assert worker.pid not in (None, pid)


@needs_espeak
def test_unknown_voice_is_refused_at_start(worker: TtsWorker) -> None:
    with pytest.raises(TtsUnavailable, match=r"no espeak-ng voice named 'martian' \(installed: "):
        Pyttsx3Speaker(worker=worker, voice="martian").start()
    with pytest.raises(TtsUnavailable, match="no espeak-ng voice for locale 'xx-YY'"):
        Pyttsx3Speaker(worker=worker, locale="xx-YY").start()


@needs_espeak
def test_empty_text_is_an_error(worker: TtsWorker) -> None:
    with pytest.raises(TtsError, match="nothing to say"):
        Pyttsx3Speaker(worker=worker).synthesize("   ")


def test_rate_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"rate must be 80\.\.450"):
        Pyttsx3Speaker(rate=20)


def test_missing_voice_data_is_a_clear_error_at_start(tmp_path: Path) -> None:
    # espeak-ng exits the process when its data is missing; the server must get an error.
    broken = TtsWorker(env={**os.environ, "ESPEAK_DATA_PATH": str(tmp_path)})
    with pytest.raises(TtsUnavailable) as caught:
        broken.start()
    assert "phontab" in caught.value.detail
    assert "apt-get install espeak-ng libespeak-ng1" in caught.value.detail
    assert broken.pid is None


def test_missing_library_is_a_clear_error(tmp_path: Path) -> None:
    # A process in which the dynamic loader cannot find libespeak-ng (as on a bare host).
    code = (
        "import ctypes\n"
        "real = ctypes.CDLL.__init__\n"
        "def init(self, name, *a, **k):\n"
        "    if 'espeak' in str(name): raise OSError(f'{name}: cannot open shared object file')\n"
        "    real(self, name, *a, **k)\n"
        "ctypes.CDLL.__init__ = init\n"
        "from voice.tts import check_tts_available, TtsUnavailable\n"
        "try:\n"
        "    check_tts_available()\n"
        "except TtsUnavailable as error:\n"
        "    print(error.detail)\n"
    )
    done = run_python(code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the espeak-ng library could not be loaded" in done.stdout
    assert "libespeak-ng.so.1: cannot open shared object file" in done.stdout
    assert "apt-get install espeak-ng libespeak-ng1" in done.stdout
