"""One voice turn through the real pipeline: Whisper, the parser, the dialogue, the database."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from orders.catalog_store import CatalogCache, load_catalog_into
from orders.customers import create_customer
from orders.tables import Channel
from tests.orders.database import backend, clock, database_url, empty_url, engine, sessions
from tests.orders.factories import FakeClock, make_catalog
from tests.voice.conftest import normalise
from tests.voice.engines import espeak_speaker, server_whisper
from voice import audio
from voice.stt import Transcriber
from voice.tts import Speaker
from voice.turn import Pipeline, Shopper, split_sentences, wav_info

__all__ = ["backend", "clock", "database_url", "empty_url", "engine", "sessions"]


@pytest.fixture(scope="module")
def whisper() -> Transcriber:
    """The server's Whisper transcriber."""
    return server_whisper()


@pytest.fixture(scope="module")
def speaker() -> Speaker:
    """espeak-ng through pyttsx3."""
    return espeak_speaker()


@pytest.fixture
def shopper(sessions: sessionmaker[Session], clock: FakeClock) -> Shopper:
    """Ada, at the market, in a fresh conversation, with the test catalog loaded."""
    with sessions() as db:
        load_catalog_into(db, make_catalog(), source="tests", clock=clock)
        customer, _ = create_customer(db, name="Ada", home_store_id="market", clock=clock)
    return Shopper(customer.id, "session-1", Channel.APP)


@pytest.fixture
def pipeline(
    whisper: Transcriber, speaker: Speaker, sessions: sessionmaker[Session], clock: FakeClock
) -> Pipeline:
    """The pipeline on the test database."""
    return Pipeline(
        transcriber=whisper,
        speaker=speaker,
        sessions=sessions,
        catalogs=CatalogCache(),
        clock=clock,
    )


def read_wav(data: bytes) -> tuple[int, int, int]:
    """Rate, channels and frames of WAV bytes."""
    with wave.open(io.BytesIO(data)) as reader:
        return reader.getframerate(), reader.getnchannels(), reader.getnframes()


@pytest.mark.slow
def test_a_spoken_turn_fills_the_cart_and_answers_aloud(
    pipeline: Pipeline, shopper: Shopper, audio_dir: Path
) -> None:
    pcm = audio.load(audio_dir / "two_oat_milks.wav").pcm
    result = pipeline.audio_turn(pcm, shopper)
    assert result.transcript is not None
    assert "oat" in normalise(result.transcript.text)
    assert result.request is not None
    assert result.request.intent.value == "add_items"
    assert [(i.product_id, i.quantity) for i in result.request.items] == [("oat-milk", 2)]
    assert result.reply.kind == "added"
    assert result.reply.cart is not None
    assert [(line.product_id, line.quantity) for line in result.reply.cart.lines] == [
        ("oat-milk", 2)
    ]
    assert result.audio is not None
    rate, channels, frames = read_wav(result.audio)
    assert channels == 1
    assert frames / rate > 0.5
    assert {"stt", "parse", "dialog", "tts"} <= set(result.timings)


@pytest.mark.slow
def test_silence_is_no_request_and_a_reprompt(
    pipeline: Pipeline, shopper: Shopper, audio_dir: Path
) -> None:
    result = pipeline.audio_turn(audio.load(audio_dir / "silence.wav").pcm, shopper, speak=False)
    assert result.transcript is not None
    assert result.transcript.no_speech
    assert result.request is None
    assert result.reply.kind == "reprompt"
    assert result.audio is None


def test_typed_turns_share_the_dialogue(pipeline: Pipeline, shopper: Shopper) -> None:
    first = pipeline.text_turn("add two bananas", shopper)
    assert first.request is not None
    assert first.request.intent.value == "add_items"
    assert first.transcript is None
    assert "parse" in first.timings
    second = pipeline.text_turn("what's in my cart", shopper)
    assert second.reply.kind == "cart"
    assert "banana" in second.reply.speech.lower()


def test_a_blank_typed_turn_is_silence(pipeline: Pipeline, shopper: Shopper) -> None:
    result = pipeline.text_turn("   ", shopper)
    assert result.request is None
    assert result.reply.kind == "reprompt"


def test_the_understander_follows_catalog_loads(
    pipeline: Pipeline, shopper: Shopper, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    before = pipeline.listener(shopper).understander
    assert pipeline.listener(shopper).understander is before
    with sessions() as db:
        load_catalog_into(db, make_catalog(), source="again", clock=clock)
    after = pipeline.listener(shopper).understander
    assert after is not before


def test_the_listener_carries_the_purchase_history(
    pipeline: Pipeline, shopper: Shopper, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with sessions() as db:
        customer, _ = create_customer(db, name="Cy", home_store_id="cafe", clock=clock)
    regular = Shopper(customer.id, "session-2", Channel.APP)
    assert dict(pipeline.listener(regular).history) == {}
    kinds = [pipeline.text_turn(t, regular).reply.kind for t in ("a croissant", "check out", "yes")]
    assert kinds == ["added", "confirm_order", "placed"]
    assert pipeline.listener(regular).history == {"croissant": 1}
    assert dict(pipeline.listener(shopper).history) == {}


def test_replies_are_spoken_sentence_by_sentence(pipeline: Pipeline) -> None:
    parts = list(pipeline.speak_parts("Added 2 Oat Milks. Anything else?"))
    assert len(parts) == 2
    for part in parts:
        rate, seconds = wav_info(part)
        assert rate > 0
        assert seconds > 0.3
    whole = pipeline.speak("Added 2 Oat Milks. Anything else?")
    assert whole is not None
    assert wav_info(whole)[1] > max(wav_info(p)[1] for p in parts)


def test_without_a_speaker_nothing_is_spoken(
    whisper: Transcriber, sessions: sessionmaker[Session], clock: FakeClock, shopper: Shopper
) -> None:
    quiet = Pipeline(
        transcriber=whisper, speaker=None, sessions=sessions, catalogs=CatalogCache(), clock=clock
    )
    assert quiet.speak("Hello.") is None
    assert list(quiet.speak_parts("Hello. Again.")) == []
    assert quiet.text_turn("add two bananas", shopper, speak=True).audio is None


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Added 2 Oat Milks.", ["Added 2 Oat Milks."]),
        ("Done! Your order number is 1. It will be ready at 9:05 AM.", [
            "Done!", "Your order number is 1.", "It will be ready at 9:05 AM."]),
        ("Califia Farms or Oatly?", ["Califia Farms or Oatly?"]),
        ("That's 10 dollars and 35 cents with tax. Shall I place it?", [
            "That's 10 dollars and 35 cents with tax.", "Shall I place it?"]),
        ("  ", []),
    ],
)  # fmt: skip
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences
