"""Labels (our YAML, the barista adapter), scoring per slot, the condition runner and reports."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile

from catalog.format import load_catalog
from catalog.model import Amount, Catalog, Choice, OptionGroup, Product, Store
from catalog.request import Intent, Item, OptionValue, Request
from voice import audio, noise
from voice.evaluation import (
    CLEAN,
    EXTRA,
    INTENT,
    PRODUCT,
    QUANTITY,
    Condition,
    Outcome,
    condition_pcm,
    evaluate,
    score,
)
from voice.labels import (
    Expected,
    ExpectedItem,
    LabelError,
    dump_labels,
    from_barista,
    load_labels,
    slot_option,
)
from voice.report import (
    condition_table,
    confusions,
    mean_accepted,
    plot,
    render,
    slot_table,
    summarise,
    worst,
)
from voice.stt import Transcript
from voice.understand import Understander
from voice.vocabulary import Vocabulary


def cafe() -> Catalog:
    """A café whose "medium" is both a size and a roast, with amounts on milk."""
    size = OptionGroup(
        "size",
        "Size",
        (Choice("small", "Small"), Choice("medium", "Medium"), Choice("12oz", "12 oz")),
    )
    roast = OptionGroup(
        "roast",
        "Roast",
        (Choice("medium", "Medium Roast", ("medium",)), Choice("dark", "Dark Roast", ("dark",))),
    )
    milk = OptionGroup(
        "milk", "Milk", (Choice("oat", "Oat Milk"), Choice("soy", "Soy Milk")), amounts=True
    )
    products = (
        Product("latte", "Latte", 450, options=("size", "roast", "milk")),
        Product("iced-mocha", "Iced Mocha", 500, options=("size", "roast", "milk")),
    )
    return Catalog(
        currency="USD",
        stores=(Store("s", "Shop"),),
        option_groups={g.id: g for g in (size, roast, milk)},
        products={p.id: p for p in products},
    )


def latte(**options: OptionValue) -> Expected:
    return Expected(Intent.ADD_ITEMS, (ExpectedItem("latte", 1, options),))


def request(product: str | None, quantity: float = 1, **options: OptionValue) -> Request:
    item = Item(product_id=product, quantity=quantity, options=options)
    return Request(Intent.ADD_ITEMS, items=(item,))


# Labels ------------------------------------------------------------------------------------


def test_yaml_labels_round_trip(tmp_path: Path) -> None:
    labels = {
        "a.wav": latte(size=OptionValue("small"), milk=OptionValue("oat", Amount.LIGHT)),
        "b.wav": Expected(Intent.CHECKOUT),
    }
    path = tmp_path / "labels.yaml"
    path.write_text(dump_labels(labels))
    assert load_labels(path, cafe()) == labels


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("labels: {a.wav: {intent: add_items, items: [{product: scone}]}}", "scone"),
        ("labels: {a.wav: {intent: dance}}", "dance"),
        (
            "labels: {a.wav: {items: [{product: latte, options: {milk: {choice: oat, "
            "amount: huge}}}]}}",
            "huge",
        ),
        ("labels: {a.wav: {items: [{product: latte, options: {milk: cow}}]}}", "cow"),
        ("[1, 2]", "labels"),
    ],
)
def test_yaml_labels_refuse_what_the_catalog_lacks(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "labels.yaml"
    path.write_text(text)
    with pytest.raises(LabelError, match=problem):
        load_labels(path, cafe())


@pytest.mark.parametrize(
    ("slot", "text", "group", "value"),
    [
        ("size", "medium", "size", OptionValue("medium")),
        ("roast", "medium roast", "roast", OptionValue("medium")),
        ("size", "twelve ounce", "size", OptionValue("12oz")),
        ("milkAmount", " soy milk", "milk", OptionValue("soy")),
        ("milkAmount", "a little bit of oat milk", "milk", OptionValue("oat", Amount.LIGHT)),
        ("milkAmount", "a bit of oat milk", "milk", OptionValue("oat", Amount.LIGHT)),
        ("milkAmount", "some soy milk", "milk", OptionValue("soy", Amount.REGULAR)),
        ("milkAmount", "lots of soy milk", "milk", OptionValue("soy", Amount.EXTRA)),
        ("milkAmount", "a lot of oat milk", "milk", OptionValue("oat", Amount.EXTRA)),
    ],
)
def test_barista_slots_map_onto_the_catalog(
    slot: str, text: str, group: str, value: OptionValue
) -> None:
    assert slot_option(slot, text, cafe()) == (group, value)


def test_barista_slot_that_is_no_option_is_refused() -> None:
    with pytest.raises(LabelError, match="not one option phrase"):
        slot_option("milkAmount", "a splash of motor oil", cafe())


def test_barista_adapter_reads_drink_and_slots() -> None:
    data = {
        "x.wav": {
            "intent": "orderDrink",
            "slots": {"coffeeDrink": "iced mocha", "size": "medium", "roast": "dark roast"},
        }
    }
    options = {"size": OptionValue("medium"), "roast": OptionValue("dark")}
    expected = Expected(Intent.ADD_ITEMS, (ExpectedItem("iced-mocha", 1, options),))
    assert from_barista(data, cafe()) == {"x.wav": expected}
    with pytest.raises(LabelError, match="intent"):
        from_barista({"x.wav": {"intent": "orderPizza", "slots": {}}}, cafe())
    with pytest.raises(LabelError, match="no product"):
        from_barista({"x.wav": {"intent": "orderDrink", "slots": {"coffeeDrink": "tea"}}}, cafe())


def test_barista_dev_labels_all_map(shared_dir: Path) -> None:
    """Every dev label maps, and the drinks and slots keep their counts."""
    root = shared_dir / "data" / "barista"
    raw = json.loads((root / "dev-labels.json").read_text())
    labels = load_labels(root / "dev-labels.json", load_catalog(root / "menu.yaml"))
    assert len(labels) == len(raw) == 188
    drinks = Counter(r["slots"]["coffeeDrink"].replace(" ", "-") for r in raw.values())
    assert Counter(e.items[0].product_id for e in labels.values()) == drinks
    slots = sum(len(r["slots"]) - 1 for r in raw.values())
    assert sum(len(e.items[0].options) for e in labels.values()) == slots
    amounts = Counter(v.amount for e in labels.values() for v in e.items[0].options.values())
    light = sum("bit of" in s for r in raw.values() for s in r["slots"].values())
    extra = sum("lot" in s for r in raw.values() for s in r["slots"].values())
    assert (amounts[Amount.LIGHT], amounts[Amount.EXTRA]) == (light, extra)


# Scoring -----------------------------------------------------------------------------------


def test_score_accepts_exact_match() -> None:
    slots, errors = score(
        latte(size=OptionValue("small")), request("latte", size=OptionValue("small"))
    )
    assert errors == []
    assert slots == {INTENT: True, PRODUCT: True, QUANTITY: True, "size": True, EXTRA: True}


def test_score_compares_amounts_and_flags_unasked_options() -> None:
    wanted = latte(milk=OptionValue("oat", Amount.LIGHT))
    slots, errors = score(wanted, request("latte", milk=OptionValue("oat")))
    assert slots["milk"] is False
    assert errors == ["milk oat/regular != oat/light"]
    slots, errors = score(
        wanted, request("latte", milk=OptionValue("oat", Amount.LIGHT), size=OptionValue("small"))
    )
    assert slots["milk"] is True
    assert slots[EXTRA] is False
    assert errors == ["unasked ['size']"]


def test_score_wrong_product_quantity_intent_and_missing_item() -> None:
    wanted = latte()
    assert score(wanted, request("iced-mocha"))[1] == ["product iced-mocha"]
    assert score(wanted, request("latte", quantity=2))[1] == ["quantity 2"]
    slots, errors = score(wanted, Request(Intent.UNKNOWN))
    assert slots[INTENT] is False
    assert slots[PRODUCT] is False
    assert errors[:2] == ["intent unknown != add_items", "0 items != 1"]


# Conditions and the runner -----------------------------------------------------------------


def tone_pcm(seconds: float = 1.0) -> bytes:
    t = np.arange(int(seconds * audio.SAMPLE_RATE)) / audio.SAMPLE_RATE
    return audio.to_int16(0.3 * np.sin(2 * np.pi * 220 * t)).tobytes()


def test_clean_condition_is_the_recording_and_noise_is_fixed_per_file() -> None:
    speech = tone_pcm()
    hiss = audio.to_int16(np.random.default_rng(1).normal(0, 0.1, 48_000)).tobytes()
    assert condition_pcm(speech, Condition(CLEAN), None, key="a.wav") == speech
    noisy = Condition.noisy(6)
    first = condition_pcm(speech, noisy, hiss, key="a.wav")
    assert first == condition_pcm(speech, noisy, hiss, key="a.wav")
    assert first != condition_pcm(speech, noisy, hiss, key="b.wav")
    assert first != speech
    mixed = audio.to_float(first).astype(np.float64)
    assert np.max(np.abs(mixed)) == pytest.approx(0.5, abs=1e-3)
    with pytest.raises(ValueError, match="needs noise"):
        condition_pcm(speech, noisy, None, key="a.wav")


def test_mix_snr_is_by_peak_frame_energy() -> None:
    speech = audio.to_float(tone_pcm()).astype(np.float64)
    hiss = np.random.default_rng(2).normal(0, 0.1, 48_000)
    mixed = noise.mix(speech, hiss, 12.0, rng=np.random.default_rng(0), peak=None)
    assert noise.snr_db(speech, mixed - speech) == pytest.approx(12.0, abs=1e-6)


class ScriptedTranscriber:
    """A Transcriber double: a short clip 'says' one order, a long clip another."""

    name = "scripted"

    def session(self, *, vocabulary: Vocabulary | None = None, partials: bool = True) -> _Scripted:
        return _Scripted()


class _Scripted:
    def __init__(self) -> None:
        self.size = 0

    def accept(self, pcm: bytes) -> str:
        self.size += len(pcm)
        return ""

    def finish(self) -> Transcript:
        seconds = self.size / (audio.SAMPLE_RATE * audio.SAMPLE_WIDTH)
        text = "a small latte with a bit of oat milk" if seconds < 3 else "an iced mocha"
        return Transcript(text=text, confidence=1.0)


def make_scripted() -> Understander:
    return Understander(ScriptedTranscriber(), cafe())


def test_evaluate_runs_every_file_under_every_condition(audio_dir: Path, tmp_path: Path) -> None:
    speech = audio.to_float(audio.load(audio_dir / "two_oat_milks.wav").pcm)
    gap = np.zeros(audio.SAMPLE_RATE // 2, dtype=np.float32)
    for name, samples in (("one.wav", speech), ("two.wav", np.concatenate([speech, gap, speech]))):
        soundfile.write(tmp_path / name, samples, audio.SAMPLE_RATE, subtype="PCM_16")
    soundfile.write(tmp_path / "quiet.wav", gap, audio.SAMPLE_RATE, subtype="PCM_16")
    labels = {
        "one.wav": latte(size=OptionValue("small"), milk=OptionValue("oat", Amount.LIGHT)),
        "two.wav": latte(),
        "quiet.wav": Expected(Intent.UNKNOWN),
    }
    hiss = audio.to_int16(np.random.default_rng(1).normal(0, 0.1, 48_000)).tobytes()
    outcomes = evaluate(
        make_scripted,
        tmp_path,
        labels,
        conditions=[Condition(CLEAN), Condition.noisy(12)],
        noise_pcm=hiss,
        progress=False,
    )
    assert [(o.file, o.condition, o.accepted) for o in outcomes] == [
        ("one.wav", "clean", True),
        ("one.wav", "12 dB", True),
        ("two.wav", "clean", False),
        ("two.wav", "12 dB", False),
        ("quiet.wav", "clean", True),
        ("quiet.wav", "12 dB", True),
    ]
    assert outcomes[2].errors == ("product iced-mocha",)
    assert outcomes[0].audio_seconds == pytest.approx(2.33)
    assert outcomes[4].transcript == ""
    with pytest.raises(FileNotFoundError, match="missing"):
        evaluate(make_scripted, tmp_path, {"nope.wav": latte()}, conditions=[Condition(CLEAN)])


# Reports -----------------------------------------------------------------------------------


def outcome(file: str, condition: str, errors: tuple[str, ...] = (), **slots: bool) -> Outcome:
    return Outcome(file, condition, {INTENT: True, PRODUCT: True, **slots}, errors, "t", 0.1, 1.0)


OUTCOMES = [
    outcome("a.wav", CLEAN, size=True),
    outcome("b.wav", CLEAN, ("size large != small/regular",), size=False),
    outcome("a.wav", "12 dB", size=True),
    outcome("b.wav", "12 dB", ("size large != small/regular",), size=False),
    outcome("a.wav", "6 dB", ("product mocha",), size=True, product=False),
    outcome("b.wav", "6 dB", ("size large != small/regular",), size=False),
]


def test_summary_per_condition_and_slot() -> None:
    scores = summarise(OUTCOMES)
    assert [(s.name, s.count, s.accepted) for s in scores] == [
        (CLEAN, 2, 0.5),
        ("12 dB", 2, 0.5),
        ("6 dB", 2, 0.0),
    ]
    assert scores[2].slots == {INTENT: 1.0, PRODUCT: 0.5, "size": 0.5}
    assert scores[0].rtf == pytest.approx(0.1)
    assert mean_accepted(scores) == pytest.approx(1 / 3)
    assert "mean" in condition_table(scores)
    assert slot_table(scores).splitlines()[2].split() == ["product", "1.000", "1.000", "0.500"]


def test_worst_files_and_confusions() -> None:
    assert worst(OUTCOMES).splitlines()[0] == "b.wav [clean,12 dB,6 dB]"
    assert confusions(OUTCOMES).splitlines()[0] == "    3  size large != small/regular"
    assert worst([outcome("a.wav", CLEAN)]) == "(no errors)"
    assert "Per-slot accuracy" in render(OUTCOMES)


def test_plot_writes_a_png(tmp_path: Path) -> None:
    path = tmp_path / "plots" / "acc.png"
    plot(summarise(OUTCOMES), path, references={"Rhino": {6.0: 0.96, 12.0: 0.98}})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
