"""The STT lane: blocking speech work for many connections on a few threads, best first.

Two cores cannot decode partials for eight shoppers and still answer the one who stopped
talking, so all decoding goes through one Lane: a small thread pool with a priority queue.
Finals go first, then speculative work; a partial only runs when the lane is idle, and is
skipped otherwise. A queued job can be promoted (a draft that became the answer) or dropped.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Priority(IntEnum):
    """Lower runs first."""

    FINAL = 0
    SPECULATIVE = 1
    PARTIAL = 2


@dataclass
class LaneStats:
    """Counters of a lane's work, for benchmarks and logs."""

    finals: int = 0
    speculative: int = 0
    partials: int = 0
    partials_skipped: int = 0
    busy_seconds: float = 0.0


@dataclass(eq=False)
class Job(Generic[T]):
    """One unit of blocking work in the lane; await `future` for its result."""

    priority: Priority
    seq: int
    fn: Callable[[], T]
    future: asyncio.Future[T]
    started: bool = False

    def __lt__(self, other: Job[T]) -> bool:
        return (self.priority, self.seq) < (other.priority, other.seq)


class Lane:
    """Blocking speech work on at most `workers` threads, best priority first.

    Must be used from one event loop (the server's); jobs run in the lane's own threads.
    """

    def __init__(self, *, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("a lane needs at least one worker")
        self.workers = workers
        self.stats = LaneStats()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stt")
        self._queue: list[Job[object]] = []
        self._running = 0
        self._seq = itertools.count()

    @property
    def idle(self) -> bool:
        """Nothing is running or waiting."""
        return self._running == 0 and not any(not j.future.done() for j in self._queue)

    def submit(self, fn: Callable[[], T], *, priority: Priority) -> Job[T]:
        """Queue `fn`; it runs when a worker is free and nothing better waits."""
        loop = asyncio.get_running_loop()
        job: Job[T] = Job(priority, next(self._seq), fn, loop.create_future())
        heapq.heappush(self._queue, job)  # type: ignore[misc]
        self._pump(loop)
        return job

    def try_idle(self, fn: Callable[[], T]) -> Job[T] | None:
        """Run `fn` now if the lane is idle (a partial); None means it was skipped."""
        if not self.idle or self._running >= self.workers:
            self.stats.partials_skipped += 1
            return None
        self.stats.partials += 1
        return self.submit(fn, priority=Priority.PARTIAL)

    def promote(self, job: Job[T], priority: Priority) -> None:
        """Raise a queued job's priority (a speculative final that became the final)."""
        if not job.started and priority < job.priority:
            job.priority = priority
            heapq.heapify(self._queue)

    def cancel(self, job: Job[T]) -> None:
        """Drop a job that has not started; a running one finishes and its result is ignored."""
        if not job.started:
            job.future.cancel()

    def close(self) -> None:
        """Stop the threads (after the running jobs finish)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._queue and self._running < self.workers:
            job = heapq.heappop(self._queue)
            if job.future.done():
                continue
            job.started = True
            self._running += 1
            self._count(job)
            started = time.perf_counter()
            work = self._executor.submit(job.fn)
            work.add_done_callback(partial(self._finished_in_thread, loop, job, started))

    def _finished_in_thread(
        self,
        loop: asyncio.AbstractEventLoop,
        job: Job[object],
        started: float,
        done: Future[object],
    ) -> None:
        if loop.is_closed():
            return  # the server is shutting down; nobody waits for this result
        try:
            loop.call_soon_threadsafe(self._finish, loop, job, done, started)
        except RuntimeError:
            logger.debug("the event loop closed while a decode finished")

    def _count(self, job: Job[object]) -> None:
        if job.priority is Priority.FINAL:
            self.stats.finals += 1
        elif job.priority is Priority.SPECULATIVE:
            self.stats.speculative += 1

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        job: Job[object],
        done: Future[object],
        started: float,
    ) -> None:
        self._running -= 1
        self.stats.busy_seconds += time.perf_counter() - started
        if not job.future.done():
            error = done.exception()
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(done.result())
        self._pump(loop)
