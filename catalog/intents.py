"""Intent cues: which of the shopper's intents an utterance carries, and the words left over."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from catalog.request import Intent, ReorderTarget
from catalog.segment import PAUSE, wordset

_CART = r"(?:my|the|this|your)? ?(?:shopping )?(?:cart|basket|bag|order|list|trolley|items)"
_YOU = r"(?:you|you guys|the store|the shop|the cafe|your store|your shop|it|they|this place)"
_NUMBER = (
    r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
    r"fifty|a dozen|a couple|a half|half a|dozen|couple|just one|only one|none)"
)

# Cue patterns per intent, tried in this order; the first intent with a match wins.
CUES: tuple[tuple[Intent, tuple[str, ...]], ...] = (
    (
        Intent.HELP,
        (
            r"\bhelp\b",
            r"\bwhat (?:can|should|do) (?:i|you) (?:say|do|ask)\b",
            r"\bhow (?:does|do) (?:this|it|you|i use this) work\b",
            r"\bhow do i (?:use this|order|use it)\b",
            r"\bwhat are my options\b",
        ),
    ),
    (
        Intent.STORE_INFO,
        (
            rf"\b(?:what|which) time (?:do|does|are|will|is) {_YOU}\b.*\b(?:close|open)\w*",
            rf"\bwhen (?:do|does|are|will|is) {_YOU}\b.*\b(?:close|open)\w*",
            rf"\bhow (?:late|early) (?:are|do|is|will) {_YOU}\b.*",
            rf"\b(?:are|is) {_YOU} (?:still )?open\b.*",
            r"\b(?:opening|closing|store|business|your) (?:hours|times)\b",
            r"\bhours\b",
            rf"\bwhere (?:are|is|s) {_YOU}(?: located)?\b",
            r"\bwhere(?:s| is) (?:the |your )?(?:[a-z]+ ){0,3}(?:store|shop|cafe|location)\b",
            r"\b(?:your|the|store|shop|cafe) (?:address|location|phone number)\b",
            r"\b(?:address|phone number)\b",
        ),
    ),
    (
        Intent.ORDER_STATUS,
        (
            r"\bwhere(?: is|s) my (?:order|stuff|delivery|drink|coffee|food|groceries)\b",
            r"\b(?:order|delivery) status\b",
            r"\bstatus of (?:my|the) (?:order|delivery)\b",
            r"\b(?:is|are) my (?:order|drinks?|coffee|food|groceries) (?:ready|done|coming)\b",
            r"\bwhen (?:will|is|does|can) my "
            r"(?:order|delivery|drinks?|coffee|food|groceries|stuff)\b.*",
            r"\btrack(?:ing)? (?:my|the) (?:order|delivery)\b",
            r"\bhow long (?:until|till|for|will|is) my (?:order|delivery)\b.*",
            r"\bmy order ready\b",
        ),
    ),
    (
        Intent.CLEAR_CART,
        (
            rf"\b(?:clear|empty|reset|wipe|delete|trash)(?: out)? "
            rf"(?:the whole |my whole |all of )?{_CART}\b",
            r"\b(?:remove|delete|clear|take out|take off|cancel) (?:everything|all items|it all)\b",
            r"\bstart (?:over|again|fresh|from scratch)\b",
            r"\bthrow (?:it all|everything) out\b",
            r"\btake everything (?:out|off)\b",
        ),
    ),
    (
        Intent.READ_CART,
        (
            rf"\bwhat(?: is|s| do i have| have i got) in {_CART}\b",
            rf"\b(?:read|list|review|show|repeat|tell)(?: me)?(?: back)? (?:what is in )?{_CART}\b",
            r"\bwhat (?:do|did) i have(?: so far)?\b",
            r"\bwhat (?:have i|did i) (?:ordered|order|added|add|got|get) so far\b",
            rf"\bwhat(?: is|s) (?:my total|{_CART})\b(?! status)",
            r"\bhow much (?:is|does) (?:my|the) (?:cart|order|total|basket)\b",
            r"\bhow much does (?:it|that) come to\b",
            r"\bwhats the total\b",
        ),
    ),
    (
        Intent.REORDER,
        (
            r"\bre ?order\b",
            r"\b(?:my|the) usual\b",
            r"\bsame (?:thing |order |stuff )?(?:as|like) "
            r"(?:last time|before|usual|yesterday|last week)\b",
            r"\bsame (?:again|as always|thing again)\b",
            r"\brepeat (?:my|the) (?:last |previous )?order\b",
            r"\b(?:my|the) (?:last|previous) order(?: again)?\b",
            r"\bwhat i (?:got|had|ordered|bought) (?:last time|before)\b",
            r"\b(?:order|get|buy|grab|bring)\b(?: me)?(?=.*\bagain\b)",
        ),
    ),
    (Intent.SET_QUANTITY, (r"\b(?:make|change|set|update|bump|increase|decrease|reduce|lower)\b",)),
    (
        Intent.REMOVE_ITEMS,
        (
            r"\b(?:remove|delete|drop|cancel|nix)\b",
            r"\btake (?:off|out|away)\b",
            r"\btake\b(?=.*\b(?:off|out)\b)",
            r"\bget rid of\b",
            r"\bi (?:dont|do not|no longer) (?:want|need)(?: the| any| my)?\b",
            rf"\b(?:off|out of|from) {_CART}\b",
        ),
    ),
    (
        Intent.CHECKOUT,
        (
            r"\bcheck ?out\b",
            r"\b(?:place|submit|send|finish|complete|finalize|confirm) "
            r"(?:the |my |this |our )?order\b",
            r"\bthats (?:all|it|everything)\b",
            r"\bthat (?:will|would|ll) be (?:all|it|everything)\b",
            r"\bthatll be (?:all|it|everything)\b",
            r"\b(?:im|i am|we are|were) (?:done|finished|all set|ready to pay)\b",
            r"\bready to (?:pay|check ?out|order)\b",
            r"\bnothing (?:else|more)\b",
            r"\b(?:pay|buy it all) now\b",
        ),
    ),
)

SET_TO = re.compile(
    rf"\b(?:(?:it|that|this|them|those)(?: to| at)?|to|at) (?:{_NUMBER})\b(?! ?(?:am|pm|oclock))"
)
SET_END = re.compile(
    rf"^ ?(?:the |my )?[a-z ]*?\b(?:{_NUMBER})(?: (?:of them|pounds?|lbs?|dozen))?$"
)
_STRONG_CONFIRM = wordset(
    "yes yeah yep yup ya yah sure ok okay correct right absolutely definitely certainly "
    "affirmative confirm confirmed perfect great fine alright exactly good ahead course huh "
    "mhm place"
)
CONFIRM_WORDS = _STRONG_CONFIRM | {"do", "go", "it", "that", "is", "thats", "sounds", "of", "uh"}
_STRONG_DENY = frozenset({"no", "nope", "nah", "wrong", "incorrect", "negative", "not"})
DENY_WORDS = _STRONG_DENY | {"really", "thats", "it", "isnt", "is", "that", "way", "right"}
CANCEL = re.compile(
    r"^(?:cancel|stop|never ?mind|forget (?:it|about it)|quit|exit|abort|nevermind)"
    r"(?: (?:it|that|this|the order|my order|everything|please|all))?$"
)


FAREWELLS = wordset("bye goodbye byebye goodnight cya")
"""Words that end a conversation ("bye"); with the words below, the whole turn is a goodbye."""
_FAREWELL_PAIRS = frozenset({("see", "you"), ("see", "ya"), ("good", "night"), ("good", "bye")})
_CLOSING = wordset(
    "never mind nevermind thats all it everything nothing else more no nope ok okay alright "
    "then for now today im were done cancel stop that see you ya later good night and so well "
    "thank thanks cheers"
)


def _farewell(plain: Sequence[str]) -> bool:
    """ "Never mind, goodbye", "that's all, bye", "ok see you later": a goodbye, no order."""
    pairs = set(itertools.pairwise(plain))
    said = bool(FAREWELLS.intersection(plain)) or bool(_FAREWELL_PAIRS & pairs)
    return said and all(w in _CLOSING or w in FAREWELLS for w in plain)


_FRAGMENTS = frozenset({"ll", "re"})
"""Pieces of spellings in the patterns ("re order", "that ll"), not words."""


@dataclass(frozen=True)
class Cue:
    """The intent an utterance's cue words carry, and the words left for items."""

    intent: Intent
    rest: tuple[str, ...]
    explicit: bool = True
    reorder: ReorderTarget | None = None


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Intent, tuple[re.Pattern[str], ...]], ...]:
    """The cue patterns, compiled once."""
    return tuple((intent, tuple(re.compile(p) for p in patterns)) for intent, patterns in CUES)


