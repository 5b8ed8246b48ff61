"""The root of VoiceCart's error tree, and the catalog's own errors.

The root lives here, at the bottom layer, so that every package can extend one tree
(orders/errors.py re-exports it and adds the order service's errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class VoiceCartError(Exception):
    """Base of every error VoiceCart raises on purpose; `detail` is safe to show a caller."""

    status_code: int = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Problem:
    """One validation problem: where (file, line or row, field) and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}"


class CatalogError(VoiceCartError):
    """A catalog file could not be loaded; `problems` lists every problem found."""

    status_code = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
