"""Option phrases in an item ("no whip", "a bit of soy milk", "medium roast") -> OptionValues."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from catalog.model import Amount, OptionGroup
from catalog.numbers import word_value
from catalog.option_counts import added_units, step_choice
from catalog.option_phrases import AMOUNT_PHRASES, PhraseTable, canon, phrase_table
from catalog.request import OptionValue
from catalog.segment import wordset

# canon is re-exported: callers that read options compare tokens the same way (voice.labels).
__all__ = ["ANY_CHOICE", "MEASURES", "Mention", "assign", "canon", "find_mentions", "read_options"]

_AMOUNTS_BY_FIRST: dict[str, list[tuple[tuple[str, ...], Amount]]] = {}
for _phrase, _amount in AMOUNT_PHRASES:
    _AMOUNTS_BY_FIRST.setdefault(_phrase[0], []).append((_phrase, _amount))
"""AMOUNT_PHRASES by first word, in their order (only phrases starting with a word can match)."""

MEASURES = wordset(
    "pump pumps packet packets spoon spoons spoonful spoonfuls teaspoon teaspoons squirt "
    "squirts scoop scoops cube cubes sachet sachets"
)
"""Counted measures of an option ("two pumps of vanilla"): the count is not the quantity."""
_LISTS = frozenset({"or", "nor"})
_GLUE = frozenset({"the", "any", "of"})
_FUZZY_MIN_CHARS = 5
_FUZZY_SCORE = 86.0
_RELAXED_SCORE = 75.0
_RELAXED_AFTER = frozenset({Amount.LIGHT, Amount.EXTRA})
"""Amounts after which an option must follow ("a bit of", "lots of"); "some" and "no" also
come before products and other words, so they get no relaxed matching."""


@dataclass(frozen=True)
class Mention:
    """Option words at tokens[start:end]: the (group, choice) pairs they may mean, and amount."""

    start: int
    end: int
    candidates: tuple[tuple[str, str], ...]
    amount: Amount = Amount.REGULAR
    count: int = 1
    """How many more of a counted group ("two extra shots" is 2)."""

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups this mention may belong to."""
        return tuple(dict.fromkeys(group for group, _ in self.candidates))


ANY_CHOICE = ""
"""The choice of a mention that names only the group ("an extra shot", "no ice")."""


def find_mentions(tokens: Sequence[str], groups: Sequence[OptionGroup]) -> list[Mention]:
    """All option mentions in tokens, left to right, longest phrase first, with amounts."""
    table = phrase_table(tuple(groups))
    canons = [canon(t) for t in tokens]
    mentions: list[Mention] = []
    i = 0
    while i < len(tokens):
        free = mentions[-1].end if mentions else 0
        mention = _mention_at(tokens, canons, i, table, free=free)
        if mention is None:
            i += 1
            continue
        if mentions and mention.amount is Amount.REGULAR and _carries_none(tokens, mentions[-1], i):
            mention = Mention(mention.start, mention.end, mention.candidates, Amount.NONE)
        mentions.append(mention)
        i = mention.end
    return mentions


def _carries_none(tokens: Sequence[str], previous: Mention, start: int) -> bool:
    """ "without milk or sugar": the second option is also none."""
    return (
        previous.amount is Amount.NONE
        and previous.end == start - 1
        and tokens[previous.end] in _LISTS
    )


def _mention_at(
    tokens: Sequence[str], canons: Sequence[str], start: int, table: PhraseTable, *, free: int
) -> Mention | None:
    """The longest mention at start: amount words then a choice (or group noun), or a choice.

    On a tie the catalog's own phrase wins ("no whip" as a choice of its own).
    """
    counted = _counted_more_at(tokens, canons, start, table)
    if counted is not None:
        return counted
    plain = _choice_at(canons, start, table, free=free)
    best = None if plain is None else Mention(start, plain[0], plain[1])
    for phrase, amount in _AMOUNTS_BY_FIRST.get(tokens[start], ()):
        if tuple(tokens[start : start + len(phrase)]) != phrase:
            continue
        at = start + len(phrase)
        while at < len(tokens) and tokens[at] in _GLUE:
            at += 1
        found = _choice_at(canons, at, table, free=at) or _noun_at(canons, at, table)
        if found is None and amount in _RELAXED_AFTER:
            found = _relaxed_at(canons, at, table)
        if found is not None and (best is None or found[0] > best.end):
            best = _negated_choice(canons, at, found, table) if amount is Amount.NONE else None
            best = best or Mention(start, found[0], found[1], amount)
            best = Mention(start, best.end, best.candidates, best.amount)
        break
    measured = _measure_at(tokens, start)
    if best is None and measured:
        found = _choice_at(canons, measured, table, free=measured)
        if found is not None:
            best = Mention(start, found[0], found[1])
    return best


