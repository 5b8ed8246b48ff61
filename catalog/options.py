"""Option phrases in an item ("no whip", "a bit of soy milk", "medium roast") -> OptionValues."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from catalog.model import Amount, OptionGroup
from catalog.numbers import UNITS, word_value
from catalog.request import OptionValue
from catalog.segment import words, wordset
from catalog.text import stem

AMOUNT_PHRASES: tuple[tuple[tuple[str, ...], Amount], ...] = tuple(
    (tuple(phrase.split()), amount)
    for amount, phrases in (
        (
            Amount.LIGHT,
            "just a little bit of|a little bit of|a tiny bit of|little bit of|a little bit|"
            "just a bit of|a bit of|bit of|a touch of|a splash of|a dash of|a drop of|a little|"
            "light on the|light on|easy on the|easy on|go easy on the|less|light|lite|little",
        ),
        (Amount.REGULAR, "a normal amount of|some|regular|normal"),
        (
            Amount.EXTRA,
            "a whole lot of|a lot of|lots and lots of|lots of|lot of|a lot|loads of|load of|"
            "plenty of|tons of|a ton of|heaps of|a bunch of|a good amount of|extra|more|heavy|"
            "additional|lots|loads",
        ),
        (
            Amount.NONE,
            "leave out the|without any|without the|without|with no|hold the|skip the|"
            "minus the|minus|no|none|zero|nix the",
        ),
    )
    for phrase in phrases.split("|")
)
"""Amount words before an option ("a bit of" is light, "lots of" extra, "hold the" none)."""

_AMOUNTS_BY_FIRST: dict[str, list[tuple[tuple[str, ...], Amount]]] = {}
for _phrase, _amount in AMOUNT_PHRASES:
    _AMOUNTS_BY_FIRST.setdefault(_phrase[0], []).append((_phrase, _amount))
"""AMOUNT_PHRASES by first word, in their order (only phrases starting with a word can match)."""

AMOUNT_WORDS = frozenset(w for phrase, _ in AMOUNT_PHRASES for w in phrase)
"""Every amount word, for speech-engine vocabularies (choice words come from the catalog)."""

MEASURES = wordset(
    "pump pumps packet packets spoon spoons spoonful spoonfuls teaspoon teaspoons squirt "
    "squirts scoop scoops cube cubes sachet sachets"
)
"""Counted measures of an option ("two pumps of vanilla"): the count is not the quantity."""
_LISTS = frozenset({"or", "nor"})
_WEAK = AMOUNT_WORDS | frozenset({"with", "and", "the", "a", "an", "of", "not", "in", "on"})
_GLUE = frozenset({"the", "any", "of"})
_FUZZY_MIN_CHARS = 5
_FUZZY_SCORE = 86.0
_RELAXED_SCORE = 75.0
_MULTIPLES = {"single": 1, "double": 2, "triple": 3, "quad": 4, "quadruple": 4}
"""Words that count a choice ("Double Shot") as digits do ("2 shots")."""
_ADD_VERBS = frozenset({"add", "adding"})
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


@dataclass(frozen=True)
class PhraseTable:
    """Canonical word tuples -> (group, choice) pairs, and each group's head nouns."""

    phrases: Mapping[tuple[str, ...], tuple[tuple[str, str], ...]]
    nouns: Mapping[str, frozenset[str]]
    longest: int
    by_initial: Mapping[str, tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ...]] = (
        field(default_factory=dict)
    )
    """The phrases again, by their first letter (a close spelling must share it)."""


ANY_CHOICE = ""
"""The choice of a mention that names only the group ("an extra shot", "no ice")."""


def canon(token: str) -> str:
    """A token's comparison form: digits for numbers, "oz" for ounces, singular nouns."""
    value = word_value(token)
    if value is not None and value == int(value):
        return str(int(value))
    if UNITS.get(token) == "ounce":
        return "oz"
    return stem(token)


def canon_words(text: str) -> tuple[str, ...]:
    """The canonical tuple of a catalog phrase ("12 oz" -> ("12", "oz"))."""
    return tuple(canon(t) for t in words(text.replace("-", " ")) if t != ",")


