"""Evaluation results as text tables (per condition, per slot, worst errors) and a PNG plot."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from voice.evaluation import CLEAN, EXTRA, INTENT, PRODUCT, QUANTITY, Outcome

FIXED_SLOTS = (INTENT, PRODUCT, QUANTITY)


@dataclass(frozen=True)
class ConditionScore:
    """Acceptance and per-slot accuracy for one condition."""

    name: str
    count: int
    accepted: float
    slots: Mapping[str, float]
    """Slot -> share right among the commands that have that slot labelled."""
    seconds: float
    audio_seconds: float

    @property
    def rtf(self) -> float:
        """Processing time over audio time."""
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0


def summarise(outcomes: Sequence[Outcome]) -> list[ConditionScore]:
    """One ConditionScore per condition, in the order the conditions first appear."""
    by_condition: dict[str, list[Outcome]] = defaultdict(list)
    for result in outcomes:
        by_condition[result.condition].append(result)
    scores = []
    for name, results in by_condition.items():
        right: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        for result in results:
            for slot, ok in result.slots.items():
                seen[slot] += 1
                right[slot] += ok
        scores.append(
            ConditionScore(
                name=name,
                count=len(results),
                accepted=sum(r.accepted for r in results) / len(results),
                slots={slot: right[slot] / seen[slot] for slot in _slot_order(seen)},
                seconds=sum(r.seconds for r in results),
                audio_seconds=sum(r.audio_seconds for r in results),
            )
        )
    return scores


def _slot_order(seen: Mapping[str, int]) -> list[str]:
    options = sorted(s for s in seen if s not in (*FIXED_SLOTS, EXTRA))
    return [s for s in (*FIXED_SLOTS, *options, EXTRA) if s in seen]


def mean_accepted(scores: Sequence[ConditionScore]) -> float:
    """The mean acceptance over conditions (each condition counts once)."""
    return sum(s.accepted for s in scores) / len(scores) if scores else 0.0


def condition_table(scores: Sequence[ConditionScore]) -> str:
    """Command acceptance per condition, with the mean and the real-time factor."""
    lines = [f"{'condition':<10} {'commands':>8} {'accepted':>9} {'rtf':>6}"]
    for s in scores:
        lines.append(f"{s.name:<10} {s.count:>8} {s.accepted:>9.3f} {s.rtf:>6.3f}")
    lines.append(f"{'mean':<10} {'':>8} {mean_accepted(scores):>9.3f}")
    return "\n".join(lines)


def slot_table(scores: Sequence[ConditionScore]) -> str:
    """Per-slot accuracy: one row per slot, one column per condition."""
    slots = list(dict.fromkeys(slot for s in scores for slot in s.slots))
    width = max((len(slot) for slot in slots), default=4) + 1
    lines = [f"{'slot':<{width}}" + "".join(f"{s.name:>10}" for s in scores)]
    for slot in slots:
        cells = "".join(
            f"{s.slots[slot]:>10.3f}" if slot in s.slots else f"{'-':>10}" for s in scores
        )
        lines.append(f"{slot:<{width}}{cells}")
    return "\n".join(lines)


def worst(outcomes: Sequence[Outcome], *, limit: int = 15) -> str:
    """The files rejected under the most conditions, each with its cleanest failure."""
    failures: dict[str, list[Outcome]] = defaultdict(list)
    for result in outcomes:
        if not result.accepted:
            failures[result.file].append(result)
    ranked = sorted(failures.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
    lines = []
    for file, results in ranked:
        first = results[0]
        conditions = ",".join(r.condition for r in results)
        lines.append(f"{file} [{conditions}]")
        lines.append(f"    heard {first.transcript!r} ({first.condition})")
        lines.append(f"    wrong: {'; '.join(first.errors)}")
    return "\n".join(lines) if lines else "(no errors)"


def confusions(outcomes: Sequence[Outcome], *, limit: int = 12) -> str:
    """The most frequent kinds of error, over all conditions."""
    counts: Counter[str] = Counter(e for r in outcomes for e in r.errors)
    if not counts:
        return "(no errors)"
    return "\n".join(f"{n:>5}  {error}" for error, n in counts.most_common(limit))


def render(outcomes: Sequence[Outcome], *, worst_limit: int = 15) -> str:
    """The full text report."""
    scores = summarise(outcomes)
    return "\n\n".join(
        (
            "Command acceptance per condition\n" + condition_table(scores),
            "Per-slot accuracy\n" + slot_table(scores),
            "Most frequent errors\n" + confusions(outcomes),
            "Worst files\n" + worst(outcomes, limit=worst_limit),
        )
    )


def snr_of(name: str) -> float | None:
    """The SNR in a condition name ("12 dB" -> 12.0); None for clean."""
    if name == CLEAN:
        return None
    return float(name.split(maxsplit=1)[0])


def plot(
    scores: Sequence[ConditionScore],
    path: Path,
    *,
    references: Mapping[str, Mapping[float, float]] | None = None,
    title: str = "Command acceptance against noise",
) -> None:
    """A PNG of acceptance against SNR; clean is drawn to the right of the highest SNR."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noisy = sorted((snr, s.accepted) for s in scores if (snr := snr_of(s.name)) is not None)
    clean = [s.accepted for s in scores if snr_of(s.name) is None]
    top = max((snr for snr, _ in noisy), default=0.0)
    clean_x = top + 6
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    xs = [snr for snr, _ in noisy] + ([clean_x] if clean else [])
    ys = [acc for _, acc in noisy] + clean
    axes.plot(xs, ys, marker="o", label="VoiceCart")
    for name, points in (references or {}).items():
        ordered = sorted(points.items())
        axes.plot([x for x, _ in ordered], [y for _, y in ordered], "--", marker=".", label=name)
    ticks = [snr for snr, _ in noisy]
    axes.set_xticks([*ticks, clean_x] if clean else ticks)
    axes.set_xticklabels([f"{t:g}" for t in ticks] + ([CLEAN] if clean else []))
    axes.set_xlabel("SNR (dB)")
    axes.set_ylabel("commands accepted")
    axes.set_ylim(min([0.5, *ys]), 1.0)
    axes.grid(visible=True, alpha=0.3)
    axes.set_title(title)
    axes.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
