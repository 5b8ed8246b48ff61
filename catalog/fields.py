"""Typed reading of parsed catalog data, collecting every problem with its file, line, field."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping

from catalog.errors import Problem

FieldPath = tuple[str | int, ...]
"""Where a value sits in the document: ("products", 12, "options") is products[12].options."""

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
"""Ids are one word: letters, digits and . _ : - (they end up in URLs and Alexa slot ids)."""


def render_path(path: FieldPath) -> str:
    """The path as a field name: products[12].options, or "(top level)" for the root."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def describe(value: object) -> str:
    """A short, human description of a parsed value for error messages."""
    if value is None:
        text = "nothing"
    elif isinstance(value, bool):
        text = f"{str(value).lower()} (a yes/no value)"
    elif isinstance(value, int | float):
        text = f"the number {value}"
    elif isinstance(value, str):
        text = f"the text {value!r}"
    elif isinstance(value, Mapping):
        text = "a mapping"
    elif isinstance(value, list | tuple):
        text = "a list"
    else:
        text = type(value).__name__
    return text


def by_line(problem: Problem) -> tuple[bool, int]:
    """Sort key that puts problems in file order (problems without a line last)."""
    return (problem.line is None, problem.line or 0)


def suggest(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close candidate exists, else ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Reader:
    """Reads fields out of parsed YAML/JSON data, recording a Problem for each bad value.

    Getters return a usable fallback after recording a problem, so that reading goes on and
    every problem in the file is found; callers must not build a result when `problems` is set.
    """

    def __init__(self, source: str, lines: Mapping[FieldPath, int] | None = None) -> None:
        self.source = source
        self.lines: Mapping[FieldPath, int] = lines or {}
        self.problems: list[Problem] = []

    def line(self, path: FieldPath) -> int | None:
        """The line of the nearest node on the path that has a known line, or None."""
        while path not in self.lines:
            if not path:
                return None
            path = path[:-1]
        return self.lines[path]

    def add(self, path: FieldPath, message: str) -> None:
        """Record one problem at this field."""
        self.problems.append(Problem(self.source, self.line(path), render_path(path), message))

    def mapping(
        self,
        value: object,
        path: FieldPath,
        *,
        allowed: Collection[str],
        required: Collection[str] = (),
    ) -> dict[str, object] | None:
        """The value as a mapping; wrong type, unknown keys and missing keys are problems."""
        if not isinstance(value, dict):
            self.add(path, f"must be a mapping (key: value pairs), got {describe(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.add(path, f"key {key!r} must be text")
            elif key not in allowed:
                hint = suggest(key, allowed)
                if not hint and value[key] is None:
                    hint = " (a comma inside unquoted text? put the text in quotes)"
                self.add((*path, key), f"unknown field{hint}; allowed: {', '.join(allowed)}")
        for key in required:
            if value.get(key) is None:
                self.add((*path, key), "missing required field")
        return value

    def items(self, obj: Mapping[str, object], path: FieldPath, key: str) -> list[object]:
        """A list field (missing = empty list)."""
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add((*path, key), f"must be a list, got {describe(value)}")
            return []
        return value

    def text(self, obj: Mapping[str, object], path: FieldPath, key: str, default: str = "") -> str:
        """A text field; missing gives the default (required fields are checked by mapping)."""
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.add((*path, key), f"must be text, got {describe(value)} (quote it)")
            return default
        if not value.strip():
            self.add((*path, key), "must not be empty")
        return value.strip()

    def ident(self, value: object, path: FieldPath) -> str | None:
        """An id: text or a whole number, one word; None (and a problem) otherwise."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.add(path, f"must be an id (one word), got {describe(value)}")
            return None
        if not ID_PATTERN.fullmatch(value):
            self.add(path, f"{value!r} is not a valid id: use letters, digits and . _ : - only")
            return None
        return value

    def integer(
        self,
        obj: Mapping[str, object],
        path: FieldPath,
        key: str,
        *,
        default: int,
        minimum: int | None = None,
        unit: str = "",
    ) -> int:
        """A whole-number field, optionally with a lower bound."""
        value = obj.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            hint = " (prices are whole cents: 450 means 4.50)" if unit == "cents" else ""
            self.add((*path, key), f"must be a whole number, got {describe(value)}{hint}")
            return default
        if minimum is not None and value < minimum:
            self.add((*path, key), f"must be at least {minimum}, got {value}")
        return value

    def boolean(
        self, obj: Mapping[str, object], path: FieldPath, key: str, *, default: bool
    ) -> bool:
        """A true/false field."""
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add((*path, key), f"must be true or false, got {describe(value)}")
            return default
        return value

    def texts(self, obj: Mapping[str, object], path: FieldPath, key: str) -> tuple[str, ...]:
        """A list of non-empty texts (aliases, tags); numbers are taken as their text."""
        result: list[str] = []
        for index, item in enumerate(self.items(obj, path, key)):
            number = isinstance(item, int | float) and not isinstance(item, bool)
            text = str(item) if number else item
            if not isinstance(text, str) or not text.strip():
                self.add((*path, key, index), f"must be non-empty text, got {describe(item)}")
                continue
            result.append(text.strip())
        return tuple(result)
