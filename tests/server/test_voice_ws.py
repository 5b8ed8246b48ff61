"""WS /v1/voice/stream: real PCM frames in, events and reply audio out, many turns per socket."""

from __future__ import annotations

import io
import json
import wave
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.server.conftest import Shopper
from tests.server.voice_fixtures import (
    pcm_of,
    silence,
    strict_limits,
    voice_app,
    voice_client,
    voice_config,
)
from tests.voice.conftest import normalise

__all__ = ["voice_app", "voice_client", "voice_config"]

pytestmark = pytest.mark.slow

FRAME = 640
"""20 ms of 16 kHz 16-bit mono, the frame the /app page sends."""


def start(ws: WebSocketTestSession, shopper: Shopper, **extra: object) -> dict[str, Any]:
    """Send the start message; the ready event."""
    ws.send_json({"type": "start", "token": shopper.token, "session_id": "ws-1", **extra})
    ready: dict[str, Any] = ws.receive_json()
    assert ready["type"] == "ready", ready
    return ready


def send_pcm(ws: WebSocketTestSession, pcm: bytes) -> int:
    """Send PCM in 20 ms frames; the bytes sent."""
    for offset in range(0, len(pcm), FRAME):
        ws.send_bytes(pcm[offset : offset + FRAME])
    return len(pcm)


def until_audio_end(ws: WebSocketTestSession) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Every event and binary frame up to (and with) audio_end."""
    events: list[dict[str, Any]] = []
    frames: list[bytes] = []
    while True:
        message = ws.receive()
        if message.get("bytes") is not None:
            frames.append(message["bytes"])
            continue
        event = json.loads(message["text"])
        events.append(event)
        if event["type"] in ("audio_end", "error"):
            return events, frames


def of_type(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The one event of a type."""
    found = [e for e in events if e["type"] == kind]
    assert len(found) == 1, (kind, [e["type"] for e in events])
    return found[0]


def test_hands_free_turn_from_frames_to_reply_audio(voice_client: TestClient, bob: Shopper) -> None:
    speech = pcm_of("two_oat_milks.wav")
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        ready = start(ws, bob)
        assert ready["mode"] == "hands_free"
        assert ready["sample_rate"] == 16000
        assert ready["customer"]["name"] == "Bob"
        sent = send_pcm(ws, speech + silence(1200))
        events, frames = until_audio_end(ws)
    types = [e["type"] for e in events if e["type"] != "partial"]
    assert types == [
        "speech_start",
        "endpoint",
        "transcript",
        "reply",
        "audio_start",
        "audio_end",
    ]
    endpoint = of_type(events, "endpoint")
    assert endpoint["reason"] == "silence"
    assert endpoint["speech"] is True
    assert endpoint["received_bytes"] <= sent
    assert endpoint["audio_ms"] * 32 <= endpoint["received_bytes"]
    transcript = of_type(events, "transcript")
    assert "oat" in normalise(transcript["text"])
    reply = of_type(events, "reply")
    assert reply["request"]["intent"] == "add_items"
    assert reply["reply"]["kind"] == "added"
    assert [(line["product_id"], line["quantity"]) for line in reply["cart"]["lines"]] == [
        ("oat-milk", 2)
    ]
    audio_end = of_type(events, "audio_end")
    assert audio_end["parts"] == len(frames) >= 1
    assert audio_end["bytes"] == sum(len(f) for f in frames)
    for frame in frames:
        with wave.open(io.BytesIO(frame)) as reader:
            assert reader.getnframes() > 0
    assert {"stt_finish", "dialog", "first_audio"} <= set(audio_end["timings_ms"])
    assert {e["turn"] for e in events} == {1}


def test_push_to_talk_waits_for_end(voice_client: TestClient, bob: Shopper) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        assert start(ws, bob, mode="push_to_talk")["mode"] == "push_to_talk"
        send_pcm(ws, pcm_of("two_oat_milks.wav") + silence(2000))
        ws.send_json({"type": "end"})
        events, frames = until_audio_end(ws)
    endpoint = of_type(events, "endpoint")
    assert endpoint["reason"] == "end"
    assert endpoint["audio_ms"] == pytest.approx(
        len(pcm_of("two_oat_milks.wav")) / 32 + 2000, abs=20
    )
    assert of_type(events, "transcript")["early_decode"] is True
    assert of_type(events, "reply")["reply"]["kind"] == "added"
    assert frames


def test_one_socket_carries_many_turns(voice_client: TestClient, bob: Shopper) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        start(ws, bob)
        send_pcm(ws, pcm_of("two_oat_milks.wav") + silence(1000))
        first, _ = until_audio_end(ws)
        ws.send_json({"type": "text", "text": "what's in my cart"})
        second, second_audio = until_audio_end(ws)
        send_pcm(ws, pcm_of("reorder_paper_towels.wav") + silence(1000))
        third, _ = until_audio_end(ws)
    assert of_type(first, "reply")["reply"]["kind"] == "added"
    typed = of_type(second, "reply")
    assert typed["reply"]["kind"] == "cart"
    assert typed["heard"] == "what's in my cart"
    assert second_audio
    assert [e["type"] for e in second if e["type"] == "transcript"] == []
    assert of_type(third, "reply")["request"]["intent"] == "reorder"
    turns = [of_type(events, "reply")["turn"] for events in (first, second, third)]
    assert turns == sorted(set(turns))


