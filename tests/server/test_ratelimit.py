"""The per-customer token bucket and the cap on open streams (pure logic, a hand-moved clock)."""

from __future__ import annotations

import pytest

from server.ratelimit import RateLimited, RateLimiter, StreamSlots
from tests.server.conftest import Ticks


def test_a_burst_then_the_refill_rate() -> None:
    ticks = Ticks()
    limiter = RateLimiter(per_minute=6, burst=3, clock=ticks)
    assert [limiter.take("ada") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("ada") == pytest.approx(10.0)
    ticks.now += 5
    assert limiter.take("ada") == pytest.approx(5.0)
    ticks.now += 5
    assert limiter.take("ada") == 0.0
    assert limiter.take("ada") == pytest.approx(10.0)


def test_customers_have_their_own_buckets() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, clock=Ticks())
    assert limiter.take(1) == 0.0
    assert limiter.take(1) > 0
    assert limiter.take(2) == 0.0


def test_the_bucket_never_holds_more_than_the_burst() -> None:
    ticks = Ticks()
    limiter = RateLimiter(per_minute=60, burst=2, clock=ticks)
    ticks.now += 3600
    assert [limiter.take("x") == 0.0 for _ in range(3)] == [True, True, False]


def test_check_raises_with_the_wait() -> None:
    limiter = RateLimiter(per_minute=2, burst=1, clock=Ticks())
    limiter.check("bob")
    with pytest.raises(RateLimited) as refused:
        limiter.check("bob")
    assert refused.value.status_code == 429
    assert refused.value.retry_after == pytest.approx(30.0)
    assert "2 a minute" in refused.value.detail


def test_full_buckets_are_forgotten_when_there_are_too_many() -> None:
    ticks = Ticks()
    limiter = RateLimiter(per_minute=60, burst=1, clock=ticks, max_keys=2)
    limiter.take("a")
    limiter.take("b")
    ticks.now += 10  # both refilled: they carry no information any more
    limiter.take("c")
    assert set(limiter._buckets) == {"c"}


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(per_minute=0, burst=1)
    with pytest.raises(ValueError, match="per_key"):
        StreamSlots(per_key=0)


def test_stream_slots_are_held_and_given_back() -> None:
    slots = StreamSlots(per_key=2)
    with slots.hold(7), slots.hold(7):
        assert slots.open_count(7) == 2
        with pytest.raises(RateLimited, match="at most 2"), slots.hold(7):
            pass
        with slots.hold(8):
            assert slots.open_count(8) == 1
    assert slots.open_count(7) == 0
    with pytest.raises(RuntimeError), slots.hold(7):
        raise RuntimeError("the stream failed")
    assert slots.open_count(7) == 0
