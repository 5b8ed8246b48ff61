"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"
CPU_INFO = Path("/proc/cpuinfo")
SAME_ARITHMETIC = {"CT2_USE_MKL": "0", "CT2_FORCE_CPU_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
"""CTranslate2 on oneDNN with AVX2, on every x86 test machine (see pin_speech_arithmetic)."""


def pin_speech_arithmetic() -> None:
    """Make Whisper's int8 arithmetic the same on every x86-64 test machine with AVX2.

    By default CTranslate2 multiplies with Intel MKL on Intel CPUs and with oneDNN on others,
    each at the widest vector ISA the CPU has, and the two round differently enough to change
    words: on one AMD machine grocery_remove/01.wav was "chirios cereal" under oneDNN and
    "Cheerio's cereal" under MKL (CT2_USE_MKL=1). The recorded-conversation tests expect exact
    outcomes, so the test run (and the servers it starts, which inherit the environment) uses
    oneDNN capped at AVX2 everywhere. A variable already set wins. Set here, before any test
    module loads CTranslate2, which reads them once.
    """
    if platform.machine() != "x86_64" or not CPU_INFO.exists():
        return
    if " avx2" not in CPU_INFO.read_text():
        return
    for name, value in SAME_ARITHMETIC.items():
        os.environ.setdefault(name, value)


pin_speech_arithmetic()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository, or skip with the reason."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"shared data not found at {SHARED} (it sits beside the clone in CI)")
    return SHARED
