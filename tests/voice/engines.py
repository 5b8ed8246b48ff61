"""Speech engines for the voice-turn tests, loaded once per test process and shared.

The server's own choice (server.voice_deps.load_transcriber: Whisper with the options for
understanding orders) so the tests exercise what shoppers get. Skips when it cannot load.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from catalog.errors import VoiceCartError
from voice.stt import Engine, Transcriber
from voice.tts import Pyttsx3Speaker, TtsError


@functools.cache
def _load_whisper() -> Transcriber | str:
    from server.voice_deps import VoiceSettings, load_transcriber

    try:
        return load_transcriber(VoiceSettings(stt_engine=Engine.WHISPER, models_dir=Path("models")))
    except VoiceCartError as error:
        return error.detail


def server_whisper() -> Transcriber:
    """The server's Whisper transcriber, or skip with the reason."""
    loaded = _load_whisper()
    if isinstance(loaded, str):
        pytest.skip(f"whisper unavailable: {loaded}")
    return loaded


@functools.cache
def _load_speaker() -> Pyttsx3Speaker | str:
    try:
        speaker = Pyttsx3Speaker()
        speaker.start()
    except TtsError as error:
        return error.detail
    return speaker


def espeak_speaker() -> Pyttsx3Speaker:
    """One espeak-ng speaker for the whole run (its worker exits with the process), or skip."""
    loaded = _load_speaker()
    if isinstance(loaded, str):
        pytest.skip(f"text-to-speech unavailable: {loaded}")
    return loaded
