"""POST /v1/voice/turn and POST /v1/text/turn over HTTP, with real audio, Whisper and espeak-ng."""

from __future__ import annotations

import base64
import io
import wave
from typing import Any

import numpy as np
import pytest
import soundfile
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from server.voice_deps import VoiceConfig
from tests.orders.factories import FakeClock
from tests.server.conftest import Shopper
from tests.server.voice_fixtures import (
    fixture_audio,
    silence,
    strict_limits,
    voice_app,
    voice_client,
    voice_config,
)
from tests.voice.conftest import normalise
from tests.voice.engines import espeak_speaker

__all__ = ["voice_app", "voice_client", "voice_config"]

pytestmark = pytest.mark.slow


def post_audio(
    client: TestClient,
    shopper: Shopper,
    body: bytes,
    content_type: str | None,
    *,
    session: str = "s1",
    reply_audio: str = "base64",
) -> Any:
    """POST one voice turn; the response."""
    headers = dict(shopper.auth)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post(
        f"/v1/voice/turn?session_id={session}&audio={reply_audio}", content=body, headers=headers
    )


def cart_of(body: dict[str, Any]) -> list[tuple[str, int]]:
    """(product, quantity) of the reply's cart."""
    cart = body["cart"] or {"lines": []}
    return [(line["product_id"], line["quantity"]) for line in cart["lines"]]


def test_a_wav_turn_answers_with_transcript_request_cart_and_audio(
    voice_client: TestClient, bob: Shopper
) -> None:
    wav = fixture_audio("two_oat_milks.wav").read_bytes()
    answer = post_audio(voice_client, bob, wav, "audio/wav")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["session_id"] == "s1"
    assert "oat" in normalise(body["transcript"]["text"])
    assert body["transcript"]["no_speech"] is False
    assert body["request"]["intent"] == "add_items"
    assert [(i["product_id"], i["quantity"]) for i in body["request"]["items"]] == [("oat-milk", 2)]
    assert body["reply"]["kind"] == "added"
    assert "Oat Milk" in body["reply"]["speech"]
    assert cart_of(body) == [("oat-milk", 2)]
    assert body["cart"]["total"] > body["cart"]["subtotal"] > 0
    spoken = base64.b64decode(body["audio"]["base64"])
    with wave.open(io.BytesIO(spoken)) as reader:
        assert reader.getnchannels() == 1
        assert reader.getframerate() == body["audio"]["sample_rate"]
        assert reader.getnframes() / reader.getframerate() == pytest.approx(
            body["audio"]["seconds"], abs=0.01
        )
    assert {"stt", "parse", "dialog", "tts"} <= set(body["timings_ms"])


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("two_oat_milks.flac", "audio/flac"),
        ("two_oat_milks.opus", "audio/ogg"),
        ("two_oat_milks_24bit.wav", None),
        ("two_oat_milks_s16le_8k.raw", "audio/pcm;rate=8000"),
    ],
)
def test_other_formats_are_decoded(
    voice_client: TestClient, bob: Shopper, name: str, content_type: str | None
) -> None:
    body = fixture_audio(name).read_bytes()
    answer = post_audio(voice_client, bob, body, content_type, reply_audio="none")
    assert answer.status_code == 200, answer.text
    assert "oat" in normalise(answer.json()["transcript"]["text"])
    assert answer.json()["audio"] is None


def test_big_endian_l16_is_swapped(voice_client: TestClient, bob: Shopper) -> None:
    little = fixture_audio("two_oat_milks_s16le_8k.raw").read_bytes()
    big = np.frombuffer(little, "<i2").astype(">i2").tobytes()
    answer = post_audio(voice_client, bob, big, "audio/L16; rate=8000", reply_audio="none")
    assert answer.status_code == 200, answer.text
    assert "oat" in normalise(answer.json()["transcript"]["text"])


def test_silence_is_heard_as_nothing(voice_client: TestClient, bob: Shopper) -> None:
    answer = post_audio(voice_client, bob, fixture_audio("silence.wav").read_bytes(), "audio/wav")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["transcript"]["no_speech"] is True
    assert body["request"] is None
    assert body["reply"]["kind"] == "reprompt"