def _counted_more_at(
    tokens: Sequence[str], canons: Sequence[str], start: int, table: PhraseTable
) -> Mention | None:
    """ "two extra shots", "3 more shots": a count, "extra" or "more", then a group's noun."""
    value = word_value(tokens[start])
    if value is None or value < 1 or value != int(value) or start + 1 >= len(tokens):
        return None
    for phrase, amount in _AMOUNTS_BY_FIRST.get(tokens[start + 1], ()):
        at = start + 1 + len(phrase)
        if amount is Amount.EXTRA and tuple(tokens[start + 1 : at]) == phrase:
            found = _noun_at(canons, at, table)
            return None if found is None else Mention(start, found[0], found[1], amount, int(value))
    return None


def _negated_choice(
    canons: Sequence[str],
    at: int,
    found: tuple[int, tuple[tuple[str, str], ...]],
    table: PhraseTable,
) -> Mention | None:
    """ "without whip" as the catalog's own "no whip" choice, when it has one."""
    candidates = table.phrases.get(("no", *canons[at : found[0]]))
    return None if candidates is None else Mention(at, found[0], candidates)


def _measure_at(tokens: Sequence[str], start: int) -> int:
    """Where the choice starts after "two pumps of", "a packet of"; 0 when no measure."""
    at = start
    if at < len(tokens) and (tokens[at] in {"a", "an", "one"} or word_value(tokens[at])):
        at += 1
    if at >= len(tokens) or tokens[at] not in MEASURES or at == start:
        return 0
    at += 1
    return at + 1 if at < len(tokens) and tokens[at] == "of" else at


def _noun_at(
    canons: Sequence[str], start: int, table: PhraseTable
) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """A group's own noun after amount words ("extra shot", "no ice"), for any choice."""
    if start >= len(canons):
        return None
    groups = tuple((g, ANY_CHOICE) for g, nouns in table.nouns.items() if canons[start] in nouns)
    return (start + 1, groups) if groups else None


def _choice_at(
    canons: Sequence[str], start: int, table: PhraseTable, *, free: int
) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """The longest choice phrase at start (exact, else a close spelling), plus a group noun.

    A group's noun just before ("size medium") picks that group, unless an earlier
    mention used the noun ("dark roast medium"); `free` is where unused words start.
    """
    found = _exact_at(canons, start, table) or _fuzzy_at(canons, start, table)
    if found is None:
        return None
    end, candidates = found
    if end < len(canons):
        nxt = canons[end]
        by_noun = tuple(c for c in candidates if nxt in table.nouns[c[0]])
        if by_noun:
            return end + 1, by_noun
    if start > free:
        by_prev = tuple(c for c in candidates if canons[start - 1] in table.nouns[c[0]])
        if by_prev and len(by_prev) < len(candidates):
            candidates = by_prev
    return end, candidates


def _exact_at(
    canons: Sequence[str], start: int, table: PhraseTable
) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """The longest phrase of the table that starts at start."""
    for size in range(min(table.longest, len(canons) - start), 0, -1):
        candidates = table.phrases.get(tuple(canons[start : start + size]))
        if candidates:
            return start + size, candidates
    return None


def _fuzzy_at(
    canons: Sequence[str], start: int, table: PhraseTable
) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """A phrase with a word spelled a little differently ("almon milk"), same length.

    Only words of five letters or more may differ: short words differ in meaning too often.
    """
    if start >= len(canons):
        return None
    best: tuple[float, int, tuple[tuple[str, str], ...]] | None = None
    for phrase, candidates in table.by_initial.get(canons[start][:1], ()):
        spoken = canons[start : start + len(phrase)]
        if len(spoken) < len(phrase):
            continue
        score = min(_word_similarity(a, b) for a, b in zip(spoken, phrase, strict=True))
        if score >= _FUZZY_SCORE and (best is None or score > best[0]):
            best = (score, start + len(phrase), candidates)
    return None if best is None else (best[1], best[2])