def test_two_utterances_in_one_send_are_two_turns(voice_client: TestClient, bob: Shopper) -> None:
    """Audio after an endpoint starts the next utterance: nothing is dropped between turns."""
    speech = pcm_of("two_oat_milks.wav") + silence(1000)
    both = speech + speech
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        start(ws, bob)
        for offset in range(0, len(both), 30_002):  # messages that straddle the endpoint
            ws.send_bytes(both[offset : offset + 30_002])
        first, _ = until_audio_end(ws)
        second, _ = until_audio_end(ws)
    events = first + second
    ends = [e for e in events if e["type"] == "endpoint"]
    assert [e["turn"] for e in ends] == [1, 2]
    assert ends[1]["received_bytes"] <= len(both)
    # The second utterance starts where the first ended, so it ends as far into the second
    # copy as the first ended into the first (give or take the 20 ms frame): no message was
    # lost or counted twice (one would be 940 ms).
    assert ends[0]["audio_ms"] == ends[0]["at_ms"]
    assert ends[1]["at_ms"] == ends[1]["audio_ms"]
    end_of_second = ends[0]["at_ms"] + ends[1]["at_ms"]
    assert abs(end_of_second - (len(speech) // 32 + ends[0]["at_ms"])) <= 20
    replies = [e for e in events if e["type"] == "reply"]
    assert [(r["turn"], r["reply"]["kind"]) for r in replies] == [(1, "added"), (2, "added")]
    assert replies[1]["cart"]["lines"][0]["quantity"] == 4


def test_silence_then_end_is_a_silent_turn(voice_client: TestClient, bob: Shopper) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        start(ws, bob, mode="push_to_talk")
        send_pcm(ws, silence(1500))
        ws.send_json({"type": "end"})
        events, _ = until_audio_end(ws)
    assert of_type(events, "endpoint")["speech"] is False
    assert of_type(events, "transcript")["no_speech"] is True
    reply = of_type(events, "reply")
    assert reply["request"] is None
    assert reply["reply"]["kind"] == "reprompt"


def test_cancel_drops_the_utterance(voice_client: TestClient, bob: Shopper) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        start(ws, bob, mode="push_to_talk")
        send_pcm(ws, pcm_of("two_oat_milks.wav"))
        ws.send_json({"type": "cancel"})
        assert [e for e in iter_until(ws, "cancelled")][-1]["type"] == "cancelled"
        ws.send_json({"type": "ping"})
        assert [e for e in iter_until(ws, "pong")][-1]["type"] == "pong"


def iter_until(ws: WebSocketTestSession, kind: str) -> list[dict[str, Any]]:
    """Events up to one of the given type."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["type"] != kind:
        seen.append(ws.receive_json())
    return seen


def test_the_token_may_come_in_a_header(voice_client: TestClient, bob: Shopper) -> None:
    with voice_client.websocket_connect("/v1/voice/stream", headers=bob.auth) as ws:
        ws.send_json({"type": "start", "session_id": "h"})
        assert ws.receive_json()["customer"]["id"] == bob.id


@pytest.mark.parametrize(
    ("first", "code", "error"),
    [
        ({"type": "start", "session_id": "x", "token": "vc_wrong"}, 4401, "NotAuthenticated"),
        ({"type": "start", "session_id": "x"}, 4401, "NotAuthenticated"),
        ({"type": "hello"}, 4400, "BadMessage"),
        ({"type": "start", "session_id": "no spaces"}, 4400, "BadMessage"),
        ({"type": "start", "session_id": "x", "mode": "shout"}, 4400, "BadMessage"),
    ],
)
def test_a_bad_start_is_refused(
    voice_client: TestClient, first: dict[str, object], code: int, error: str
) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        ws.send_json(first)
        event = ws.receive_json()
        assert event["error"] == error
        assert event["fatal"] is True
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == code


@pytest.mark.parametrize("voice_config", [strict_limits(auth_timeout=0.3)])
def test_a_silent_client_is_closed(voice_client: TestClient) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        assert ws.receive_json()["error"] == "NotAuthenticated"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_bad_frames_are_reported(voice_client: TestClient, bob: Shopper) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        start(ws, bob)
        ws.send_bytes(b"\x00\x01\x02")
        assert ws.receive_json()["error"] == "AudioFormatError"
        ws.send_text("not json")
        assert ws.receive_json()["error"] == "BadMessage"
        ws.send_bytes(bytes(70_000))
        event = ws.receive_json()
        assert event["error"] == "FrameTooLarge"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1009


@pytest.mark.parametrize("voice_config", [strict_limits(streams_per_customer=1)])
def test_open_streams_per_customer_are_capped(
    voice_client: TestClient, bob: Shopper, ada: Shopper
) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as first:
        start(first, bob)
        with voice_client.websocket_connect("/v1/voice/stream") as second:
            second.send_json({"type": "start", "token": bob.token, "session_id": "two"})
            assert second.receive_json()["error"] == "RateLimited"
            with pytest.raises(WebSocketDisconnect) as closed:
                second.receive_json()
        assert closed.value.code == 4429
        with voice_client.websocket_connect("/v1/voice/stream") as other:
            start(other, ada)
    with voice_client.websocket_connect("/v1/voice/stream") as again:
        start(again, bob)


@pytest.mark.parametrize("voice_config", [strict_limits(turns_per_minute=1, turn_burst=1)])
def test_turns_over_the_rate_limit_get_an_error_event(
    voice_client: TestClient, bob: Shopper
) -> None:
    with voice_client.websocket_connect("/v1/voice/stream") as ws:
        start(ws, bob)
        ws.send_json({"type": "text", "text": "what's in my cart"})
        allowed, _ = until_audio_end(ws)
        ws.send_json({"type": "text", "text": "what's in my cart"})
        refused, _ = until_audio_end(ws)
    assert of_type(allowed, "reply")["reply"]["kind"] == "cart_empty"
    error = of_type(refused, "error")
    assert error["error"] == "RateLimited"
    assert 50 <= error["retry_after"] <= 60
