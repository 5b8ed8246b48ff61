"""Audio input: every accepted format becomes 16 kHz mono int16; everything else is refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voice import audio
from voice.errors import AudioEmpty, AudioFormatError, AudioTooLarge

RATE = audio.SAMPLE_RATE


def reference(audio_dir: Path) -> np.ndarray:
    """The 16 kHz 16-bit original that every two_oat_milks variant was made from."""
    samples, rate = soundfile.read(audio_dir / "two_oat_milks.wav", dtype="float32")
    assert rate == RATE
    return samples


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation at the best lag within 5 ms, over the common length."""
    best = -1.0
    for lag in range(-80, 81):
        x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        n = min(x.size, y.size)
        x, y = x[:n], y[:n]
        best = max(best, float(np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-12)))
    return best


@pytest.mark.parametrize(
    ("name", "min_similarity", "source"),
    [
        ("two_oat_milks.wav", 0.9999, "WAV PCM_16, 16000 Hz, 1 channel(s)"),
        ("two_oat_milks_u8.wav", 0.995, "WAV PCM_U8, 16000 Hz, 1 channel(s)"),
        ("two_oat_milks_24bit.wav", 0.9999, "WAV PCM_24, 16000 Hz, 1 channel(s)"),
        ("two_oat_milks_32bit.wav", 0.9999, "WAV PCM_32, 16000 Hz, 1 channel(s)"),
        ("two_oat_milks_float.wav", 0.9999, "WAV FLOAT, 16000 Hz, 1 channel(s)"),
        ("two_oat_milks.flac", 0.9999, "FLAC PCM_16, 16000 Hz, 1 channel(s)"),
        ("two_oat_milks.opus", 0.99, "OGG OPUS, 16000 Hz, 1 channel(s)"),
    ],
)
def test_formats_decode_to_the_same_16k_mono_samples(
    audio_dir: Path, name: str, min_similarity: float, source: str
) -> None:
    decoded = audio.load(audio_dir / name)
    original = reference(audio_dir)
    assert decoded.source == source
    assert abs(decoded.duration - original.size / RATE) < 0.02
    assert similarity(audio.to_float(decoded.pcm), original) >= min_similarity


def test_stereo_44k_is_downmixed_and_resampled(audio_dir: Path) -> None:
    stereo = audio.load(audio_dir / "korean_two_coffees_44k_stereo.wav")
    mono, _ = soundfile.read(audio_dir / "korean_two_coffees.wav", dtype="float32")
    got = audio.to_float(stereo.pcm)
    assert stereo.source == "WAV PCM_16, 44100 Hz, 2 channel(s)"
    assert abs(got.size - mono.size) <= 2
    assert similarity(got, mono) > 0.995
    # The right channel was written at half volume, so the mean of the two is 0.75 x.
    gain = float(np.dot(got[: mono.size], mono[: got.size]) / np.dot(mono, mono))
    assert gain == pytest.approx(0.75, abs=0.02)


def test_raw_pcm_with_a_declared_rate(audio_dir: Path) -> None:
    data = (audio_dir / "two_oat_milks_s16le_8k.raw").read_bytes()
    decoded = audio.from_raw(data, sample_rate=8000)
    original = reference(audio_dir)
    assert decoded.source == "raw PCM 16-bit, 8000 Hz, 1 channel(s)"
    assert abs(decoded.duration - original.size / RATE) < 0.01
    # 8 kHz keeps only the band below 4 kHz, so the match is good but not exact.
    assert similarity(audio.to_float(decoded.pcm), original) > 0.98


def test_raw_pcm_stereo_and_8_bit() -> None:
    tone = (np.sin(2 * np.pi * 300 * np.arange(RATE) / RATE) * 0.5).astype(np.float32)
    stereo = np.stack([tone, np.zeros_like(tone)], axis=1)
    got = audio.from_raw(audio.to_int16(stereo).tobytes(), sample_rate=RATE, channels=2)
    assert float(np.max(np.abs(audio.to_float(got.pcm)))) == pytest.approx(0.25, abs=0.01)
    unsigned = np.round(tone * 127 + 128).astype(np.uint8).tobytes()
    got8 = audio.from_raw(unsigned, sample_rate=RATE, sample_width=1)
    assert similarity(audio.to_float(got8.pcm), tone) > 0.999


def test_resample_keeps_the_band_and_removes_what_cannot_be_kept() -> None:
    rate = 44_100
    t = np.arange(rate) / rate
    kept = audio.resample((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), rate)
    assert abs(kept.size - RATE) <= 2
    spectrum = np.abs(np.fft.rfft(kept[:RATE]))
    assert int(np.argmax(spectrum)) == pytest.approx(1000, abs=1)
    assert float(np.sqrt(np.mean(kept[1000:-1000] ** 2))) == pytest.approx(
        0.5 / np.sqrt(2), rel=0.02
    )
    # 10 kHz is above the new Nyquist frequency: it must be filtered out, not aliased to 6 kHz.
    alias = audio.resample((0.5 * np.sin(2 * np.pi * 10_000 * t)).astype(np.float32), rate)
    assert float(np.sqrt(np.mean(alias[1000:-1000] ** 2))) < 0.01


