"""The voice API's shared objects (pipeline, STT lane, limits) and how a request reaches them.

`install_voice` puts a VoiceServices on the app, given a loaded transcriber and speaker (tests
pass theirs). `enable_voice` loads them from VoiceSettings (VOICECART_* variables) and calls
it; the uvicorn app factory does that once per worker process. Without either, the voice
routes answer 503 and say why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog.errors import VoiceCartError
from orders.tables import Channel
from server.deps import Services
from server.ratelimit import RateLimited, RateLimiter, StreamSlots
from voice import understand
from voice.audio import AudioLimits
from voice.endpoint import EndpointConfig
from voice.lane import Lane
from voice.stream import StreamConfig
from voice.stt import Engine, Transcriber
from voice.tts import Pyttsx3Speaker, Speaker, TtsError
from voice.turn import Pipeline, Shopper

logger = logging.getLogger(__name__)


class VoiceOff(VoiceCartError):  # noqa: N818 (named for the state, as the other errors)
    """The server runs without speech engines; the detail says why."""

    status_code = 503

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(
            f"voice is not enabled on this server: {reason}"
            if reason
            else "voice is not enabled on this server (VOICECART_VOICE=false)"
        )


class VoiceSettings(BaseSettings):
    """Speech settings of the server process; every field reads VOICECART_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="VOICECART_", extra="ignore")

    voice: bool = Field(default=True, description="serve the voice API (loads speech models)")
    stt_engine: Engine = Field(default=Engine.AUTO, description="auto, whisper or vosk")
    models_dir: Path = Field(default=Path("models"), description="folder of speech models")
    stt_threads: int | None = Field(default=None, ge=1, le=64, description="whisper threads")
    tts: bool = Field(default=True, description="speak replies (espeak-ng through pyttsx3)")
    tts_voice: str | None = Field(default=None, description="espeak-ng voice id")
    voice_max_seconds: float = Field(default=30.0, gt=0, le=120)
    voice_turns_per_minute: float = Field(default=30.0, gt=0)
    voice_streams_per_customer: int = Field(default=3, ge=1)

    def config(self) -> VoiceConfig:
        """The limits these settings ask for."""
        return VoiceConfig(
            max_seconds=self.voice_max_seconds,
            turns_per_minute=self.voice_turns_per_minute,
            streams_per_customer=self.voice_streams_per_customer,
            endpoint=EndpointConfig(max_speech_ms=int(self.voice_max_seconds * 1000)),
        )


@dataclass(frozen=True)
class VoiceConfig:
    """Limits and timings of the voice API."""

    max_seconds: float = 30.0
    """Longest utterance accepted (POST) or kept (stream: the endpointer cuts it there)."""
    max_bytes: int = 16 * 1024 * 1024
    """Largest POST body (30 s of 48 kHz stereo float WAV is 11.5 MB)."""
    max_frame_bytes: int = 64 * 1024
    """Largest WebSocket audio message (2 s of 16 kHz PCM)."""
    turns_per_minute: float = 30.0
    turn_burst: int = 10
    streams_per_customer: int = 3
    auth_timeout: float = 10.0
    stt_workers: int = 1
    """Threads decoding speech at once; one keeps both cores on the decode that matters."""
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)

    @property
    def limits(self) -> AudioLimits:
        """The decoder's limits."""
        return AudioLimits(max_seconds=self.max_seconds, max_bytes=self.max_bytes)


@dataclass
class VoiceServices:
    """What the voice routes share within one process."""

    pipeline: Pipeline
    lane: Lane
    limiter: RateLimiter
    slots: StreamSlots
    config: VoiceConfig


def install_voice(
    app: FastAPI,
    *,
    transcriber: Transcriber,
    speaker: Speaker | None,
    config: VoiceConfig | None = None,
) -> VoiceServices:
    """Enable the voice routes on an app made by create_app (one transcriber per process)."""
    config = config or VoiceConfig()
    services: Services = app.state.services
    pipeline = Pipeline(
        transcriber=transcriber,
        speaker=speaker,
        sessions=services.sessions,
        catalogs=services.catalogs,
        clock=services.clock,
    )
    voice = VoiceServices(
        pipeline=pipeline,
        lane=Lane(workers=config.stt_workers),
        limiter=RateLimiter(per_minute=config.turns_per_minute, burst=config.turn_burst),
        slots=StreamSlots(per_key=config.streams_per_customer),
        config=config,
    )
    app.state.voice = voice
    app.add_exception_handler(RateLimited, _rate_limited)  # type: ignore[arg-type]
    return voice


def enable_voice(app: FastAPI, settings: VoiceSettings | None = None) -> VoiceServices | None:
    """Load the speech engines and install the voice API; None (and a warning) when they
    cannot load, so the rest of the API still serves and the voice routes say why."""
    settings = settings or VoiceSettings()
    if not settings.voice:
        return None
    try:
        transcriber = load_transcriber(settings)
    except VoiceCartError as error:
        logger.warning("voice disabled: %s", error.detail)
        app.state.voice_off = error.detail
        return None
    speaker = None
    if settings.tts:
        try:
            speaker = Pyttsx3Speaker(voice=settings.tts_voice)
            speaker.start()
        except TtsError as error:
            logger.warning("replies will not be spoken: %s", error.detail)
            speaker = None
    return install_voice(app, transcriber=transcriber, speaker=speaker, config=settings.config())


def load_transcriber(settings: VoiceSettings) -> Transcriber:
    """The speech engine the settings choose (voice.understand.load_transcriber)."""
    return understand.load_transcriber(
        settings.stt_engine.value, models_dir=settings.models_dir, threads=settings.stt_threads
    )


def voice_of(app: FastAPI) -> VoiceServices:
    """The app's voice services; VoiceOff (saying why) when voice is not installed."""
    voice: VoiceServices | None = getattr(app.state, "voice", None)
    if voice is None:
        raise VoiceOff(getattr(app.state, "voice_off", None))
    return voice


async def get_voice(request: Request) -> VoiceServices:
    """The voice services of the request's app; async, so no thread hop."""
    return voice_of(request.app)


VoiceDep = Annotated[VoiceServices, Depends(get_voice)]


def shopper_for(caller_id: int, session_id: str, channel: Channel) -> Shopper:
    """The dialogue session of a customer's client session.

    The id is namespaced by customer so that one customer's client can never open (and
    reset) another customer's conversation by guessing its id; typed and spoken turns with
    the same client session id share one conversation.
    """
    return Shopper(customer_id=caller_id, session_id=f"c{caller_id}:{session_id}", channel=channel)


async def _rate_limited(_: Request, error: RateLimited) -> JSONResponse:
    return JSONResponse(
        {"error": "RateLimited", "detail": error.detail},
        status_code=429,
        headers={"Retry-After": str(max(1, round(error.retry_after + 0.5)))},
    )
