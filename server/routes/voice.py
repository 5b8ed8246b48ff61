"""The voice and text turn API: POST /voice/turn, WS /voice/stream, POST /text/turn.

See docs/voice.md for the formats, limits and the WebSocket protocol.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from email.message import Message
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query, Request, WebSocket

from orders.tables import Channel
from server.deps import CustomerDep
from server.routes import ERRORS
from server.routes.voice_stream import serve_stream
from server.voice_deps import VoiceDep, shopper_for
from server.voice_schemas import SESSION_ID_PATTERN, TextTurnIn, TurnOut, turn_out
from voice import audio
from voice.audio import Audio, AudioLimits
from voice.errors import AudioFormatError, AudioTooLarge
from voice.lane import Priority
from voice.turn import TurnResult

logger = logging.getLogger(__name__)

router = APIRouter(tags=["voice"], responses=ERRORS)

RAW_TYPES = frozenset({"audio/pcm", "audio/l16"})
"""Headerless 16-bit PCM: audio/pcm is little-endian, audio/L16 (RFC 2586) big-endian."""
FILE_TYPES = frozenset(
    {
        *("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"),
        *("audio/flac", "audio/x-flac", "audio/ogg", "audio/opus", "application/ogg"),
        "application/octet-stream",
    }
)
ACCEPTED = (
    "audio/wav, audio/flac, audio/ogg (Opus or Vorbis), or raw 16-bit PCM as "
    "audio/pcm;rate=16000 (little-endian) or audio/L16;rate=16000 (big-endian), "
    "with ;channels=N when not mono"
)
VOICE_ERRORS: dict[int | str, dict[str, object]] = {
    413: {"description": "More audio than the limit (bytes or seconds)"},
    415: {"description": "Audio that is not WAV/FLAC/OGG or PCM with a rate; says what it was"},
    429: {"description": "Too many turns for this customer; see Retry-After"},
    503: {"description": "Voice is not enabled, or a speech model is missing"},
}

SessionQuery = Annotated[
    str, Query(pattern=SESSION_ID_PATTERN, description="the client's conversation id")
]


@router.post("/voice/turn", responses=VOICE_ERRORS)
async def voice_turn(
    request: Request,
    voice: VoiceDep,
    caller: CustomerDep,
    session_id: SessionQuery,
    reply_audio: Annotated[
        Literal["base64", "none"], Query(alias="audio", description="include the spoken reply")
    ] = "base64",
) -> TurnOut:
    """One spoken turn: the body is the audio; the reply says what was heard and answered."""
    voice.limiter.check(caller.id)
    body = await read_body(request, max_bytes=voice.config.max_bytes)
    content_type = request.headers.get("content-type", "")
    clip = await asyncio.to_thread(decode_body, body, content_type, limits=voice.config.limits)
    pipeline = voice.pipeline
    shopper = shopper_for(caller.id, session_id, Channel.APP)
    listener = await asyncio.to_thread(pipeline.listener, shopper)
    job = voice.lane.submit(lambda: pipeline.hear(clip.pcm, listener), priority=Priority.FINAL)
    understanding = await job.future
    result = await asyncio.to_thread(pipeline.respond, shopper, understanding=understanding)
    result = replace(result, timings={**understanding.timings, **result.timings})
    result = await _spoken(voice, result, speak=reply_audio == "base64")
    logger.info("voice turn of %.1f s audio (%s)", clip.duration, clip.source)
    return turn_out(session_id, result)


@router.post("/text/turn", responses=VOICE_ERRORS)
async def text_turn(body: TextTurnIn, voice: VoiceDep, caller: CustomerDep) -> TurnOut:
    """One typed turn through the same dialogue as the voice turns."""
    voice.limiter.check(caller.id)
    shopper = shopper_for(caller.id, body.session_id, Channel.TEXT)
    result = await asyncio.to_thread(voice.pipeline.respond, shopper, text=body.text)
    result = await _spoken(voice, result, speak=body.speak)
    return turn_out(body.session_id, result)


@router.websocket("/voice/stream")
async def voice_stream(websocket: WebSocket) -> None:
    """Streamed voice turns; the protocol is in docs/voice.md."""
    await serve_stream(websocket)


async def _spoken(voice: VoiceDep, result: TurnResult, *, speak: bool) -> TurnResult:
    if not speak:
        return result
    started = time.perf_counter()
    wav = await asyncio.to_thread(voice.pipeline.speak, result.reply.speech)
    timings = {**result.timings, "tts": time.perf_counter() - started}
    return replace(result, timings=timings, audio=wav)


async def read_body(request: Request, *, max_bytes: int) -> bytes:
    """The request body, refused (413) as soon as it passes `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise AudioTooLarge(f"request body: {declared} bytes is over the limit of {max_bytes}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise AudioTooLarge(f"request body: over the limit of {max_bytes} bytes")
    return bytes(body)


def decode_body(data: bytes, content_type: str, *, limits: AudioLimits) -> Audio:
    """Decode a request body by its Content-Type (none: sniff the container)."""
    media, params = parse_content_type(content_type)
    name = "request body"
    if media in RAW_TYPES:
        rate = params.get("rate", "")
        if not rate.isdigit():
            raise AudioFormatError(
                f"{name}: {media} needs the sample rate, e.g. Content-Type: {media};rate=16000"
            )
        channels = params.get("channels", "1")
        if not channels.isdigit():
            raise AudioFormatError(f"{name}: channels={channels!r} is not a number")
        if media == "audio/l16":
            data = swap_bytes(data)
        return audio.from_raw(
            data, sample_rate=int(rate), channels=int(channels), name=name, limits=limits
        )
    if media and media not in FILE_TYPES:
        raise AudioFormatError(f"{name}: Content-Type {media} is not supported; send {ACCEPTED}")
    return audio.decode(data, name=name, limits=limits)


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """("audio/pcm", {"rate": "16000"}) from "audio/PCM; rate=16000"; ("", {}) when absent."""
    if not value.strip():
        return "", {}
    message = Message()
    message["content-type"] = value
    params = message.get_params() or []
    media = params[0][0].lower() if params else ""
    return media, {key.lower(): str(val) for key, val in params[1:]}


def swap_bytes(data: bytes) -> bytes:
    """Big-endian 16-bit samples to little-endian (odd lengths are left for from_raw to refuse)."""
    if len(data) % 2:
        return data
    return np.frombuffer(data, dtype=">i2").astype("<i2").tobytes()
