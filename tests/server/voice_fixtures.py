"""Fixtures of the voice API tests: the app with real Whisper and espeak-ng, clients, audio.

Imported by tests/server/test_voice_*.py and test_browser_app.py (pytest finds fixtures in a
test module's namespace), on top of the database fixtures of tests/server/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from server.voice_deps import VoiceConfig, install_voice
from tests.conftest import FIXTURES
from tests.orders.factories import FakeClock
from tests.voice.engines import espeak_speaker, server_whisper
from voice import audio

AUDIO = FIXTURES / "audio"


def fixture_audio(name: str) -> Path:
    """A file of tests/fixtures/audio, or skip when the fixtures were not generated."""
    path = AUDIO / name
    if not path.is_file():
        pytest.skip(f"fixture audio missing: run scripts/make_test_audio.py ({name})")
    return path


def pcm_of(name: str) -> bytes:
    """A fixture file as 16 kHz mono int16 PCM."""
    return audio.load(fixture_audio(name)).pcm


def silence(ms: int) -> bytes:
    """Digital silence as 16 kHz PCM."""
    return bytes(32 * ms)


def make_voice_app(
    database_url: str, clock: FakeClock, config: VoiceConfig | None = None
) -> FastAPI:
    """The app on the test database, with the server's Whisper and espeak-ng installed."""
    app = create_app(Settings(database_url=database_url, dispatcher=False), clock=clock)
    install_voice(
        app, transcriber=server_whisper(), speaker=espeak_speaker(), config=config or VoiceConfig()
    )
    return app


@pytest.fixture
def voice_config() -> VoiceConfig:
    """The voice limits of the test app (tests override this fixture to change them)."""
    return VoiceConfig()


@pytest.fixture
def voice_app(
    database_url: str, clock: FakeClock, loaded: None, voice_config: VoiceConfig
) -> FastAPI:
    """The app with voice, the test catalog loaded."""
    return make_voice_app(database_url, clock, voice_config)


@pytest.fixture
def voice_client(voice_app: FastAPI) -> Iterator[TestClient]:
    """A client of the voice app."""
    with TestClient(voice_app) as client:
        yield client


def strict_limits(**changes: object) -> VoiceConfig:
    """VoiceConfig with some fields changed."""
    return replace(VoiceConfig(), **changes)  # type: ignore[arg-type]
