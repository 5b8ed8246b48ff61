"""Generate the small WAV/FLAC/OGG fixtures in tests/fixtures/audio with espeak-ng and sox.

Deterministic: espeak-ng and sox (run with -D, no dither) give the same bytes for the same
versions, generated noise uses a fixed seed, format variants are written by soundfile, and
OGG/Opus by ffmpeg in bit-exact mode with a fixed stream serial.
Run: .venv/bin/python scripts/make_test_audio.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
RATE = 16_000

# file stem -> (espeak-ng voice, text)
PHRASES: dict[str, tuple[str, str]] = {
    "two_oat_milks": ("en-us", "add two oat milks"),
    "grande_oat_latte_extra_shot": ("en-us", "a grande oat latte with an extra shot"),
    "reorder_paper_towels": ("en-us", "reorder my paper towels"),
    "korean_two_coffees": ("ko", "커피 두 잔 주세요"),
    "large_oat_latte_bit_of_vanilla": (
        "en-us",
        "can I get a large oat milk latte with a little bit of vanilla",
    ),
    "two_double_shot_americanos": ("en-us", "two double shot americanos please"),
}


def run(*command: str) -> None:
    """Run a tool, failing loudly."""
    subprocess.run(command, check=True, capture_output=True)


def speak(voice: str, text: str, destination: Path) -> None:
    """espeak-ng at 150 wpm, then sox to 16 kHz mono 16-bit without dither, 0.3 s pad each end."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        run("espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text)
        run("sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(destination),
            "pad", "0.3", "0.3")  # fmt: skip


def variants(source: Path) -> None:
    """The same speech in every input format audio.py accepts, plus one it refuses (AIFF)."""
    samples, rate = soundfile.read(source, dtype="float32")
    stem = source.stem
    soundfile.write(OUT / f"{stem}_u8.wav", samples, rate, subtype="PCM_U8")
    soundfile.write(OUT / f"{stem}_24bit.wav", samples, rate, subtype="PCM_24")
    soundfile.write(OUT / f"{stem}_32bit.wav", samples, rate, subtype="PCM_32")
    soundfile.write(OUT / f"{stem}_float.wav", samples, rate, subtype="FLOAT")
    soundfile.write(OUT / f"{stem}.flac", samples, rate, subtype="PCM_16")
    run("ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-c:a", "libopus", "-b:a", "32k",
        "-fflags", "+bitexact", "-flags:a", "+bitexact", "-serial_offset", "1",
        str(OUT / f"{stem}.opus"))  # fmt: skip
    soundfile.write(OUT / f"{stem}.aiff", samples, rate, format="AIFF", subtype="PCM_16")
    (OUT / f"{stem}_s16le_8k.raw").write_bytes(pcm_at(source, 8_000))


def stereo_441(source: Path, destination: Path) -> None:
    """44.1 kHz stereo 16-bit, left as is and right at half volume, so downmixing shows."""
    run("sox", "-D", str(source), "-r", "44100", "-b", "16", str(destination),
        "remix", "1", "1v0.5")  # fmt: skip


def pcm_at(source: Path, rate: int) -> bytes:
    """Headerless little-endian 16-bit mono PCM at `rate`."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "out.raw"
        run("sox", "-D", str(source), "-r", str(rate), "-e", "signed", "-b", "16",
            "-L", "-t", "raw", str(raw))  # fmt: skip
        return raw.read_bytes()


def silence_and_noise() -> None:
    """Digital silence, a near-silent hiss, and loud white noise (seeded)."""
    rng = np.random.default_rng(20240611)
    soundfile.write(OUT / "silence.wav", np.zeros(2 * RATE, dtype=np.int16), RATE)
    hiss = rng.normal(0.0, 10 ** (-70 / 20), 2 * RATE)
    soundfile.write(OUT / "near_silence.wav", hiss, RATE, subtype="PCM_16")
    noise = np.clip(rng.normal(0.0, 0.1, 3 * RATE), -1.0, 1.0)
    soundfile.write(OUT / "white_noise.wav", noise, RATE, subtype="PCM_16")


def main() -> int:
    """Write every fixture; exit 1 when espeak-ng or sox is missing."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    missing = [tool for tool in ("espeak-ng", "sox", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        print(f"missing tools: {', '.join(missing)} (apt-get install espeak-ng sox ffmpeg)")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for stem, (voice, text) in PHRASES.items():
        speak(voice, text, OUT / f"{stem}.wav")
    variants(OUT / "two_oat_milks.wav")
    stereo_441(OUT / "korean_two_coffees.wav", OUT / "korean_two_coffees_44k_stereo.wav")
    silence_and_noise()
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total / 1024:.0f} KiB, to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