@pytest.mark.parametrize(
    "case",
    [
        (b"ID3\x03\x00" + bytes(2000), "audio/mpeg", 415, "AudioFormatError", "audio/mpeg"),
        (b"ID3\x03\x00" + bytes(2000), "audio/wav", 415, "AudioFormatError", "MP3"),
        (bytes(3200), "audio/pcm", 415, "AudioFormatError", "rate=16000"),
        (bytes(3201), "audio/pcm;rate=16000", 415, "AudioFormatError", "frames"),
        (bytes(3200), "audio/pcm;rate=4000", 415, "AudioFormatError", "4000 Hz"),
        (b"", "audio/wav", 422, "AudioEmpty", "empty"),
        (b"", "audio/pcm;rate=16000", 422, "AudioEmpty", "empty"),
    ],
)
def test_bad_audio_gets_a_4xx_that_says_what_was_wrong(
    voice_client: TestClient, bob: Shopper, case: tuple[bytes, str, int, str, str]
) -> None:
    body, content_type, status, error, words = case
    answer = post_audio(voice_client, bob, body, content_type)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    assert words in answer.json()["detail"]


def test_aiff_is_refused_by_name(voice_client: TestClient, bob: Shopper) -> None:
    answer = post_audio(voice_client, bob, fixture_audio("two_oat_milks.aiff").read_bytes(), None)
    assert answer.status_code == 415
    assert "AIFF" in answer.json()["detail"]


def test_more_than_thirty_seconds_is_refused(voice_client: TestClient, bob: Shopper) -> None:
    out = io.BytesIO()
    soundfile.write(out, np.zeros(16_000 * 31, dtype=np.int16), 16_000, format="WAV")
    answer = post_audio(voice_client, bob, out.getvalue(), "audio/wav")
    assert answer.status_code == 413
    assert answer.json()["error"] == "AudioTooLarge"
    assert "31.0 s" in answer.json()["detail"]
    assert "30 s" in answer.json()["detail"]


@pytest.mark.parametrize("voice_config", [strict_limits(max_bytes=50_000)])
def test_a_body_over_the_byte_limit_is_refused(voice_client: TestClient, bob: Shopper) -> None:
    answer = post_audio(voice_client, bob, bytes(60_000), "audio/pcm;rate=16000")
    assert answer.status_code == 413
    assert "50000" in answer.json()["detail"]


def test_tokens_are_required(voice_client: TestClient) -> None:
    wav = fixture_audio("two_oat_milks.wav").read_bytes()
    missing = voice_client.post("/v1/voice/turn?session_id=s1", content=wav)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = voice_client.post(
        "/v1/voice/turn?session_id=s1",
        content=wav,
        headers={"Authorization": "Bearer vc_not-a-token"},
    )
    assert wrong.status_code == 401
    typed = voice_client.post("/v1/text/turn", json={"text": "hi", "session_id": "s1"})
    assert typed.status_code == 401


def test_the_session_id_is_checked(voice_client: TestClient, bob: Shopper) -> None:
    answer = voice_client.post("/v1/voice/turn?session_id=bad%20id", content=b"", headers=bob.auth)
    assert answer.status_code == 422
    assert answer.json()["field"] == "session_id"


def test_typed_turns_use_the_same_dialogue(voice_client: TestClient, bob: Shopper) -> None:
    def say(text: str, **extra: object) -> dict[str, Any]:
        answer = voice_client.post(
            "/v1/text/turn", json={"text": text, "session_id": "chat", **extra}, headers=bob.auth
        )
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    added = say("add three bananas")
    assert added["transcript"] is None
    assert added["heard"] == "add three bananas"
    assert added["request"]["items"][0]["product_id"] == "bananas"
    assert added["audio"] is None
    assert cart_of(added) == [("bananas", 3)]
    cart = say("what's in my cart", speak=True)
    assert cart["reply"]["kind"] == "cart"
    assert base64.b64decode(cart["audio"]["base64"]).startswith(b"RIFF")


