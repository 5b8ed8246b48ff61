"""Delivery outcomes written behind the dispatcher, so the next round need not wait for them.

Recording an outcome is a write; on SQLite it waits for the database's one write lock behind
the request threads (tens of milliseconds under load), and a dispatcher that waited for it
held every order placed meanwhile until its next round. The OutcomeWriter takes the outcomes
of a round and writes them on a thread of its own, several rounds in one transaction when
they queue up. Until then their delivery ids are `in_flight`: the dispatcher leaves them out
of its next reads, so nothing is delivered twice by this process. The writer lingers a
little after the first outcome of a batch, so that one write lock covers many rounds.
If the process dies first, the rows are still pending and are delivered again after the
restart (at least once, as before); if the write fails, the ids leave `in_flight` and the
rows are delivered again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from orders.outbox import Claimed

logger = logging.getLogger(__name__)

T = TypeVar("T")


class OutcomeWriter(Generic[T]):
    """Writes `(claimed, outcome)` batches with `write` on its own thread."""

    def __init__(
        self,
        write: Callable[[list[tuple[Claimed, T]]], None],
        *,
        name: str,
        linger: float = 0.05,
    ) -> None:
        self._write = write
        self._linger = linger
        self._stop = threading.Event()
        self._queue: queue.SimpleQueue[list[tuple[Claimed, T]] | None] = queue.SimpleQueue()
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"{name}-outcomes", daemon=True)
        self._thread.start()

    def in_flight(self) -> frozenset[int]:
        """Delivery ids delivered but not yet recorded."""
        with self._lock:
            return frozenset(self._in_flight)

    def submit(self, results: Sequence[tuple[Claimed, T]]) -> None:
        """Queue one round's outcomes; their ids are in flight until written."""
        if not results:
            return
        with self._lock:
            self._in_flight.update(claimed.id for claimed, _ in results)
        self._queue.put(list(results))

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread."""
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            first = self._queue.get()  # None only wakes a closing writer
            if first is not None:
                self._stop.wait(self._linger)  # let the next rounds join this write
            parts = [first]
            while not self._queue.empty():
                parts.append(self._queue.get())
            batch = [item for part in parts if part for item in part]
            if batch:
                self._write_batch(batch)

    def _write_batch(self, batch: list[tuple[Claimed, T]]) -> None:
        try:
            self._write(batch)
        except Exception:  # the rows stay pending: released here, delivered again
            logger.exception("recording %d delivery outcomes failed", len(batch))
        finally:
            with self._lock:
                self._in_flight.difference_update(claimed.id for claimed, _ in batch)