def test_aiff_is_refused_naming_what_it_is(audio_dir: Path) -> None:
    with pytest.raises(AudioFormatError, match=r"got AIFF .* expected WAV"):
        audio.load(audio_dir / "two_oat_milks.aiff")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"ID3\x04\x00" + bytes(200), "MP3 audio"),
        (b"<!DOCTYPE html><html>hello</html>", "text starting '<!DOCTYPE html><'"),
        (b"%PDF-1.7" + bytes(100), "a PDF document"),
        (bytes(range(7, 40)), "bytes of unknown data starting 0x0708"),
        (b"RIFF\x10\x00\x00\x00WAVEjunk", "a damaged or unusual WAV file"),
    ],
)
def test_non_audio_is_refused_naming_what_was_received(data: bytes, named: str) -> None:
    with pytest.raises(AudioFormatError) as raised:
        audio.decode(data, name="upload")
    assert named in raised.value.detail
    assert raised.value.detail.startswith("upload: unsupported audio")


def test_wav_with_an_unsupported_encoding_names_it() -> None:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(1600), RATE, format="WAV", subtype="IMA_ADPCM")
    with pytest.raises(AudioFormatError, match="IMA ADPCM"):
        audio.decode(buffer.getvalue())


def test_empty_input() -> None:
    with pytest.raises(AudioEmpty):
        audio.decode(b"")
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(0, dtype=np.int16), RATE, format="WAV", subtype="PCM_16")
    with pytest.raises(AudioEmpty, match="no samples"):
        audio.decode(buffer.getvalue())
    with pytest.raises(AudioEmpty):
        audio.from_raw(b"", sample_rate=RATE)


def test_limits_on_size_and_duration(audio_dir: Path) -> None:
    path = audio_dir / "two_oat_milks.wav"
    with pytest.raises(AudioTooLarge, match="bytes is over the limit of 1000 bytes"):
        audio.load(path, limits=audio.AudioLimits(max_bytes=1000))
    with pytest.raises(AudioTooLarge, match=r"2\.3 s of audio is over the limit of 2 s"):
        audio.load(path, limits=audio.AudioLimits(max_seconds=2))
    with pytest.raises(AudioTooLarge):
        audio.from_raw(
            bytes(RATE * 2 * 3), sample_rate=RATE, limits=audio.AudioLimits(max_seconds=2)
        )


def test_bad_raw_pcm_declarations() -> None:
    with pytest.raises(AudioFormatError, match="not a whole number of 2-byte frames"):
        audio.from_raw(b"\x00\x01\x02", sample_rate=RATE)
    with pytest.raises(AudioFormatError, match="sample width 3"):
        audio.from_raw(bytes(6), sample_rate=RATE, sample_width=3)
    with pytest.raises(AudioFormatError, match="sample rate 4000 Hz"):
        audio.from_raw(bytes(6), sample_rate=4000)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match=r"cannot read .*nope\.wav: No such file"):
        audio.load(tmp_path / "nope.wav")
    with pytest.raises(AudioFormatError, match=r"cannot read .*: Is a directory"):
        audio.load(tmp_path)


def test_float_wav_with_nan_and_out_of_range_samples() -> None:
    buffer = io.BytesIO()
    samples = np.array([0.5, np.nan, 2.0, -3.0, np.inf] * 400, dtype=np.float32)
    soundfile.write(buffer, samples, RATE, format="WAV", subtype="FLOAT")
    got = audio.decode(buffer.getvalue()).samples()
    assert got[:5].tolist() == [16384, 0, 32767, -32768, 32767]


def test_levels() -> None:
    assert audio.rms_dbfs(bytes(3200)) == float("-inf")
    assert audio.peak_frame_dbfs(bytes(3200)) == float("-inf")
    sine = np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
    pcm = audio.to_int16(sine).tobytes()
    assert audio.rms_dbfs(pcm) == pytest.approx(-3.01, abs=0.05)
    quiet_then_loud = audio.to_int16(np.concatenate([sine * 0.001, sine])).tobytes()
    assert audio.peak_frame_dbfs(quiet_then_loud) == pytest.approx(-3.01, abs=0.1)
    assert audio.rms_dbfs(quiet_then_loud) < -5.9


def test_chunks_split_by_duration() -> None:
    pcm = bytes(2 * RATE)  # one second
    sizes = [len(c) for c in audio.chunks(pcm, ms=300)]
    assert sizes == [9600, 9600, 9600, 3200]
    assert b"".join(audio.chunks(pcm, ms=300)) == pcm


def test_speech_segments_find_the_speech_and_nothing_in_silence(audio_dir: Path) -> None:
    speech = audio.load(audio_dir / "two_oat_milks.wav")
    segments = audio.speech_segments(speech.pcm)
    assert segments
    assert 0.0 <= segments[0][0] < 0.6
    assert speech.duration - 0.6 < segments[-1][1] <= speech.duration
    for name in ("silence.wav", "near_silence.wav", "white_noise.wav"):
        assert audio.speech_segments(audio.load(audio_dir / name).pcm) == [], name


def test_speech_gate_refuses_silence_before_the_vad(audio_dir: Path) -> None:
    gate = audio.SpeechGate()
    assert gate.segments(audio.load(audio_dir / "near_silence.wav").pcm) == []
    assert gate.segments(audio.load(audio_dir / "two_oat_milks.wav").pcm)
    # A gate whose floor is above the speech's level refuses even real speech.
    loud_only = audio.SpeechGate(min_dbfs=0.0)
    assert loud_only.segments(audio.load(audio_dir / "two_oat_milks.wav").pcm) == []