def detect(tokens: Sequence[str]) -> Cue:
    """The intent of a cleaned token list; add_items (not explicit) when no cue is found."""
    plain = [t for t in tokens if t != PAUSE]
    text = " ".join(tokens)
    reply = _reply_intent(plain)
    if reply is not None:
        return Cue(reply, ())
    if CANCEL.match(" ".join(plain)) or _farewell(plain):
        return Cue(Intent.CANCEL, ())
    for intent, patterns in _compiled():
        for pattern in patterns:
            found = pattern.search(text)
            if found is None or not _fits(intent, text, found):
                continue
            rest = _without(text, found.start(), found.end())
            if intent is Intent.REORDER:
                rest = [t for t in rest if t != "again"]
            reorder = _reorder_target(text) if intent is Intent.REORDER else None
            return Cue(intent, tuple(rest), reorder=reorder)
    return Cue(Intent.ADD_ITEMS, tuple(tokens), explicit=False)


def _fits(intent: Intent, text: str, found: re.Match[str]) -> bool:
    """Extra conditions: set_quantity needs a number after its verb."""
    if intent is Intent.SET_QUANTITY:
        after = text[found.end() :]
        return SET_TO.search(after) is not None or SET_END.search(after) is not None
    return True


def _reply_intent(plain: Sequence[str]) -> Intent | None:
    """Confirm or deny when the whole utterance is a yes or a no."""
    if not plain:
        return None
    if all(w in DENY_WORDS for w in plain) and _STRONG_DENY.intersection(plain):
        return Intent.DENY
    if all(w in CONFIRM_WORDS for w in plain) and _STRONG_CONFIRM.intersection(plain):
        return Intent.CONFIRM
    return None