def _relaxed_at(
    canons: Sequence[str], start: int, table: PhraseTable
) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """After "a bit of" or "lots of" an option must follow, so a misheard one may differ more:
    "a bit of kim milk", "lots of skin", "a little bit of sweet" (a cut-off "sweetener").

    The spoken words (as many as the phrase has) must be alphabetic and together spelled
    close to the phrase, or a word must be the start of the phrase's one word.
    """
    best: tuple[float, int, tuple[tuple[str, str], ...]] | None = None
    for phrase, candidates in table.phrases.items():
        spoken = canons[start : start + len(phrase)]
        if len(spoken) < len(phrase) or not all(w.isalpha() for w in spoken):
            continue
        score = float(fuzz.ratio(" ".join(spoken), " ".join(phrase)))
        cut = len(phrase) == 1 and len(spoken[0]) >= 4 and phrase[0].startswith(spoken[0])
        score = max(score, _RELAXED_SCORE + 1 if cut else 0.0)
        if score >= _RELAXED_SCORE and (best is None or score > best[0]):
            best = (score, start + len(phrase), candidates)
    return None if best is None else (best[1], best[2])


def _word_similarity(spoken: str, wanted: str) -> float:
    """100 for the same word, 90 for an inflection ("skimmed"), edit similarity, else 0."""
    if spoken == wanted:
        return 100.0
    if len(wanted) >= 4 and spoken.startswith(wanted) and len(spoken) - len(wanted) <= 3:
        return 90.0
    if min(len(spoken), len(wanted)) < _FUZZY_MIN_CHARS or not spoken.isalpha():
        return 0.0
    return float(fuzz.ratio(spoken, wanted))


def assign(
    mentions: Iterable[Mention],
    groups: Sequence[OptionGroup],
    *,
    defaults: Mapping[str, str] | None = None,
) -> dict[str, OptionValue]:
    """Resolve mentions to one value per group (the first said), in the groups' order.

    A word that several groups share ("medium" size or roast) takes a group that no other
    mention fills, preferring the group listed first. Groups that allow several choices
    keep the first one only, since Item.options holds one value per group. A mention of the
    group alone ("no ice") takes the product's default choice, else the first one; "more" of
    a group without amounts ("an extra shot") steps up from that choice (see step_choice).
    """
    by_id = {g.id: g for g in groups}
    chosen: dict[str, OptionValue] = {}
    pending: list[Mention] = []
    more: list[tuple[str, int]] = []
    for mention in mentions:
        candidates = [c for c in mention.candidates if c[0] in by_id]
        if len({g for g, _ in candidates}) == 1:
            group, choice = candidates[0]
            if _steps(mention, by_id[group], choice):
                more.append((group, mention.count))
            elif group not in chosen:
                chosen[group] = OptionValue(choice, mention.amount)
        elif candidates:
            pending.append(mention)
    order = list(by_id)
    for mention in pending:
        free = [c for c in mention.candidates if c[0] in by_id and c[0] not in chosen]
        if free:
            group, choice = min(free, key=lambda c: order.index(c[0]))
            chosen[group] = OptionValue(choice, mention.amount)
    base = {**(defaults or {}), **{g: v.choice for g, v in chosen.items()}}
    for group, count in more:
        chosen[group] = OptionValue(step_choice(by_id[group], base.get(group), count))
        base[group] = chosen[group].choice
    return {g: _fill(chosen[g], by_id[g], defaults or {}) for g in order if g in chosen}


def read_options(
    tokens: Sequence[str], groups: Sequence[OptionGroup], *, defaults: Mapping[str, str]
) -> dict[str, OptionValue]:
    """The options said in tokens, counted from `defaults` (a cart line's current choices)."""
    tokens = added_units(tokens, groups)
    return assign(find_mentions(tokens, groups), groups, defaults=defaults)


def _steps(mention: Mention, group: OptionGroup, choice: str) -> bool:
    """Whether a mention asks for more of a group that takes no amounts ("an extra shot")."""
    return (
        choice == ANY_CHOICE
        and mention.amount is Amount.EXTRA
        and not group.amounts
        and len(group.choices) > 1
    )


def _fill(value: OptionValue, group: OptionGroup, defaults: Mapping[str, str]) -> OptionValue:
    """Give a group-only mention a concrete choice."""
    if value.choice != ANY_CHOICE or not group.choices:
        return value
    return OptionValue(defaults.get(group.id, group.choices[0].id), value.amount)
