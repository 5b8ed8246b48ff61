"""Mix background noise into speech at a chosen SNR, and normalise levels, for evaluations.

The SNR follows the Picovoice speech-to-intent benchmark (benchmark/mixer.py): the ratio of the
loudest 2048-sample frame's energy in the speech to that in the noise window, so leading and
trailing silence in a recording do not change the mix. Like that benchmark, a mix is then
scaled so that its peak is 0.5.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voice.audio import to_float, to_int16

FRAME_LENGTH = 2048
"""Samples per frame for peak-frame energy (the benchmark's value)."""

Samples = npt.NDArray[np.floating]


def max_frame_energy(samples: Samples, *, frame_length: int = FRAME_LENGTH) -> float:
    """The largest sum of squares over consecutive non-overlapping frames."""
    values = np.asarray(samples, dtype=np.float64)
    if values.size < frame_length:
        values = np.pad(values, (0, frame_length - values.size))
    count = values.size // frame_length
    frames = values[: count * frame_length].reshape(count, frame_length)
    return float((frames**2).sum(axis=1).max())


def noise_scale(
    speech: Samples, noise: Samples, snr_db: float, *, frame_length: int = FRAME_LENGTH
) -> float:
    """The gain for `noise` that puts it `snr_db` below `speech` by peak-frame energy."""
    noise_energy = max_frame_energy(noise, frame_length=frame_length)
    if noise_energy == 0.0:
        return 0.0
    speech_energy = max_frame_energy(speech, frame_length=frame_length)
    return float(np.sqrt(speech_energy / (noise_energy * 10.0 ** (snr_db / 10.0))))


def noise_window(
    noise: Samples, length: int, *, rng: np.random.Generator | None = None
) -> npt.NDArray[np.float64]:
    """A random `length`-sample window of `noise`, looped when the noise is shorter."""
    values = np.asarray(noise, dtype=np.float64)
    if values.size == 0:
        raise ValueError("noise is empty")
    if values.size < length:
        values = np.tile(values, -(-length // values.size) + 1)
    rng = rng or np.random.default_rng()
    start = int(rng.integers(0, values.size - length + 1))
    return values[start : start + length]


def mix(
    speech: Samples,
    noise: Samples,
    snr_db: float,
    *,
    rng: np.random.Generator | None = None,
    peak: float | None = 0.5,
) -> npt.NDArray[np.float64]:
    """Speech plus a random noise window at `snr_db`, peak-normalised to `peak` (None: as is)."""
    clean = np.asarray(speech, dtype=np.float64)
    window = noise_window(noise, clean.size, rng=rng)
    mixed = clean + noise_scale(clean, window, snr_db) * window
    return mixed if peak is None else normalise_peak(mixed, peak=peak)


def mix_pcm(
    speech: bytes,
    noise: bytes,
    snr_db: float,
    *,
    rng: np.random.Generator | None = None,
    peak: float | None = 0.5,
) -> bytes:
    """`mix` for 16-bit PCM at one rate: speech and noise bytes in, mixed bytes out."""
    mixed = mix(to_float(speech), to_float(noise), snr_db, rng=rng, peak=peak)
    return to_int16(mixed).tobytes()


def normalise_peak(samples: Samples, *, peak: float = 0.5) -> npt.NDArray[np.float64]:
    """Scale so the largest absolute sample is `peak`; silence stays silence."""
    values = np.asarray(samples, dtype=np.float64)
    top = float(np.max(np.abs(values))) if values.size else 0.0
    return values if top == 0.0 else values * (peak / top)


def normalise_rms(samples: Samples, *, dbfs: float = -20.0) -> npt.NDArray[np.float64]:
    """Scale to an RMS level of `dbfs` (clipping is the caller's concern); silence stays."""
    values = np.asarray(samples, dtype=np.float64)
    rms = float(np.sqrt(np.mean(values**2))) if values.size else 0.0
    return values if rms == 0.0 else values * (10.0 ** (dbfs / 20.0) / rms)


def snr_db(speech: Samples, noise: Samples, *, frame_length: int = FRAME_LENGTH) -> float:
    """The peak-frame-energy SNR of a speech signal over a noise signal, in dB."""
    ratio = max_frame_energy(speech, frame_length=frame_length) / max_frame_energy(
        noise, frame_length=frame_length
    )
    return 10.0 * float(np.log10(ratio))
