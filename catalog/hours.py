"""Opening hours in catalog files: "07:00-20:00" ranges per day, plus daily/weekdays/weekends."""

from __future__ import annotations

import itertools
import re
from datetime import time

from catalog.fields import FieldPath, Reader, describe, suggest
from catalog.model import WEEKDAYS, OpeningHours

DAY_GROUPS: dict[str, tuple[str, ...]] = {
    "daily": WEEKDAYS,
    "weekdays": WEEKDAYS[:5],
    "weekends": WEEKDAYS[5:],
}
"""Shorthand keys; a later, narrower key wins: daily < weekdays/weekends < a single day."""

HOURS_KEYS = (*DAY_GROUPS, *WEEKDAYS)
END_OF_DAY = time.max
"""A range that ends at midnight ("24:00", or the evening part of an overnight range)."""

_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")

Range = tuple[time, time]


def _clock(hour: int, minute: int, *, end: bool) -> time | None:
    """A wall-clock time; 24:00 is allowed as a closing time only."""
    if end and (hour, minute) == (24, 0):
        return END_OF_DAY
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_ranges(text: str) -> list[Range] | str:
    """Parse "07:00-12:00, 13:00-19:00" or "closed"; an error message (str) when invalid.

    An overnight range such as "18:00-02:00" comes back as (18:00, 02:00) with end < start;
    the caller splits it over two days.
    """
    if text.strip().lower() == "closed":
        return []
    ranges: list[Range] = []
    for part in text.split(","):
        found = _RANGE.fullmatch(part.strip())
        if not found:
            return f'{part.strip()!r} is not a time range like "07:00-20:00" (or "closed")'
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        start, end = _clock(h1, m1, end=False), _clock(h2, m2, end=True)
        if start is None or end is None:
            return f"{part.strip()!r} has an impossible time (use 00:00 to 24:00)"
        if start == end:
            return f"{part.strip()!r} opens and closes at the same time (all day is 00:00-24:00)"
        ranges.append((start, end))
    return ranges


def parse_hours(value: object, reader: Reader, path: FieldPath) -> OpeningHours:
    """Read a store's `hours`; missing means always open. Problems go to the reader."""
    if value is None:
        return OpeningHours(always_open=True)
    entries: dict[str, object]
    if isinstance(value, str):
        entries = {"daily": value}
        keys_path: dict[str, FieldPath] = {"daily": path}
    elif isinstance(value, dict):
        entries = {}
        keys_path = {}
        for key, item in value.items():
            if key not in HOURS_KEYS:
                hint = suggest(str(key), HOURS_KEYS)
                reader.add(
                    (*path, str(key)), f"unknown day{hint}; use mon..sun, daily, weekdays, weekends"
                )
                continue
            entries[key] = item
            keys_path[key] = (*path, key)
    else:
        reader.add(
            path, f'must be a mapping like {{mon: "07:00-20:00"}} or a text, got {describe(value)}'
        )
        return OpeningHours(always_open=True)
    days: dict[str, list[Range]] = {}
    source_of: dict[str, FieldPath] = {}
    ordered = sorted(entries, key=lambda k: (k not in DAY_GROUPS, k != "daily"))
    for key in ordered:
        ranges = _ranges_of(entries[key], reader, keys_path[key])
        for day in DAY_GROUPS.get(key, (key,)):
            days[day] = list(ranges)
            source_of[day] = keys_path[key]
    return OpeningHours(days=_spill_overnight(days, source_of, reader), always_open=False)


def _ranges_of(value: object, reader: Reader, path: FieldPath) -> list[Range]:
    """One day's value: a text of ranges, "closed", or false (YAML reads an unquoted off/no so)."""
    if value is False:
        return []
    if not isinstance(value, str):
        reader.add(path, f'must be a text like "07:00-20:00" or "closed", got {describe(value)}')
        return []
    ranges = parse_ranges(value)
    if isinstance(ranges, str):
        reader.add(path, ranges)
        return []
    return ranges


def _spill_overnight(
    days: dict[str, list[Range]], source_of: dict[str, FieldPath], reader: Reader
) -> dict[str, tuple[Range, ...]]:
    """Split ranges that close after midnight across two days, then check for overlaps."""
    result: dict[str, list[Range]] = {day: [] for day in WEEKDAYS}
    spilled_from: dict[str, FieldPath] = {}
    for index, day in enumerate(WEEKDAYS):
        for start, end in days.get(day, []):
            if end > start:
                result[day].append((start, end))
                continue
            following = WEEKDAYS[(index + 1) % 7]
            result[day].append((start, END_OF_DAY))
            result[following].append((time(0), end))
            spilled_from[following] = source_of[day]
    for day, ranges in result.items():
        ranges.sort()
        for (_, end), (start, _) in itertools.pairwise(ranges):
            if start < end:
                where = source_of.get(day) or spilled_from[day]
                reader.add(
                    where, f"{day}: opening ranges overlap ({start:%H:%M} is before {end:%H:%M})"
                )
                break
    return {day: tuple(ranges) for day, ranges in result.items() if ranges}
