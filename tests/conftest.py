"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository, or skip with the reason."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"shared data not found at {SHARED} (it sits beside the clone in CI)")
    return SHARED
