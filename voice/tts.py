"""Text-to-speech: the Speaker protocol and its pyttsx3 (espeak-ng) implementation, WAV out."""

from __future__ import annotations

import asyncio
import ctypes
import io
import logging
import math
import threading
import wave
from collections import OrderedDict
from dataclasses import dataclass
from importlib.util import find_spec
from types import TracebackType
from typing import Protocol, Self

import numpy as np

from voice.tts_worker import TtsError, TtsUnavailable, TtsWorker, VoiceInfo, find_voice

__all__ = [
    "CacheInfo",
    "Pyttsx3Speaker",
    "Speaker",
    "TtsError",
    "TtsUnavailable",
    "TtsWorker",
    "VoiceInfo",
    "check_tts_available",
    "resample_wav",
    "synthesize_async",
]

logger = logging.getLogger(__name__)

ESPEAK_LIBRARIES = ("libespeak-ng.so.1", "libespeak-ng.so", "libespeak-ng.1.dylib")
"""The names pyttsx3's espeak driver loads, in its order (Linux first)."""


class Speaker(Protocol):
    """Anything that turns a reply's text into 16-bit PCM WAV bytes."""

    def synthesize(self, text: str) -> bytes:
        """WAV bytes of `text` spoken."""
        ...


@dataclass(frozen=True)
class CacheInfo:
    """Counters of a speaker's cache of rendered replies."""

    hits: int
    misses: int
    size: int
    maxsize: int


class Pyttsx3Speaker:
    """Speaks with espeak-ng through pyttsx3, per-store voice/rate/locale, with an LRU cache.

    Rendering happens in a TtsWorker child process (one may be shared by several stores'
    speakers); calls from many threads are serialised by the worker. `sample_rate` None keeps
    espeak-ng's native 22,050 Hz; 16000 gives the 16 kHz mono that speech-to-text expects.
    """

    def __init__(
        self,
        *,
        voice: str | None = None,
        rate: int = 175,
        locale: str = "en-US",
        cache_size: int = 256,
        sample_rate: int | None = None,
        worker: TtsWorker | None = None,
    ) -> None:
        if not 80 <= rate <= 450:
            raise ValueError(f"rate must be 80..450 words per minute, got {rate}")
        self.rate = rate
        self.locale = locale
        self.sample_rate = sample_rate
        self._wanted_voice = voice
        self._voice: VoiceInfo | None = None
        self._owns_worker = worker is None
        self._worker = worker if worker is not None else TtsWorker()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def voice(self) -> VoiceInfo:
        """The espeak-ng voice in use (resolved from `voice` or `locale` at start)."""
        self.start()
        assert self._voice is not None
        return self._voice

    def start(self) -> None:
        """Start the worker and resolve the voice: TtsUnavailable now rather than mid-turn."""
        if self._voice is None:
            self._voice = find_voice(
                self._worker.voices, voice=self._wanted_voice, locale=self.locale
            )
            logger.info(
                "speaking %s with voice %s at %d wpm", self.locale, self._voice.id, self.rate
            )

    def close(self) -> None:
        """Stop the worker process if this speaker started it."""
        if self._owns_worker:
            self._worker.close()

    def synthesize(self, text: str) -> bytes:
        """16-bit mono WAV bytes of `text`, from the cache when the same reply was rendered."""
        text = " ".join(text.split())
        if not text:
            raise TtsError("nothing to say: the text is empty")
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                self._hits += 1
                return cached
            self._misses += 1
        wav = self._worker.render(text, voice=self.voice.id, rate=self.rate)
        if self.sample_rate is not None:
            wav = resample_wav(wav, rate=self.sample_rate)
        with self._lock:
            self._cache[text] = wav
            self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return wav

    def cache_info(self) -> CacheInfo:
        """Hits, misses and size of the cache of rendered replies."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._cache), self._cache_size)


async def synthesize_async(speaker: Speaker, text: str) -> bytes:
    """Render off the event loop (the worker blocks for tens of milliseconds per reply)."""
    return await asyncio.to_thread(speaker.synthesize, text)


def check_tts_available(*, voice: str | None = None, locale: str = "en-US") -> None:
    """Raise TtsUnavailable, naming what to install, unless espeak-ng can speak `locale`."""
    errors: list[str] = []
    for name in ESPEAK_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError as error:
            errors.append(str(error))
            continue
        break
    else:
        raise TtsUnavailable(
            "text-to-speech is unavailable: the espeak-ng library could not be loaded "
            f"({'; '.join(errors)}). Install it (Debian/Ubuntu: apt-get install espeak-ng "
            "libespeak-ng1)"
        )
    if find_spec("pyttsx3") is None:
        raise TtsUnavailable("text-to-speech is unavailable: pip install pyttsx3")
    with TtsWorker() as worker:
        find_voice(worker.voices, voice=voice, locale=locale)


def _fft_resample(audio: np.ndarray, source_rate: int, rate: int) -> np.ndarray:
    """Band-limited resampling in the frequency domain.

    The input is zero-padded to a whole number of rate blocks whose count has only small
    prime factors, so both FFTs stay fast (a prime length makes them ~5x slower).
    """
    step = math.gcd(source_rate, rate)
    block_in, block_out = source_rate // step, rate // step
    blocks = _smooth_at_least(math.ceil(audio.size / block_in))
    padded = np.zeros(blocks * block_in)
    padded[: audio.size] = audio
    spectrum = np.fft.rfft(padded)
    size = blocks * block_out
    kept = np.zeros(size // 2 + 1, dtype=complex)
    bins = min(kept.size, spectrum.size)
    kept[:bins] = spectrum[:bins]
    out = np.fft.irfft(kept, size) * (size / padded.size)
    return out[: round(audio.size * rate / source_rate)]


def _smooth_at_least(n: int) -> int:
    """The smallest number >= n whose prime factors are all 2, 3 or 5."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def resample_wav(wav: bytes, *, rate: int) -> bytes:
    """The WAV as 16-bit mono at `rate` Hz (band-limited FFT resampling)."""
    with wave.open(io.BytesIO(wav)) as reader:
        if reader.getsampwidth() != 2:
            raise TtsError(f"expected 16-bit audio, got {8 * reader.getsampwidth()}-bit")
        channels, source_rate = reader.getnchannels(), reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    audio = samples.reshape(-1, channels).mean(axis=1)
    if source_rate != rate and audio.size:
        audio = _fft_resample(audio, source_rate, rate)
    pcm = np.clip(np.round(audio), -32768, 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm.tobytes())
    return out.getvalue()
