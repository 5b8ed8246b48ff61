"""Opening hours: ranges, shorthands, overnight ranges and their problems."""

from __future__ import annotations

from datetime import time

import pytest

from catalog.fields import Reader
from catalog.hours import END_OF_DAY, parse_hours, parse_ranges
from catalog.model import OpeningHours


def read(value: object) -> tuple[OpeningHours, list[str]]:
    """Parse `hours` and return them with the problems as "field: message" texts."""
    reader = Reader("hours.yaml")
    hours = parse_hours(value, reader, ("store", "hours"))
    return hours, [f"{p.field}: {p.message}" for p in reader.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("closed", []),
        ("Closed ", []),
        ("07:00-20:00", [(time(7), time(20))]),
        ("7:30 – 9:00", [(time(7, 30), time(9))]),
        ("07:00-12:00, 13:00-19:00", [(time(7), time(12)), (time(13), time(19))]),
        ("06:00-24:00", [(time(6), END_OF_DAY)]),
        ("18:00-02:00", [(time(18), time(2))]),
    ],
)
def test_parse_ranges(text: str, expected: list[tuple[time, time]]) -> None:
    assert parse_ranges(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("7am-8pm", "is not a time range"),
        ("07:00", "is not a time range"),
        ("07:00-20:00,", "is not a time range"),
        ("25:00-26:00", "impossible time"),
        ("24:00-02:00", "impossible time"),
        ("08:60-09:00", "impossible time"),
        ("08:00-08:00", "opens and closes at the same time"),
    ],
)
def test_parse_ranges_rejects(text: str, fragment: str) -> None:
    message = parse_ranges(text)
    assert isinstance(message, str)
    assert fragment in message


def test_no_hours_means_always_open() -> None:
    hours, problems = read(None)
    assert hours.always_open
    assert problems == []


def test_a_text_applies_to_every_day() -> None:
    hours, problems = read("08:00-17:00")
    assert problems == []
    assert not hours.always_open
    assert all(hours.ranges(day) == ((time(8), time(17)),) for day in range(7))


def test_narrower_keys_override_wider_ones_whatever_their_order() -> None:
    hours, problems = read(
        {"sun": "closed", "mon": "09:00-12:00", "weekends": "10:00-16:00", "daily": "07:00-20:00"}
    )
    assert problems == []
    assert hours.ranges(0) == ((time(9), time(12)),)
    assert hours.ranges(1) == ((time(7), time(20)),)
    assert hours.ranges(5) == ((time(10), time(16)),)
    assert hours.ranges(6) == ()


def test_false_is_closed_because_yaml_reads_off_as_false() -> None:
    hours, problems = read({"daily": "07:00-20:00", "sun": False})
    assert problems == []
    assert hours.ranges(6) == ()


def test_overnight_range_spills_into_the_next_day_and_sunday_into_monday() -> None:
    hours, problems = read({"daily": "10:00-18:00", "fri": "18:00-02:00", "sun": "20:00-01:00"})
    assert problems == []
    assert hours.ranges(4) == ((time(18), END_OF_DAY),)
    assert hours.ranges(5) == ((time(0), time(2)), (time(10), time(18)))
    assert hours.ranges(0) == ((time(0), time(1)), (time(10), time(18)))


def test_a_spill_that_overlaps_the_next_day_is_a_problem() -> None:
    _, problems = read({"sat": "18:00-03:00", "sun": "02:00-10:00"})
    assert problems == ["store.hours.sun: sun: opening ranges overlap (02:00 is before 03:00)"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, "store.hours: must be a mapping like"),
        ({"mon": 800}, "store.hours.mon: must be a text like"),
        ({"mon": True}, "store.hours.mon: must be a text like"),
        ({"monday": "07:00-08:00"}, "store.hours.monday: unknown day (did you mean 'mon'?)"),
        ({"daily": "9-5"}, "store.hours.daily: '9-5' is not a time range"),
    ],
)
def test_bad_hours_are_problems(value: object, expected: str) -> None:
    _, problems = read(value)
    assert len(problems) == 1
    assert problems[0].startswith(expected)