def _reorder_target(text: str) -> ReorderTarget:
    """Usual when the shopper says so, else last (the parser sets product when it finds one)."""
    return ReorderTarget.USUAL if re.search(r"\busual\b", text) else ReorderTarget.LAST


def _without(text: str, start: int, end: int) -> list[str]:
    """The tokens of text with the characters start:end cut out."""
    return (text[:start] + " " + PAUSE + " " + text[end:]).split()


def cue_words() -> frozenset[str]:
    """Every plain word in the cue patterns, for speech-engine vocabularies."""
    found: set[str] = set(CONFIRM_WORDS | DENY_WORDS)
    patterns = [p for _, group in CUES for p in group]
    for pattern in (*patterns, *ADD_CUES):
        plain = re.sub(r"(?<=[a-z])\(\?:[a-z|]+\)\??|\\[a-z]|\?<[=!]", " ", pattern)
        found.update(re.findall(r"[a-z]{2,}", plain))
    return frozenset(found - _FRAGMENTS)


ADD_CUES = (
    r"\b(?:can|could|may|might|shall) (?:i|we|you)(?: please)?(?: just)? "
    r"(?:get|have|order|grab|add|do|try|buy|give me|get me|make me)(?: me| us)?\b",
    r"\b(?:id|i would|we would|wed|i will|ill|we will|well|i shall) "
    r"(?:like|love|have|take|want|get|go with|do|need|order|buy|grab)"
    r"(?: to (?:order|have|get|add|try|buy|grab))?\b",
    r"\b(?:i|we) (?:want|need|wanna|would like)(?: to (?:order|have|get|add|try|buy|grab))?\b",
    r"\b(?:im|i am|were|we are) (?:gonna|going to) (?:have|get|order|take|need)\b",
    r"\b(?:give|get|bring|grab|make|fetch|order|buy|pour) (?:me|us)\b",
    r"\blet me (?:get|have|order|grab|try|add)\b",
    r"\blets (?:get|have|order|add|do)\b",
    r"\bim (?:looking for|after)\b",
    r"\b(?:do you have|you got|got any)\b",
    rf"\b(?:to|in|into|on(?:to)?|off|from|out of|in to) {_CART}\b",
    r"(?:^|(?<=, )|(?<=\band )|(?<=\balso ))(?:please )?"
    r"(?:add|order|buy|get|grab|put|throw|include|also)\b(?: in)?",
    r"\b(?:for me|for here|as well|too|instead)\b",
)
"""Phrases around items that only say "I want this"; dropped before items are read."""


@lru_cache(maxsize=1)
def _add_cues() -> re.Pattern[str]:
    """All add cues as one pattern."""
    return re.compile("|".join(f"(?:{p})" for p in ADD_CUES))


def strip_add_cues(tokens: Sequence[str]) -> list[str]:
    """The tokens without "can I get", "I'd like", "add ... to my cart" and the like."""
    text = " ".join(tokens)
    for _ in range(3):
        stripped = _add_cues().sub(" ", text)
        stripped = " ".join(stripped.split())
        if stripped == text:
            break
        text = stripped
    return text.split()
