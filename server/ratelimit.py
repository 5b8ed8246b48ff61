"""Per-customer limits for the voice API: a token bucket of turns, and a cap on open streams.

In-process state: with several workers each keeps its own buckets, so the effective limit is
`workers` times the configured one (documented in docs/voice.md). A shared store (Redis) can
replace the buckets behind the same two methods when that matters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from catalog.errors import VoiceCartError

Clock = Callable[[], float]


class RateLimited(VoiceCartError):  # noqa: N818 (named for what happened, as orders/errors.py)
    """Too many turns (or open streams) for one customer; `retry_after` says when to retry."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: `burst` turns at once, refilled at `per_minute` a minute."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        clock: Clock = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be positive and burst at least 1")
        self.per_minute = per_minute
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[int | str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: int | str, cost: float = 1.0) -> float:
        """Spend `cost` tokens; returns 0 when allowed, else the seconds until it would be."""
        now = self._clock()
        rate = self.per_minute / 60.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max_keys:
                    self._forget_full(now, rate)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / rate

    def check(self, key: int | str, cost: float = 1.0) -> None:
        """Spend `cost` tokens or raise RateLimited."""
        wait = self.take(key, cost)
        if wait > 0:
            raise RateLimited(
                f"too many turns: the limit is {self.per_minute:g} a minute "
                f"(bursts of {self.burst}); retry in {wait:.1f} s",
                retry_after=wait,
            )

    def _forget_full(self, now: float, rate: float) -> None:
        """Drop buckets that have refilled completely: they hold no information."""
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()


class StreamSlots:
    """At most `per_key` open streams per customer."""

    def __init__(self, *, per_key: int) -> None:
        if per_key < 1:
            raise ValueError("per_key must be at least 1")
        self.per_key = per_key
        self._open: dict[int | str, int] = {}
        self._lock = threading.Lock()

    def open_count(self, key: int | str) -> int:
        """How many streams the key has open."""
        with self._lock:
            return self._open.get(key, 0)

    @contextmanager
    def hold(self, key: int | str) -> Iterator[None]:
        """Hold one slot for the duration; RateLimited when all are taken."""
        with self._lock:
            count = self._open.get(key, 0)
            if count >= self.per_key:
                raise RateLimited(
                    f"too many open voice streams: at most {self.per_key} per customer",
                    retry_after=1.0,
                )
            self._open[key] = count + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._open.get(key, 1) - 1
                if left > 0:
                    self._open[key] = left
                else:
                    self._open.pop(key, None)
