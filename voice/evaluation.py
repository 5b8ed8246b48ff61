"""Score understood audio against labels, per condition (clean, noise at an SNR) and per slot.

A command is accepted when the intent, the number of items, and for each item the product,
the quantity and exactly the labelled options (choice and amount by meaning) all match: an
option the shopper did not ask for is an error too. Noise is mixed by voice.noise (peak-frame
energy SNR, then peak-normalised, as the Picovoice speech-to-intent benchmark does); each
(file, SNR) pair always gets the same noise window, so runs are comparable.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from catalog.request import Item, Request
from voice import audio, noise
from voice.labels import Expected, ExpectedItem
from voice.understand import Understander, Understanding

logger = logging.getLogger(__name__)

CLEAN = "clean"
INTENT, PRODUCT, QUANTITY, EXTRA = "intent", "product", "quantity", "unasked options"
"""Slots every command has; option groups are slots named by their group id."""


@dataclass(frozen=True)
class Condition:
    """One test condition: the clean recordings, or noise mixed in at `snr` dB."""

    name: str
    snr: float | None = None

    @classmethod
    def noisy(cls, snr: float) -> Condition:
        """Noise at this SNR, named like "12 dB"."""
        return cls(f"{snr:g} dB", snr)


@dataclass(frozen=True)
class Outcome:
    """How one file was understood under one condition, slot by slot."""

    file: str
    condition: str
    slots: Mapping[str, bool]
    errors: tuple[str, ...]
    transcript: str
    seconds: float
    audio_seconds: float
    alternatives: tuple[tuple[str, float], ...] = ()
    """The engine's n-best list (text, share) that the transcript was chosen from."""
    request: Request | None = field(default=None, compare=False)

    @property
    def accepted(self) -> bool:
        """Whether every slot is right (and no unasked item or option crept in)."""
        return not self.errors


def score(expected: Expected, request: Request) -> tuple[dict[str, bool], list[str]]:
    """Per-slot correctness and a readable list of differences (empty when accepted)."""
    slots: dict[str, bool] = {INTENT: request.intent is expected.intent}
    errors = [] if slots[INTENT] else [f"intent {request.intent.value} != {expected.intent.value}"]
    if len(request.items) != len(expected.items):
        errors.append(f"{len(request.items)} items != {len(expected.items)}")
    for position, wanted in enumerate(expected.items):
        got = request.items[position] if position < len(request.items) else None
        _score_item(wanted, got, slots, errors)
    return slots, errors


def _score_item(
    wanted: ExpectedItem, item: Item | None, slots: dict[str, bool], errors: list[str]
) -> None:
    """Add one item's slots (an item's slot is right only if it is right for every item)."""
    product = item.product_id if item else None
    _slot(slots, errors, PRODUCT, product == wanted.product_id, f"product {product}")
    quantity = item.quantity if item else None
    _slot(slots, errors, QUANTITY, quantity == wanted.quantity, f"quantity {quantity}")
    options = dict(item.options) if item else {}
    for group, value in wanted.options.items():
        have = options.get(group)
        said = f"{have.choice}/{have.amount.value}" if have else "none"
        want = f"{value.choice}/{value.amount.value}"
        _slot(slots, errors, group, have == value, f"{group} {said} != {want}")
    unasked = sorted(set(options) - set(wanted.options))
    _slot(slots, errors, EXTRA, not unasked, f"unasked {unasked}")


def _slot(slots: dict[str, bool], errors: list[str], name: str, ok: bool, why: str) -> None:
    slots[name] = slots.get(name, True) and ok
    if not ok:
        errors.append(why)


def outcome(
    file: str, condition: str, expected: Expected, result: Understanding, audio_seconds: float
) -> Outcome:
    """Score one Understanding."""
    slots, errors = score(expected, result.request)
    return Outcome(
        file=file,
        condition=condition,
        slots=slots,
        errors=tuple(errors),
        transcript=result.chosen or result.transcript.text,
        seconds=result.seconds,
        audio_seconds=audio_seconds,
        alternatives=tuple((a.text, a.confidence) for a in result.transcript.alternatives),
        request=result.request,
    )


def condition_pcm(pcm: bytes, condition: Condition, noise_pcm: bytes | None, *, key: str) -> bytes:
    """The recording under a condition; the noise window is fixed by (key, SNR)."""
    if condition.snr is None:
        return pcm
    if noise_pcm is None:
        raise ValueError(f"condition {condition.name} needs noise")
    seed = zlib.crc32(f"{key}@{condition.snr:g}".encode())
    return noise.mix_pcm(pcm, noise_pcm, condition.snr, rng=np.random.default_rng(seed))


@dataclass(frozen=True)
class Job:
    """One file to understand under every condition."""

    path: Path
    expected: Expected
    conditions: tuple[Condition, ...]
    noise_pcm: bytes | None


def run_job(understander: Understander, job: Job) -> list[Outcome]:
    """Understand one file under each condition."""
    clip = audio.load(job.path)
    out = []
    for condition in job.conditions:
        pcm = condition_pcm(clip.pcm, condition, job.noise_pcm, key=job.path.name)
        result = understander.understand(pcm)
        out.append(outcome(job.path.name, condition.name, job.expected, result, clip.duration))
    return out


def evaluate(
    make: Callable[[], Understander],
    audio_dir: Path,
    labels: Mapping[str, Expected],
    *,
    conditions: Sequence[Condition],
    noise_pcm: bytes | None = None,
    workers: int = 1,
    progress: bool = True,
) -> list[Outcome]:
    """Every labelled file under every condition, in label order.

    `make` builds the Understander (once per worker process when `workers` > 1, so it must be
    picklable then, e.g. a functools.partial of a module-level function).
    """
    jobs = [
        Job(audio_dir / name, expected, tuple(conditions), noise_pcm)
        for name, expected in labels.items()
    ]
    missing = [j.path.name for j in jobs if not j.path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} labelled files missing in {audio_dir}: {missing[:5]}"
        )
    bar = _bar(len(jobs) * len(conditions), enabled=progress)
    results: list[Outcome] = []
    try:
        for outcomes in _run_jobs(make, jobs, workers):
            results += outcomes
            bar.update(len(outcomes))
    finally:
        bar.close()
    return results


def _run_jobs(
    make: Callable[[], Understander], jobs: Sequence[Job], workers: int
) -> Iterable[list[Outcome]]:
    if workers <= 1:
        understander = make()
        for job in jobs:
            yield run_job(understander, job)
        return
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(make,)) as pool:
        yield from pool.map(_worker_job, jobs)


_WORKER: list[Understander] = []
"""The one Understander of a worker process (pools start each worker through _init_worker)."""


def _init_worker(make: Callable[[], Understander]) -> None:
    _WORKER.append(make())


def _worker_job(job: Job) -> list[Outcome]:
    return [_without_request(o) for o in run_job(_WORKER[0], job)]


def _without_request(result: Outcome) -> Outcome:
    """Outcomes cross process boundaries small: the Request stays behind."""
    return replace(result, request=None)


class _Bar:
    """The part of tqdm we use, so a disabled bar costs nothing."""

    def update(self, count: int) -> None:
        """Advance."""

    def close(self) -> None:
        """Finish."""


def _bar(total: int, *, enabled: bool) -> _Bar:
    if not enabled:
        return _Bar()
    from tqdm import tqdm

    bar: _Bar = tqdm(total=total, unit="clip", desc="understanding", dynamic_ncols=True)
    return bar
