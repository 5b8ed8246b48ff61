"""JSON shapes of the voice and text turn API (HTTP replies and WebSocket events)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from voice.stream import BYTES_PER_MS, UtteranceStats
from voice.turn import TurnResult, wav_info
from voice.understand import Understanding

SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,100}$"


class _FromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OptionOut(_FromAttributes):
    """A chosen option: the choice id and how much of it."""

    choice: str
    amount: str


class ItemOut(_FromAttributes):
    """One requested item as parsed (product None when nothing matched)."""

    product_id: str | None
    quantity: float
    unit: str | None
    options: dict[str, OptionOut]
    alternatives: list[str]
    ambiguous: bool
    spoken: str
    note: str | None = None
    """A special request the options cannot say ("no lid")."""


class RequestOut(_FromAttributes):
    """What the turn asked for (catalog.request.Request)."""

    intent: str
    text: str
    items: list[ItemOut]
    unmatched: list[str]
    reorder: str | None
    store_query: str | None
    time_query: str | None
    fulfilment: str | None
    note: str | None = None
    """A special request said on its own ("and no lid"), for the last line..."""
    note_for: ItemOut | None = None
    """... or for the item it names ("no lid on the latte")."""


class LineOut(_FromAttributes):
    """A cart or order line; money in cents."""

    line_id: int
    product_id: str
    name: str
    options: list[str]
    quantity: int
    unit_price: int | None
    line_total: int
    problem: str | None
    note: str | None = None
    """The shopper's special request for the line ("no lid")."""


class CartSummaryOut(_FromAttributes):
    """The cart after the turn; money in cents."""

    lines: list[LineOut]
    subtotal: int
    tax: int
    total: int
    currency: str
    store_id: str | None


class OrderSummaryOut(_FromAttributes):
    """The order the turn placed or reported on."""

    order_id: int
    status: str
    total: int
    currency: str
    store_id: str
    store_name: str
    promised_at: datetime | None
    requested_at: datetime | None


class ReplyOut(_FromAttributes):
    """What to say and show; `kind` is machine-readable (orders.dialog_reply.ReplyKind)."""

    speech: str
    display: str
    kind: str
    expects_answer: bool
    end_session: bool


class TranscriptOut(_FromAttributes):
    """What speech-to-text heard."""

    text: str
    confidence: float
    no_speech: bool
    seconds: float
    engine: str


class AudioOut(BaseModel):
    """The spoken reply: a WAV file, base64-encoded."""

    format: str = "wav"
    sample_rate: int
    seconds: float
    base64: str


class TurnOut(BaseModel):
    """One answered turn."""

    session_id: str
    transcript: TranscriptOut | None = Field(description="null for typed turns")
    heard: str = Field(description="the text the request was read from")
    request: RequestOut | None = Field(description="null when nothing usable was said")
    reply: ReplyOut
    cart: CartSummaryOut | None
    order: OrderSummaryOut | None
    audio: AudioOut | None = Field(description="null when audio=none or no speaker runs")
    timings_ms: dict[str, float]


class TextTurnIn(BaseModel):
    """A typed turn."""

    text: str = Field(min_length=1, max_length=1000)
    session_id: str = Field(pattern=SESSION_ID_PATTERN)
    speak: bool = Field(default=False, description="also return the spoken reply as audio")


def audio_out(wav: bytes | None) -> AudioOut | None:
    """A WAV as the JSON audio field."""
    if wav is None:
        return None
    rate, seconds = wav_info(wav)
    return AudioOut(
        sample_rate=rate, seconds=round(seconds, 3), base64=base64.b64encode(wav).decode()
    )


def turn_out(session_id: str, result: TurnResult) -> TurnOut:
    """A turn's result as JSON."""
    reply = result.reply
    return TurnOut(
        session_id=session_id,
        transcript=TranscriptOut.model_validate(result.transcript) if result.transcript else None,
        heard=result.heard,
        request=RequestOut.model_validate(result.request) if result.request else None,
        reply=ReplyOut.model_validate(reply),
        cart=CartSummaryOut.model_validate(reply.cart) if reply.cart else None,
        order=OrderSummaryOut.model_validate(reply.order) if reply.order else None,
        audio=audio_out(result.audio),
        timings_ms=milliseconds(result.timings),
    )


def milliseconds(timings: Mapping[str, float]) -> dict[str, float]:
    """Timings in seconds as rounded milliseconds."""
    return {name: round(seconds * 1000, 1) for name, seconds in timings.items()}


def transcript_event(turn: int, heard: Understanding, stats: UtteranceStats) -> dict[str, Any]:
    """The WebSocket "transcript" event of a streamed utterance."""
    return {
        "type": "transcript",
        "turn": turn,
        "text": heard.transcript.text,
        "heard": heard.chosen,
        "confidence": round(heard.transcript.confidence, 3),
        "no_speech": heard.transcript.no_speech,
        "audio_ms": stats.bytes_in // BYTES_PER_MS,
        "decoded_ms": stats.bytes_kept // BYTES_PER_MS,
        "early_decode": stats.speculation_used,
        "timings_ms": milliseconds(
            {"stt_finish": stats.final_wait_seconds, "finish": stats.finish_seconds}
        ),
    }


def reply_event(turn: int, result: TurnResult) -> dict[str, Any]:
    """The WebSocket "reply" event: what was heard, the request, the reply, cart and order."""
    reply = result.reply
    return {
        "type": "reply",
        "turn": turn,
        "heard": result.heard,
        "request": _dump(RequestOut, result.request),
        "reply": _dump(ReplyOut, reply),
        "cart": _dump(CartSummaryOut, reply.cart),
        "order": _dump(OrderSummaryOut, reply.order),
    }


def _dump(model: type[BaseModel], value: object | None) -> dict[str, Any] | None:
    return None if value is None else model.model_validate(value).model_dump(mode="json")
