"""Typo-tolerant and sound-alike lookup of a word in a catalog's vocabulary.

Speech-to-text writes words that sound like the one said ("county" for "bounty", "serial" for
"cereal"); people abbreviate ("choc"). `Vocabulary.similar` finds the catalog words a spoken word
may stand for, each with a similarity in 0..1: exact, within one or two edits (a SymSpell-style
deletion index, so a lookup never scans the vocabulary), the same or a near Metaphone key, or a
longer word that starts with it. Lookups are cached: the same words come back turn after turn.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import jellyfish
from rapidfuzz.distance import OSA, Indel

EXACT = 1.0
TYPO_WEIGHT = 0.95
"""A word within the edit budget is worth this x its normalised edit similarity."""
SOUND_WEIGHT = 0.95
"""A sound-alike is worth this x the mean of its spelling and Metaphone-key similarity."""
MIN_SOUND_SIMILARITY = 0.6
MIN_SPELLING_SIMILARITY = 0.5
MIN_SIMILARITY = 0.6
"""Weaker look-alikes are not worth following."""
TWO_EDITS_FROM = 7
"""Words this long may carry two errors; shorter ones (from three letters) one."""
MAX_WORD_LENGTH = 30
"""Longer "words" are not looked up fuzzily (their deletions grow with the square)."""
MIN_PREFIX = 3
PREFIX_BASE = 0.6
NEAR_SOUND_FALLBACK = 0.8
"""Look at words one sound away only when no candidate reaches this similarity."""
MAX_PREFIX_WORDS = 8
MAX_SIMILAR = 12
CACHE_SIZE = 50_000


class How(StrEnum):
    """How a spoken word reached a catalog word."""

    EXACT = "exact"
    TYPO = "typo"
    PHONETIC = "phonetic"
    PREFIX = "prefix"


@dataclass(frozen=True, slots=True)
class Similar:
    """One catalog word a spoken word may stand for."""

    word_id: int
    similarity: float
    how: How


def phonetic_key(word: str) -> str:
    """The Metaphone key of a word ("bounty" -> "BNT"); empty for numbers."""
    if not word.isalpha():
        return ""
    return str(jellyfish.metaphone(word))


def loose_key(code: str) -> str:
    """A Metaphone key without glides (W, H, Y), with "th" as "t" and repeats merged."""
    out = ""
    for char in code.replace("0", "T"):
        if char not in "WHY" and not out.endswith(char):
            out += char
    return out


def max_edits(word: str) -> int:
    """How many typing or hearing errors a word of this length may carry."""
    if not word.isalpha() or not 3 <= len(word) <= MAX_WORD_LENGTH:
        return 0
    return 1 if len(word) < TWO_EDITS_FROM else 2


def deletions(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to `depth` characters (the word itself included)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class Vocabulary:
    """The distinct words of a catalog, with typo and sound-alike lookup."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words: list[str] = list(dict.fromkeys(words))
        self.ids: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        self._sorted = sorted(self.words)
        self._codes = [phonetic_key(word) for word in self.words]
        self._loose_codes = [loose_key(code) for code in self._codes]
        self._edits = [max_edits(word) for word in self.words]
        self._deletes: defaultdict[str, list[int]] = defaultdict(list)
        self._sounds: dict[str, list[int]] = {}
        self._loose: dict[str, list[int]] = {}
        for word_id, word in enumerate(self.words):
            for key in deletions(word, max_edits(word)):
                self._deletes[key].append(word_id)
            if self._codes[word_id]:
                self._sounds.setdefault(self._codes[word_id], []).append(word_id)
                self._loose.setdefault(self._loose_codes[word_id], []).append(word_id)
        self._sound_deletes: dict[str, list[str]] = {}
        for code in self._sounds:
            if len(code) >= 2:
                for key in deletions(code, 1):
                    self._sound_deletes.setdefault(key, []).append(code)
        self._cache: dict[tuple[str, bool], tuple[Similar, ...]] = {}

    def __len__(self) -> int:
        return len(self.words)

    def warm(self) -> None:
        """Look up every catalog word once, so that no spoken catalog word waits for it."""
        for word in self.words:
            self.similar(word)

    def similar(
        self, word: str, *, fuzzy: bool = True, joined: bool = False
    ) -> tuple[Similar, ...]:
        """Catalog words that `word` may stand for, best first; exact only when not `fuzzy`.

        `joined` marks two spoken words run together ("pop" + "corn"): only close spellings and
        sounds count then, not prefixes or far sounds.
        """
        if not fuzzy or not word.isalpha():
            word_id = self.ids.get(word)
            return () if word_id is None else (Similar(word_id, EXACT, How.EXACT),)
        cached = self._cache.get((word, joined))
        if cached is None:
            cached = self._lookup(word, joined=joined)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[(word, joined)] = cached
        return cached

    def _lookup(self, word: str, *, joined: bool) -> tuple[Similar, ...]:
        code = phonetic_key(word)
        word_id = self.ids.get(word)
        # Run-together words are long: generating their two-edit deletions costs more than the
        # rare two-typo join is worth, so they get one.
        depth = min(max_edits(word), 1) if joined else max_edits(word)
        ids = self._close_ids(word, code, depth=depth, prefixes=not joined)
        if joined:
            # Two words run together must be spelled out nearly in full, not just sound alike.
            ids = [i for i in ids if len(self.words[i]) >= len(word) - max_edits(word)]
        found = self._score(word, code, ids)
        strongest = max((f.similarity for f in found if f.word_id != word_id), default=0.0)
        if word_id is None and not joined and len(code) >= 3 and strongest < NEAR_SOUND_FALLBACK:
            # Only for a word the catalog lacks, when nothing spells or sounds close: words whose
            # key is one sound away ("majool" for "medjool"); they are many, so only when needed.
            found = _merge(found, self._score(word, code, self._near_sound_ids(word, code)))
        if word_id is not None:
            found = [f for f in found if f.word_id != word_id]
            found.insert(0, Similar(word_id, EXACT, How.EXACT))
        return tuple(found[:MAX_SIMILAR])

    def _close_ids(self, word: str, code: str, *, depth: int, prefixes: bool) -> list[int]:
        """Words within `depth` deletions, with a similar sound, or starting with `word`."""
        ids: set[int] = set(self._loose.get(loose_key(code), ())) if code else set()
        for key in deletions(word, depth):
            ids.update(self._deletes.get(key, ()))
        if prefixes and len(word) >= MIN_PREFIX:
            start = bisect.bisect_right(self._sorted, word)
            for index in range(start, min(start + MAX_PREFIX_WORDS, len(self._sorted))):
                if not self._sorted[index].startswith(word):
                    break
                ids.add(self.ids[self._sorted[index]])
        ids.discard(self.ids.get(word, -1))
        return list(ids)

    def _near_sound_ids(self, word: str, code: str) -> list[int]:
        ids: set[int] = set()
        for key in deletions(code, 1):
            for near in self._sound_deletes.get(key, ()):
                if near != code:
                    ids.update(self._sounds[near])
        return [i for i in ids if abs(len(self.words[i]) - len(word)) <= 2]

    def _score(self, word: str, code: str, ids: list[int]) -> list[Similar]:
        """Similarity of each candidate: the best of typo, sound-alike and prefix evidence."""
        found: list[Similar] = []
        depth = max_edits(word)
        loose = loose_key(code)
        for word_id in ids:
            other = self.words[word_id]
            best, how = 0.0, How.TYPO
            allowed = min(depth, self._edits[word_id])
            if allowed:
                edits = OSA.distance(word, other, score_cutoff=allowed)
                if edits <= allowed:
                    best = TYPO_WEIGHT * (1 - edits / max(len(word), len(other)))
            sound = Indel.normalized_similarity(loose, self._loose_codes[word_id])
            if loose and sound >= MIN_SOUND_SIMILARITY:
                spelling = Indel.normalized_similarity(word, other)
                if (
                    spelling >= MIN_SPELLING_SIMILARITY
                    and SOUND_WEIGHT * (spelling + sound) / 2 > best
                ):
                    best, how = SOUND_WEIGHT * (spelling + sound) / 2, How.PHONETIC
            if len(word) >= MIN_PREFIX and other.startswith(word):
                prefix = PREFIX_BASE + 0.3 * len(word) / len(other)
                if prefix > best:
                    best, how = prefix, How.PREFIX
            if best >= MIN_SIMILARITY:
                found.append(Similar(word_id, best, how))
        found.sort(key=lambda s: (-s.similarity, s.word_id))
        return found


def _merge(first: list[Similar], second: list[Similar]) -> list[Similar]:
    best: dict[int, Similar] = {}
    for found in (*first, *second):
        if found.word_id not in best or found.similarity > best[found.word_id].similarity:
            best[found.word_id] = found
    return sorted(best.values(), key=lambda s: (-s.similarity, s.word_id))