@lru_cache(maxsize=256)
def phrase_table(groups: tuple[OptionGroup, ...]) -> PhraseTable:
    """Every way to say each choice of these groups, built once per set of groups."""
    table: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    nouns: dict[str, frozenset[str]] = {}
    for group in groups:
        name = canon_words(group.name)
        own = frozenset(name) | frozenset(canon_words(group.id))
        nouns[group.id] = frozenset(name[-1:]) | frozenset(canon_words(group.id))
        for choice in group.choices:
            for phrase in _choice_phrases(choice.name, choice.id, choice.aliases, own):
                pairs = table.setdefault(phrase, [])
                if (group.id, choice.id) not in pairs:
                    pairs.append((group.id, choice.id))
    longest = max((len(p) for p in table), default=0)
    phrases = {k: tuple(v) for k, v in table.items()}
    initials: dict[str, list[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]] = {}
    for phrase, found in phrases.items():
        initials.setdefault(phrase[0][:1], []).append((phrase, found))
    by_initial = {k: tuple(v) for k, v in initials.items()}
    return PhraseTable(phrases, nouns, longest, by_initial)


def _choice_phrases(
    name: str, choice_id: str, aliases: Iterable[str], nouns: frozenset[str]
) -> set[tuple[str, ...]]:
    """Name, id, aliases, and the name without the group's words ("Skim Milk" -> "skim")."""
    phrases = {canon_words(text) for text in (name, choice_id, *aliases)}
    for phrase in list(phrases):
        short = tuple(w for w in phrase if w not in nouns)
        if short and short != phrase and not set(short) <= _WEAK and not short[0].isdigit():
            phrases.add(short)
    return {p for p in phrases if p}


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


def added_units(tokens: Sequence[str], groups: Sequence[OptionGroup]) -> list[str]:
    """ "add a shot" is one more shot ("add an extra shot"), not the "one shot" choice.

    Only for groups counted in units ("shot"); "a shot of vanilla" measures a syrup.
    """
    nouns = counted_nouns(tuple(groups))
    out = list(tokens)
    for i in range(len(out) - 3, -1, -1):
        count, noun = out[i + 1], out[i + 2]
        after = out[i + 3] if i + 3 < len(out) else ""
        if out[i] not in _ADD_VERBS or canon(noun) not in nouns or after == "of":
            continue
        if count in {"a", "an"}:
            out[i + 1 : i + 2] = ["an", "extra"]
        elif word_value(count) is not None:
            out.insert(i + 2, "extra")
    return out


@lru_cache(maxsize=64)
def counted_nouns(groups: tuple[OptionGroup, ...]) -> frozenset[str]:
    """Nouns of groups counted in units, without amounts ("shot"): "add a shot" is one more."""
    table = phrase_table(groups)
    return frozenset(
        n for g in groups if not g.amounts and choice_counts(g) for n in table.nouns[g.id]
    )


def _steps(mention: Mention, group: OptionGroup, choice: str) -> bool:
    """Whether a mention asks for more of a group that takes no amounts ("an extra shot")."""
    return (
        choice == ANY_CHOICE
        and mention.amount is Amount.EXTRA
        and not group.amounts
        and len(group.choices) > 1
    )


def choice_counts(group: OptionGroup) -> dict[str, int]:
    """How many each choice counts ("Double Shot", "2 shots" -> 2); only choices that say."""
    nouns = phrase_table((group,)).nouns[group.id]
    counts: dict[str, int] = {}
    for choice in group.choices:
        for text in (choice.name, choice.id, *choice.aliases):
            phrase = canon_words(text)
            pairs = zip(phrase, (*phrase[1:], ""), strict=True)
            found = [
                _MULTIPLES.get(w) or (int(w) if w.isdigit() and nxt in nouns else None)
                for w, nxt in pairs
            ]
            count = next((c for c in found if c), None)
            if count is not None:
                counts.setdefault(choice.id, count)
    return counts


def step_choice(group: OptionGroup, base: str | None, more: int) -> str:
    """The choice `more` steps above `base` (else the first choice).

    Counted choices step by count (a Single Shot and two more is a Triple Shot); others by
    their order in the catalog. Past the last choice, the last one.
    """
    ids = [c.id for c in group.choices]
    start = base if base in ids else ids[0]
    counts = choice_counts(group)
    if start in counts:
        wanted = counts[start] + more
        fits = [c for c in ids if c in counts and counts[c] <= wanted]
        return max(fits, key=lambda c: counts[c])
    return ids[min(ids.index(start) + more, len(ids) - 1)]


def _fill(value: OptionValue, group: OptionGroup, defaults: Mapping[str, str]) -> OptionValue:
    """Give a group-only mention a concrete choice."""
    if value.choice != ANY_CHOICE or not group.choices:
        return value
    return OptionValue(defaults.get(group.id, group.choices[0].id), value.amount)