def test_a_special_request_reaches_the_cart_line(voice_client: TestClient, bob: Shopper) -> None:
    answer = voice_client.post(
        "/v1/text/turn",
        json={"text": "add three bananas, no plastic bag", "session_id": "note"},
        headers=bob.auth,
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["request"]["items"][0]["note"] == "no plastic bag"
    [line] = result["cart"]["lines"]
    assert (line["product_id"], line["quantity"], line["note"]) == ("bananas", 3, "no plastic bag")
    assert "no plastic bag" in result["reply"]["speech"]
    assert result["request"]["note"] is None
    later = voice_client.post(
        "/v1/text/turn", json={"text": "and no sticker", "session_id": "note"}, headers=bob.auth
    ).json()
    assert later["request"]["note"] == "no sticker"
    assert later["request"]["note_for"] is None
    assert later["reply"]["kind"] == "request_noted"
    [line] = later["cart"]["lines"]
    assert line["note"] == "no plastic bag, no sticker"


def test_a_typed_question_is_answered_aloud(voice_client: TestClient, ada: Shopper) -> None:
    """Typed and spoken turns with one session id are one conversation."""
    for text, kind in (("a croissant", "added"), ("check out", "confirm_order")):
        typed = voice_client.post(
            "/v1/text/turn", json={"text": text, "session_id": "mixed"}, headers=ada.auth
        )
        assert typed.json()["reply"]["kind"] == kind
    yes = espeak_speaker().synthesize("yes please")
    spoken = post_audio(voice_client, ada, yes, "audio/wav", session="mixed", reply_audio="none")
    assert spoken.status_code == 200, spoken.text
    body = spoken.json()
    assert "yes" in normalise(body["transcript"]["text"])
    assert body["reply"]["kind"] == "placed"
    assert body["order"]["status"] == "placed"
    assert body["order"]["store_id"] == "cafe"


def test_customers_never_share_a_conversation(
    voice_client: TestClient, ada: Shopper, bob: Shopper
) -> None:
    first = voice_client.post(
        "/v1/text/turn", json={"text": "a croissant", "session_id": "same"}, headers=ada.auth
    )
    assert first.json()["reply"]["kind"] == "added"
    asked = voice_client.post(
        "/v1/text/turn", json={"text": "check out", "session_id": "same"}, headers=ada.auth
    )
    assert asked.json()["reply"]["expects_answer"] is True
    other = voice_client.post(
        "/v1/text/turn", json={"text": "yes", "session_id": "same"}, headers=bob.auth
    )
    assert other.json()["reply"]["kind"] == "nothing_pending"
    assert other.json()["order"] is None
    placed = voice_client.post(
        "/v1/text/turn", json={"text": "yes", "session_id": "same"}, headers=ada.auth
    )
    assert placed.json()["reply"]["kind"] == "placed"


@pytest.mark.parametrize("voice_config", [strict_limits(turns_per_minute=6, turn_burst=2)])
def test_each_customer_has_a_rate_limit(
    voice_client: TestClient, ada: Shopper, bob: Shopper
) -> None:
    def turn(shopper: Shopper) -> Any:
        return voice_client.post(
            "/v1/text/turn",
            json={"text": "what's in my cart", "session_id": "r"},
            headers=shopper.auth,
        )

    assert [turn(bob).status_code for _ in range(2)] == [200, 200]
    limited = turn(bob)
    assert limited.status_code == 429
    assert limited.json()["error"] == "RateLimited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 11
    pcm = silence(500)
    voice = post_audio(voice_client, bob, pcm, "audio/pcm;rate=16000")
    assert voice.status_code == 429
    assert turn(ada).status_code == 200


def test_without_voice_the_routes_say_so(database_url: str, clock: FakeClock, loaded: None) -> None:
    app: FastAPI = create_app(Settings(database_url=database_url, dispatcher=False), clock=clock)
    with TestClient(app) as client:
        answer = client.post("/v1/text/turn", json={"text": "hi", "session_id": "s"})
        assert answer.status_code == 503
        assert answer.json()["error"] == "VoiceOff"
        with client.websocket_connect("/v1/voice/stream") as ws:
            event = ws.receive_json()
            assert event["error"] == "VoiceOff"


def test_voice_config_defaults_match_the_issue() -> None:
    config = VoiceConfig()
    assert config.max_seconds == 30.0
    assert config.endpoint.max_speech_ms == 30_000
    assert config.limits.max_seconds == 30.0
