"""Transcript clean-up for the parser: words and pauses, fillers, repeats, self-corrections."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

PAUSE = ","
"""The token that stands for punctuation: a pause that may end an item or a correction."""

FILLERS = frozenset(
    {"uh", "um", "umm", "uhm", "uhh", "er", "erm", "ah", "ahh", "eh", "hmm", "hm", "mm", "mhm"}
)
# Politeness and hedges that never change the meaning of an order.
POLITE = (
    ("thank", "you"),
    ("you", "know"),
    ("i", "guess"),
    ("if", "you", "can"),
    ("if", "possible"),
    ("please",),
    ("thanks",),
    ("kindly",),
    ("hey",),
    ("hi",),
    ("hello",),
)
CORRECTION_CUES = (
    ("no", "wait"),
    ("i", "mean"),
    ("scratch", "that"),
    ("make", "that"),
    ("make", "it"),
    ("or", "rather"),
    ("rather",),
    ("actually",),
    ("sorry",),
    ("wait",),
    ("oops",),
)
_SPACE_OUT = (
    (re.compile(r"[’‘`´]"), "'"),
    (re.compile(r"[\"“”()\[\]{}*_#~]"), " "),
    (re.compile(r"&"), " and "),
    (re.compile(r"\+"), " plus "),
    (re.compile(r"(\d)\s*%"), r"\1% "),
    (re.compile(r"(\d)\s*(?:percent|per cent)\b"), r"\1% "),
    (re.compile(r"(\d)([a-z])"), r"\1 \2"),
    (re.compile(r"([a-z])(\d)"), r"\1 \2"),
    (re.compile(r"\b(oz|lbs?|kg|ml|fl|st|mr|mrs|dr)\."), r"\1 "),
    (re.compile(r"(?<!\d)[.,;:!?]+|[.,;:!?]+(?!\d)"), f" {PAUSE} "),
    (re.compile(r"(?<=\w)-(?=\w)|\s-+\s|--+"), " "),
    (re.compile(r"'s\b"), "s"),
    (re.compile(r"'"), ""),
)


def wordset(text: str) -> frozenset[str]:
    """The words of a space-separated list, as a set."""
    return frozenset(text.split())


def words(text: str) -> list[str]:
    """Lower-case word tokens with punctuation kept as PAUSE tokens ("12oz" -> "12", "oz")."""
    text = text.lower()
    for pattern, replacement in _SPACE_OUT:
        text = pattern.sub(replacement, text)
    out: list[str] = []
    for raw in text.split():
        token = raw.strip("-/")
        if token and not (token == PAUSE and (not out or out[-1] == PAUSE)):
            out.append(token)
    while out and out[-1] == PAUSE:
        out.pop()
    return out


def clean(
    tokens: Sequence[str], *, phrases: Callable[[Sequence[str]], Mapping[int, int]] | None = None
) -> list[str]:
    """Drop fillers, politeness and stutters ("a a latte", "can I get, can I get").

    `phrases` gives, for a token list, where longer known phrases start and end: a repeat
    whose second copy starts a longer phrase is no stutter ("a medium, medium roast").
    """
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        skip = _phrase_at(tokens, i, POLITE)
        if token in FILLERS:
            i += 1
        elif skip:
            i += skip
        elif _is_filler_like(tokens, i, at_start=not out):
            i += 1
        else:
            out.append(token)
            i += 1
    tidy = _tidy_pauses(out)
    return _drop_repeats(tidy, phrases(tidy) if phrases else {})


def correction_at(tokens: Sequence[str], index: int) -> int:
    """Length of a correction cue ("no wait", "I mean", "actually") at index, or 0."""
    return _phrase_at(tokens, index, CORRECTION_CUES)


def split_on(tokens: Sequence[str], index: int, length: int) -> tuple[list[str], list[str]]:
    """Split tokens around tokens[index:index+length], dropping PAUSE tokens at the cut."""
    left = _tidy_pauses(list(tokens[:index]))
    right = _tidy_pauses(list(tokens[index + length :]))
    return left, right


def _phrase_at(tokens: Sequence[str], index: int, phrases: Sequence[tuple[str, ...]]) -> int:
    """Length of the first phrase that starts at index, or 0."""
    for phrase in phrases:
        if tuple(tokens[index : index + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _is_filler_like(tokens: Sequence[str], index: int, *, at_start: bool) -> bool:
    """ "like" and "so" as discourse fillers, not as in "I'd like" or "so much"."""
    token = tokens[index]
    prev = tokens[index - 1] if index > 0 else ""
    if token == "like":
        return prev not in {
            "id",
            "would",
            "i",
            "wed",
            "we",
            "youd",
            "you",
            "just",
            "also",
            "really",
        }
    if token in {"so", "okay", "ok", "alright", "well"}:
        nxt = tokens[index + 1] if index + 1 < len(tokens) else ""
        return at_start and nxt not in {"", PAUSE}
    return False


def _tidy_pauses(tokens: list[str]) -> list[str]:
    """No PAUSE at either end, never two in a row."""
    out: list[str] = []
    for token in tokens:
        if token == PAUSE and (not out or out[-1] == PAUSE):
            continue
        out.append(token)
    while out and out[-1] == PAUSE:
        out.pop()
    return out


_NOT_STUTTER = frozenset({PAUSE, "and", "or", "very"})


def _drop_repeats(tokens: list[str], longer: Mapping[int, int]) -> list[str]:
    """Collapse a phrase of one to three words said twice in a row (a stutter or restart).

    `longer` maps a token position to the end of a known phrase starting there.
    """
    out: list[str] = []
    source: list[int] = []
    for index, token in enumerate(tokens):
        out.append(token)
        source.append(index)
        for size in (3, 2, 1):
            second = out[-size:]
            if len(out) < 2 * size or _NOT_STUTTER.intersection(second) or second[0].isdigit():
                continue
            if longer.get(source[-size], 0) > index + 1:
                continue
            gap = 1 if len(out) > 2 * size and out[-size - 1] == PAUSE else 0
            if out[-2 * size - gap : -size - gap] == second:
                del out[-size - gap :]
                del source[-size - gap :]
                break
    return out


CORRECTION_LEADS = (
    ("make", "it"),
    ("make", "that"),
    ("make", "them"),
    ("change", "it", "to"),
    ("change", "that", "to"),
    ("switch", "it", "to"),
    ("it", "should", "be"),
    ("i", "meant"),
    ("i", "mean"),
    ("instead", "of", "that"),
)
"""Words that open the new version after a correction cue ("no, make it a mocha")."""

_KEPT_AT_START = (["make", "that"], ["make", "it"], ["rather"])
"""Cues that are no correction at the start of an utterance ("make that three")."""
_NO_BEFORE = frozenset({"a", "an", "the", "make", "i", "change", "just", "only"})


def split_corrections(tokens: Sequence[str], *, numbers: frozenset[str]) -> list[list[str]]:
    """Cut at self-corrections: [said first, correction, ...]; cues at the start are dropped.

    "no" corrects only before a pause, an article or a number ("a latte, no, a mocha";
    "two lattes no three"); otherwise it is an option's negation ("no whip").
    """
    chunks: list[list[str]] = [[]]
    i = 0
    while i < len(tokens):
        size = correction_at(tokens, i) or _no_correction(tokens, i, numbers)
        said = any(t != PAUSE for t in chunks[-1])
        if size and (said or tokens[i : i + size] not in _KEPT_AT_START):
            i += size
            while i < len(tokens) and tokens[i] == PAUSE:
                i += 1
            if said:
                chunks.append([])
                i += _phrase_at(tokens, i, CORRECTION_LEADS)
            continue
        chunks[-1].append(tokens[i])
        i += 1
    return [_tidy_pauses(c) for c in chunks if any(t != PAUSE for t in c)]


def _no_correction(tokens: Sequence[str], index: int, numbers: frozenset[str]) -> int:
    """1 when tokens[index] is a correcting "no" after some words, else 0."""
    if tokens[index] not in {"no", "nope"} or not any(t != PAUSE for t in tokens[:index]):
        return 0
    nxt = tokens[index + 1] if index + 1 < len(tokens) else ""
    after_pause = tokens[index - 1] == PAUSE
    if tokens[index - 1] in {"with", "and", "or", "but"}:
        return 0
    if nxt == PAUSE and index + 2 < len(tokens):
        return 1
    if nxt in _NO_BEFORE or nxt in numbers or nxt[:1].isdigit():
        return 1 if after_pause or nxt not in {"a", "an"} or index + 2 < len(tokens) else 0
    return 0
