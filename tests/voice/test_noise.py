"""Noise mixing at a peak-frame-energy SNR, as the Picovoice speech-to-intent benchmark does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voice import audio, noise


def tone(frequency: float, seconds: float, amplitude: float) -> np.ndarray:
    """A sine at 16 kHz."""
    t = np.arange(int(seconds * audio.SAMPLE_RATE)) / audio.SAMPLE_RATE
    return amplitude * np.sin(2 * np.pi * frequency * t)


def test_max_frame_energy_is_the_loudest_frame() -> None:
    quiet = np.full(2048, 0.1)
    loud = np.full(2048, 0.5)
    assert noise.max_frame_energy(np.concatenate([quiet, loud, quiet])) == pytest.approx(
        2048 * 0.25
    )
    # A trailing partial frame is ignored, as in the benchmark.
    assert noise.max_frame_energy(np.concatenate([quiet, np.ones(100)])) == pytest.approx(
        2048 * 0.01
    )
    # Shorter than a frame: padded to one frame.
    assert noise.max_frame_energy(np.ones(10)) == pytest.approx(10.0)


@pytest.mark.parametrize("snr", [24.0, 12.0, 6.0, 0.0, -3.0])
def test_mix_hits_the_requested_snr(snr: float) -> None:
    rng = np.random.default_rng(7)
    speech = np.concatenate([np.zeros(8000), tone(300, 1.0, 0.3), np.zeros(8000)])
    background = rng.normal(0, 0.05, 48_000)
    mixed = noise.mix(speech, background, snr, rng=np.random.default_rng(3), peak=None)
    added = mixed - speech
    assert noise.snr_db(speech, added) == pytest.approx(snr, abs=1e-6)
    # Silence around the speech does not change the scale: peak frames are compared.
    trimmed = speech[8000:-8000]
    assert noise.noise_scale(trimmed, added[8000:-8000], snr) == pytest.approx(
        noise.noise_scale(speech, added, snr), rel=0.05
    )


def test_mix_is_peak_normalised_like_the_benchmark() -> None:
    mixed = noise.mix(tone(300, 1, 0.9), tone(50, 3, 0.2), 10.0, rng=np.random.default_rng(1))
    assert float(np.max(np.abs(mixed))) == pytest.approx(0.5)


def test_short_noise_is_looped_and_seeded_windows_repeat() -> None:
    speech = tone(300, 2, 0.3)
    short = np.random.default_rng(0).normal(0, 0.1, 1000)
    first = noise.mix(speech, short, 6.0, rng=np.random.default_rng(5))
    again = noise.mix(speech, short, 6.0, rng=np.random.default_rng(5))
    other = noise.mix(speech, short, 6.0, rng=np.random.default_rng(6))
    assert first.size == speech.size
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    with pytest.raises(ValueError, match="empty"):
        noise.mix(speech, np.zeros(0), 6.0)


def test_silent_noise_adds_nothing() -> None:
    speech = tone(300, 1, 0.3)
    assert noise.noise_scale(speech, np.zeros(speech.size), 6.0) == 0.0
    mixed = noise.mix(speech, np.zeros(100), 6.0, peak=None)
    assert np.array_equal(mixed, speech)


def test_level_normalisation() -> None:
    assert float(np.max(np.abs(noise.normalise_peak(tone(300, 1, 0.1), peak=0.8)))) == (
        pytest.approx(0.8)
    )
    louder = noise.normalise_rms(tone(300, 1, 0.1), dbfs=-20.0)
    assert 20 * np.log10(np.sqrt(np.mean(louder**2))) == pytest.approx(-20.0)
    assert np.array_equal(noise.normalise_peak(np.zeros(5)), np.zeros(5))
    assert np.array_equal(noise.normalise_rms(np.zeros(5)), np.zeros(5))


def test_mix_pcm_with_the_kitchen_noise(shared_dir: Path) -> None:
    kitchen = audio.load(
        shared_dir / "data" / "noise" / "kitchen.wav", limits=audio.AudioLimits(max_seconds=600)
    )
    speech_file = sorted((shared_dir / "data" / "barista" / "dev").glob("*.wav"))[0]
    speech = audio.load(speech_file)
    mixed = noise.mix_pcm(speech.pcm, kitchen.pcm, 6.0, rng=np.random.default_rng(0), peak=None)
    assert len(mixed) == len(speech.pcm)
    added = audio.to_float(mixed).astype(np.float64) - audio.to_float(speech.pcm)
    # int16 rounding of the mix moves the measured SNR by far less than 0.1 dB.
    assert noise.snr_db(audio.to_float(speech.pcm), added) == pytest.approx(6.0, abs=0.1)
