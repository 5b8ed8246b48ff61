"""Decode audio input to 16 kHz mono int16 PCM, with limits, levels and speech detection."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import soundfile

from voice.errors import AudioEmpty, AudioFormatError, AudioTooLarge

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""The one rate every engine is fed."""

SAMPLE_WIDTH = 2
"""Bytes per sample of the PCM we hand engines (int16)."""

MIN_RATE = 8_000
MAX_RATE = 192_000

# soundfile container -> the sample encodings we accept in it.
_ACCEPTED: dict[str, frozenset[str]] = {
    "WAV": frozenset({"PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}),
    "WAVEX": frozenset({"PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}),
    "FLAC": frozenset({"PCM_S8", "PCM_16", "PCM_24"}),
    "OGG": frozenset({"OPUS", "VORBIS"}),
}
SUPPORTED = "WAV (8/16/24/32-bit PCM or float), FLAC, OGG/Opus, OGG/Vorbis, or raw PCM with a rate"

# Leading bytes of formats people send by mistake, for a useful error.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"ID3", "MP3 audio"),
    (b"\xff\xfb", "MP3 audio"),
    (b"\xff\xf3", "MP3 audio"),
    (b"FORM", "AIFF audio"),
    (b"\x1aE\xdf\xa3", "WebM/Matroska"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive"),
)


@dataclass(frozen=True)
class AudioLimits:
    """Refuse input longer than `max_seconds` or bigger than `max_bytes`."""

    max_seconds: float = 60.0
    max_bytes: int = 25 * 1024 * 1024


@dataclass(frozen=True)
class Audio:
    """Decoded audio: 16 kHz mono int16 little-endian PCM, and what it was decoded from."""

    pcm: bytes
    source: str
    """What the input was, e.g. "WAV PCM_24, 44100 Hz, 2 channels"."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)

    def samples(self) -> npt.NDArray[np.int16]:
        """The PCM as an int16 array (a read-only view)."""
        return np.frombuffer(self.pcm, dtype="<i2")


def load(path: Path, *, limits: AudioLimits | None = None) -> Audio:
    """Read and decode an audio file."""
    limits = limits or AudioLimits()
    try:
        _check_size(path.stat().st_size, limits, name=str(path))
        data = path.read_bytes()
    except OSError as error:
        raise AudioFormatError(f"cannot read {path}: {error.strerror or error}") from error
    return decode(data, name=str(path), limits=limits)


def decode(data: bytes, *, name: str = "audio", limits: AudioLimits | None = None) -> Audio:
    """Decode a WAV, FLAC or OGG file's bytes to 16 kHz mono int16."""
    limits = limits or AudioLimits()
    _check_size(len(data), limits, name=name)
    if not data:
        raise AudioEmpty(f"{name}: empty input (0 bytes)")
    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioFormatError(
            f"{name}: unsupported audio: got {describe_bytes(data)}; expected {SUPPORTED}"
        ) from error
    source = f"{info.format} {info.subtype}, {info.samplerate} Hz, {info.channels} channel(s)"
    accepted = _ACCEPTED.get(info.format)
    if accepted is None or info.subtype not in accepted:
        raise AudioFormatError(
            f"{name}: unsupported audio: got {info.format_info} with {info.subtype_info} "
            f"encoding; expected {SUPPORTED}"
        )
    _check_rate(info.samplerate, name=name)
    _check_duration(info.frames / info.samplerate, limits, name=name)
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise AudioFormatError(f"{name}: damaged {info.format} data: {error}") from error
    if samples.shape[0] == 0:
        raise AudioEmpty(f"{name}: the {info.format} file holds no samples")
    return Audio(pcm=_to_pcm(samples, rate), source=source)


def from_raw(
    data: bytes,
    *,
    sample_rate: int,
    channels: int = 1,
    sample_width: int = 2,
    name: str = "raw PCM",
    limits: AudioLimits | None = None,
) -> Audio:
    """Convert headerless little-endian PCM (8-bit unsigned, 16/32-bit signed) to 16 kHz mono."""
    limits = limits or AudioLimits()
    _check_size(len(data), limits, name=name)
    _check_rate(sample_rate, name=name)
    dtypes = {1: "u1", 2: "<i2", 4: "<i4"}
    if sample_width not in dtypes:
        raise AudioFormatError(f"{name}: raw PCM sample width {sample_width} not in 1, 2 or 4")
    if channels < 1:
        raise AudioFormatError(f"{name}: raw PCM needs at least one channel, got {channels}")
    frame = sample_width * channels
    if not data:
        raise AudioEmpty(f"{name}: empty input (0 bytes)")
    if len(data) % frame:
        raise AudioFormatError(
            f"{name}: {len(data)} bytes is not a whole number of {frame}-byte frames "
            f"({channels} channel(s) x {sample_width} byte(s))"
        )
    _check_duration(len(data) / frame / sample_rate, limits, name=name)
    ints = np.frombuffer(data, dtype=dtypes[sample_width]).reshape(-1, channels)
    if sample_width == 1:
        floats = (ints.astype(np.float32) - 128.0) / 128.0
    else:
        floats = ints.astype(np.float32) / float(2 ** (8 * sample_width - 1))
    source = f"raw PCM {8 * sample_width}-bit, {sample_rate} Hz, {channels} channel(s)"
    return Audio(pcm=_to_pcm(floats, sample_rate), source=source)


def describe_bytes(data: bytes) -> str:
    """A short human description of what some bytes look like, for error messages."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"{what} ({len(data)} bytes)"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return f"a damaged or unusual WAV file ({len(data)} bytes)"
    head = data[:16]
    if head and all(32 <= b < 127 or b in b"\r\n\t" for b in head):
        return f"text starting {head.decode('ascii')!r} ({len(data)} bytes)"
    return f"{len(data)} bytes of unknown data starting 0x{head.hex()}"


def resample(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float32]:
    """Resample mono float32 audio to 16 kHz with libswresample (band-limited)."""
    if rate == SAMPLE_RATE:
        return samples
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples.reshape(1, -1), dtype=np.float32), format="flt", layout="mono"
    )
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


def to_int16(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    """Float samples in [-1, 1] to int16, clipping what lies outside (NaN becomes 0)."""
    finite = np.nan_to_num(np.asarray(samples, dtype=np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    scaled: npt.NDArray[np.int16] = np.clip(np.round(finite * 32767.0), -32768, 32767).astype("<i2")
    return scaled


def to_float(pcm: bytes) -> npt.NDArray[np.float32]:
    """16-bit PCM bytes to float32 samples in [-1, 1)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def rms_dbfs(pcm: bytes) -> float:
    """The level of 16-bit PCM in dB relative to full scale (-inf for digital silence)."""
    if len(pcm) < SAMPLE_WIDTH:
        return float("-inf")
    samples = to_float(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]).astype(np.float64)
    power = float(np.mean(samples**2))
    return 10.0 * float(np.log10(power)) if power > 0 else float("-inf")


def chunks(pcm: bytes, *, ms: int = 100) -> Iterator[bytes]:
    """Split 16 kHz PCM into chunks of `ms` milliseconds (the last may be shorter)."""
    size = SAMPLE_RATE * SAMPLE_WIDTH * ms // 1000
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]


def speech_segments(
    pcm: bytes,
    *,
    threshold: float = 0.5,
    min_speech_ms: int = 250,
    min_silence_ms: int = 300,
    pad_ms: int = 200,
) -> list[tuple[float, float]]:
    """Where someone speaks, as (start, end) seconds, by the Silero VAD in faster-whisper."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(pcm) < SAMPLE_WIDTH * 512:
        return []
    options = VadOptions(
        threshold=threshold,
        min_speech_duration_ms=min_speech_ms,
        min_silence_duration_ms=min_silence_ms,
        speech_pad_ms=pad_ms,
    )
    stamps = get_speech_timestamps(to_float(pcm), options, sampling_rate=SAMPLE_RATE)
    return [(int(s["start"]) / SAMPLE_RATE, int(s["end"]) / SAMPLE_RATE) for s in stamps]


def peak_frame_dbfs(pcm: bytes, *, frame_ms: int = 30) -> float:
    """The level of the loudest `frame_ms` frame, in dBFS (-inf for digital silence)."""
    samples = to_float(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]).astype(np.float64)
    size = SAMPLE_RATE * frame_ms // 1000
    if samples.size == 0:
        return float("-inf")
    frames = np.pad(samples, (0, -samples.size % size)).reshape(-1, size)
    power = float(np.max(np.mean(frames**2, axis=1)))
    return 10.0 * float(np.log10(power)) if power > 0 else float("-inf")


@dataclass(frozen=True)
class SpeechGate:
    """Decides whether audio holds speech at all, before any engine may turn it into words.

    Grammar-biased recognisers turn kitchen noise into menu items, and Whisper hallucinates on
    silence, so every engine asks this gate first: a level floor, then the Silero VAD.
    """

    min_dbfs: float = -55.0
    vad_threshold: float = 0.5
    min_speech_ms: int = 250

    def segments(self, pcm: bytes) -> list[tuple[float, float]]:
        """The speech segments in `pcm`, or [] when it is silence or noise."""
        if peak_frame_dbfs(pcm) < self.min_dbfs:
            return []
        return speech_segments(pcm, threshold=self.vad_threshold, min_speech_ms=self.min_speech_ms)


def _to_pcm(samples: npt.NDArray[np.float32], rate: int) -> bytes:
    mono = samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples
    return to_int16(resample(mono.astype(np.float32, copy=False), rate)).tobytes()


def _check_size(size: int, limits: AudioLimits, *, name: str) -> None:
    if size > limits.max_bytes:
        raise AudioTooLarge(f"{name}: {size} bytes is over the limit of {limits.max_bytes} bytes")


def _check_duration(seconds: float, limits: AudioLimits, *, name: str) -> None:
    if seconds > limits.max_seconds:
        raise AudioTooLarge(
            f"{name}: {seconds:.1f} s of audio is over the limit of {limits.max_seconds:g} s"
        )


def _check_rate(rate: int, *, name: str) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioFormatError(f"{name}: sample rate {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz")
