"""The outcome writer: ids in flight until written, queued rounds in one write, failures let go."""

from __future__ import annotations

import threading

import pytest

from orders.outbox import Claimed
from orders.outcome_writer import OutcomeWriter


def claimed(delivery_id: int) -> Claimed:
    return Claimed(delivery_id, f"n{delivery_id}", "app", "1", 1)


class SlowWrites:
    """A write function that waits for `release` and remembers each batch."""

    def __init__(self, *, fail: bool = False) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.batches: list[list[int]] = []
        self.fail = fail

    def __call__(self, batch: list[tuple[Claimed, str]]) -> None:
        self.started.set()
        assert self.release.wait(10)
        self.batches.append([c.id for c, _ in batch])
        if self.fail:
            raise RuntimeError("database gone")


def test_ids_stay_in_flight_until_written_and_queued_rounds_share_a_write() -> None:
    writes = SlowWrites()
    writer: OutcomeWriter[str] = OutcomeWriter(writes, name="t", linger=0)
    writer.submit([(claimed(1), "ok")])
    assert writes.started.wait(5)
    writer.submit([(claimed(2), "ok")])
    writer.submit([(claimed(3), "ok"), (claimed(4), "ok")])
    assert writer.in_flight() == {1, 2, 3, 4}
    writes.release.set()
    writer.close()
    assert writes.batches == [[1], [2, 3, 4]]
    assert writer.in_flight() == frozenset()


def test_close_writes_what_is_queued() -> None:
    writes = SlowWrites()
    writes.release.set()
    writer: OutcomeWriter[str] = OutcomeWriter(writes, name="t", linger=5)
    writer.submit([(claimed(7), "ok")])
    writer.close()  # does not wait out the linger
    assert writes.batches == [[7]]


def test_a_failed_write_lets_the_ids_go_so_they_are_delivered_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writes = SlowWrites(fail=True)
    writes.release.set()
    writer: OutcomeWriter[str] = OutcomeWriter(writes, name="t", linger=0)
    writer.submit([(claimed(5), "ok")])
    writer.close()
    assert writer.in_flight() == frozenset()
    assert "recording 1 delivery outcomes failed" in caplog.text


def test_an_empty_round_is_not_queued() -> None:
    writes = SlowWrites()
    writer: OutcomeWriter[str] = OutcomeWriter(writes, name="t", linger=0)
    writer.submit([])
    writer.close()
    assert writes.batches == []
