"""WS /v1/voice/stream: many spoken (or typed) turns over one socket; see docs/voice.md.

The receive loop only buffers audio and runs the endpointer, so it never falls behind the
microphone; decoding runs in the shared STT lane and each finished utterance is answered by
one worker task per socket, in order.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NoReturn

from fastapi import WebSocket, WebSocketDisconnect
from fastapi.security.utils import get_authorization_scheme_param
from starlette.websockets import WebSocketState
from uvicorn.protocols.utils import ClientDisconnected

from catalog.errors import VoiceCartError
from orders.errors import NotAuthenticated
from orders.tables import Channel
from server.callers import Caller
from server.deps import known_caller
from server.ratelimit import RateLimited
from server.voice_deps import VoiceServices, shopper_for
from server.voice_schemas import SESSION_ID_PATTERN, milliseconds, reply_event, transcript_event
from voice.audio import SAMPLE_RATE
from voice.endpoint import EndpointEvent, EventKind
from voice.stream import BYTES_PER_MS, Utterance
from voice.turn import Listener, split_sentences

logger = logging.getLogger(__name__)

CLOSE_PROTOCOL = 4400
CLOSE_AUTH = 4401
CLOSE_LIMIT = 4429
CLOSE_OFF = 4503
CLOSE_TOO_BIG = 1009
_SESSION_ID = re.compile(SESSION_ID_PATTERN)


class StreamClosed(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """The socket is finished (closed by us after a fatal error)."""


@dataclass
class _Turn:
    id: int
    ended_at: float
    utterance: Utterance | None = None
    text: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class Mode(StrEnum):
    """How utterances end: by silence (hands-free), or only when the client says so."""

    HANDS_FREE = "hands_free"
    PUSH_TO_TALK = "push_to_talk"


@dataclass(frozen=True)
class _Start:
    caller: Caller
    session_id: str
    mode: Mode


async def serve_stream(websocket: WebSocket) -> None:
    """Accept, authenticate from the first message, then converse until the client leaves."""
    await websocket.accept()
    voice: VoiceServices | None = getattr(websocket.app.state, "voice", None)
    if voice is None:
        await _refuse(websocket, CLOSE_OFF, "VoiceOff", "voice is not enabled on this server")
        return
    try:
        text = await asyncio.wait_for(websocket.receive_text(), voice.config.auth_timeout)
        start = await _start(websocket, text)
    except TimeoutError:
        await _refuse(websocket, CLOSE_AUTH, "NotAuthenticated", "no start message in time")
        return
    except (WebSocketDisconnect, StreamClosed):
        return
    try:
        with voice.slots.hold(start.caller.id):
            await Conversation(websocket, voice, start).run()
    except RateLimited as error:
        await _refuse(websocket, CLOSE_LIMIT, "RateLimited", error.detail)


async def _start(websocket: WebSocket, text: str) -> _Start:
    """Read the start message: session id, mode, and the caller (token there or in a header)."""
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        message = None
    if not isinstance(message, dict) or message.get("type") != "start":
        await _bad(websocket, 'the first message must be {"type": "start", ...}')
    session_id = str(message.get("session_id", ""))
    if not _SESSION_ID.match(session_id):
        await _bad(websocket, f"session_id must match {SESSION_ID_PATTERN}")
    try:
        mode = Mode(message.get("mode", Mode.HANDS_FREE.value))
    except ValueError:
        await _bad(websocket, f"mode must be one of {', '.join(m.value for m in Mode)}")
    scheme, header_token = get_authorization_scheme_param(websocket.headers.get("authorization"))
    token = str(message.get("token") or (header_token if scheme.lower() == "bearer" else ""))
    services = websocket.app.state.services
    caller = await known_caller(services, token) if token else None
    if caller is None:
        detail = NotAuthenticated().detail if not token else "the token is not valid"
        await _refuse(websocket, CLOSE_AUTH, "NotAuthenticated", detail)
        raise StreamClosed
    return _Start(caller, session_id, mode)


async def _bad(websocket: WebSocket, detail: str) -> NoReturn:
    await _refuse(websocket, CLOSE_PROTOCOL, "BadMessage", detail)
    raise StreamClosed


async def _refuse(websocket: WebSocket, code: int, error: str, detail: str) -> None:
    try:
        await websocket.send_json(
            {"type": "error", "error": error, "detail": detail, "fatal": True}
        )
        await websocket.close(code=code, reason=error)
    except (WebSocketDisconnect, RuntimeError):
        pass


class Conversation:
    """One socket: audio in, events and reply audio out, turns answered in order."""

    def __init__(self, websocket: WebSocket, voice: VoiceServices, start: _Start) -> None:
        self.websocket = websocket
        self.voice = voice
        self.caller = start.caller
        self.session_id = start.session_id
        self.mode = start.mode
        self.shopper = shopper_for(start.caller.id, start.session_id, Channel.APP)
        self.received = 0
        self._ids = itertools.count(1)
        self._endpoint = replace(
            voice.config.endpoint, end_on_silence=start.mode is Mode.HANDS_FREE
        )
        self._listener: Listener | None = None
        self._queue: asyncio.Queue[_Turn | None] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._utterance_id: int | None = None
        self._utterance: Utterance | None = None

    async def run(self) -> None:
        """Converse until the client disconnects."""
        self._listener = await asyncio.to_thread(self.voice.pipeline.listener, self.shopper)
        self._new_utterance()
        await self.send(
            {
                "type": "ready",
                "session_id": self.session_id,
                "mode": self.mode.value,
                "customer": {"id": self.caller.id, "name": self.caller.name},
                "sample_rate": SAMPLE_RATE,
                "encoding": "pcm_s16le",
                "max_utterance_s": self.voice.config.max_seconds,
                "max_frame_bytes": self.voice.config.max_frame_bytes,
            }
        )
        worker = asyncio.create_task(self._work())
        try:
            await self._receive()
        except (WebSocketDisconnect, StreamClosed):
            pass
        finally:
            if self._utterance is not None:
                self._utterance.cancel()
            worker.cancel()
            logger.info("voice stream closed after %d bytes", self.received)

    async def send(self, event: dict[str, Any]) -> None:
        """Send one JSON event (sends from several tasks are serialised)."""
        async with self._send_lock:
            await self.websocket.send_json(event)

    async def _receive(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await self._audio(message["bytes"])
            elif message.get("text") is not None:
                await self._command(message["text"])

    async def _audio(self, data: bytes) -> None:
        config = self.voice.config
        if len(data) > config.max_frame_bytes:
            await _refuse(
                self.websocket,
                CLOSE_TOO_BIG,
                "FrameTooLarge",
                f"an audio message of {len(data)} bytes is over {config.max_frame_bytes}",
            )
            raise StreamClosed
        if len(data) % 2:
            await self._error(None, "AudioFormatError", "PCM frames must be whole 16-bit samples")
            return
        self.received += len(data)
        pcm = data
        while pcm:
            utterance = self._current()
            events, pcm = utterance.feed(pcm)
            for event in events:
                await self._announce(event)
            if utterance.endpoint is not None:
                await self._submit_utterance()

    async def _command(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "end":
            await self._announce(self._current().end())
            await self._submit_utterance()
        elif kind == "cancel":
            self._current().cancel()
            await self.send({"type": "cancelled", "turn": self._turn_id()})
            self._new_utterance()
        elif kind == "text" and isinstance(message, dict) and str(message.get("text", "")).strip():
            turn = _Turn(next(self._ids), time.perf_counter(), text=str(message["text"])[:1000])
            self._queue.put_nowait(turn)
        elif kind == "ping":
            await self.send({"type": "pong", "received_bytes": self.received})
        else:
            await self._error(
                None, "BadMessage", f"unknown message {text[:80]!r}; see docs/voice.md"
            )

    def _current(self) -> Utterance:
        if self._utterance is None:
            self._new_utterance()
        assert self._utterance is not None
        return self._utterance

    def _turn_id(self) -> int:
        """The open utterance's turn number, given when it is first needed, so that turns are
        numbered in the order they happen (a typed turn may come while nobody speaks)."""
        if self._utterance_id is None:
            self._utterance_id = next(self._ids)
        return self._utterance_id

    def _new_utterance(self) -> None:
        self._utterance_id = None

        async def partial(text: str) -> None:
            await self.send({"type": "partial", "turn": self._turn_id(), "text": text})

        floor = self._utterance.floor_dbfs if self._utterance is not None else None
        listener = self._listener
        assert listener is not None, "run() loads the listener before the first utterance"
        self._utterance = Utterance(
            lane=self.voice.lane,
            understander=listener.understander,
            history=listener.history,
            endpoint=self._endpoint,
            floor_dbfs=floor,
            on_partial=partial,
            config=self.voice.config.stream,
        )

    async def _announce(self, event: EndpointEvent) -> None:
        if event.kind is EventKind.SPEECH_START:
            await self.send({"type": "speech_start", "turn": self._turn_id(), "at_ms": event.at_ms})
        elif event.kind is EventKind.ENDPOINT:
            utterance = self._current()
            await self.send(
                {
                    "type": "endpoint",
                    "turn": self._turn_id(),
                    "reason": event.reason.value if event.reason else None,
                    "at_ms": event.at_ms,
                    "audio_ms": utterance.stats.bytes_in // BYTES_PER_MS,
                    "received_bytes": self.received,
                    "speech": utterance.heard_speech,
                }
            )

    async def _submit_utterance(self) -> None:
        utterance = self._current()
        turn = _Turn(self._turn_id(), time.perf_counter(), utterance=utterance)
        self._queue.put_nowait(turn)
        self._new_utterance()

    async def _work(self) -> None:
        while True:
            turn = await self._queue.get()
            if turn is None:
                return
            try:
                await self._answer(turn)
            except VoiceCartError as error:
                if turn.utterance is not None:
                    turn.utterance.cancel()
                await self._error(turn.id, type(error).__name__, error.detail, error)
            except (WebSocketDisconnect, ClientDisconnected):
                return
            except Exception:
                # One bad turn must not silence the socket: log it, say so, take the next.
                if self.websocket.application_state is WebSocketState.DISCONNECTED:
                    return
                logger.exception("voice turn %s failed", turn.id)
                if turn.utterance is not None:
                    turn.utterance.cancel()
                await self._error(turn.id, "InternalError", "internal error; see the server log")

    async def _answer(self, turn: _Turn) -> None:
        self.voice.limiter.check(self.caller.id)
        pipeline = self.voice.pipeline
        if turn.utterance is not None:
            heard = await turn.utterance.understanding()
            turn.timings["stt_finish"] = time.perf_counter() - turn.ended_at
            await self.send(transcript_event(turn.id, heard, turn.utterance.stats))
            result = await asyncio.to_thread(pipeline.respond, self.shopper, understanding=heard)
        else:
            result = await asyncio.to_thread(pipeline.respond, self.shopper, text=turn.text)
        turn.timings.update(result.timings)
        await self.send(reply_event(turn.id, result))
        await self._speak(turn, result.reply.speech)
        self._listener = await asyncio.to_thread(pipeline.listener, self.shopper)

    async def _speak(self, turn: _Turn, speech: str) -> None:
        speaker = self.voice.pipeline.speaker
        sentences = split_sentences(speech) if speaker is not None else []
        sent = 0
        for index, sentence in enumerate(sentences):
            started = time.perf_counter()
            assert speaker is not None
            wav = await asyncio.to_thread(speaker.synthesize, sentence)
            turn.timings[f"tts_{index}"] = time.perf_counter() - started
            if index == 0:
                await self.send(
                    {
                        "type": "audio_start",
                        "turn": turn.id,
                        "format": "wav",
                        "parts": len(sentences),
                    }
                )
            async with self._send_lock:
                await self.websocket.send_bytes(wav)
            if index == 0:
                turn.timings["first_audio"] = time.perf_counter() - turn.ended_at
            sent += len(wav)
        turn.timings["total"] = time.perf_counter() - turn.ended_at
        await self.send(
            {
                "type": "audio_end",
                "turn": turn.id,
                "parts": len(sentences),
                "bytes": sent,
                "timings_ms": milliseconds(turn.timings),
            }
        )

    async def _error(
        self, turn: int | None, name: str, detail: str, error: VoiceCartError | None = None
    ) -> None:
        event: dict[str, Any] = {"type": "error", "turn": turn, "error": name, "detail": detail}
        if isinstance(error, RateLimited):
            event["retry_after"] = round(error.retry_after, 1)
        await self.send(event)
