"""Waiting on several slow calls at once: the metric queries of one watch look.

A look of three checks makes up to a dozen queries (new and old side, the week-ago pair, their
request volumes). One after the other, a backend answering in 10 ms makes a look take 120 ms and
a worker thread keep only ~250 watches at 30 s; in parallel it takes about one query's time.
The calls only wait on the network (the judge runs after), so threads are the right tool, and
the database is never touched from them (SQLite's one connection stays on the worker thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")

# Calls that typically take less than this run in turn on the calling thread: handing them to
# threads costs more than it saves (measured: ~2 ms a look of 12 instant calls, from contention
# for the interpreter lock), while any real network round trip is longer.
INLINE_BELOW = 0.002
SMOOTHING = 0.1  # weight of the newest call in the running typical duration


class Parallel(Protocol):
    def all(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Every call's result, in order; the first call's exception (in order) if any raised."""
        ...


class InOrder:
    """One call after the other, on the calling thread."""

    def all(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        return [call() for call in calls]


class ThreadPool:
    """Calls run on a bounded pool of threads, shared by every worker thread of the process."""

    def __init__(self, *, threads: int, inline_below: float = INLINE_BELOW) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="shepherd-query")
        self._inline_below = inline_below
        self.typical = inline_below  # seconds a call takes, smoothed; starts undecided: in parallel

    def all(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        timed = [self._timed(call) for call in calls]
        if len(calls) <= 1 or self.typical < self._inline_below:
            return [call() for call in timed]
        futures = [self._pool.submit(call) for call in timed[1:]]
        # The caller takes the first call itself instead of idling: one thread hand-off less.
        head: list[T] = []
        error: BaseException | None = None
        try:
            head.append(timed[0]())
        except BaseException as exc:  # re-raised below, once the others have ended
            error = exc
        # Wait for all before raising, so no query of this look is still running afterwards.
        return head + _results(futures, error)

    def _timed(self, call: Callable[[], T]) -> Callable[[], T]:
        def timed() -> T:
            started = time.perf_counter()
            try:
                return call()
            finally:
                took = time.perf_counter() - started
                self.typical += SMOOTHING * (took - self.typical)

        return timed

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _results(futures: Sequence[Future[T]], error: BaseException | None) -> list[T]:
    errors = [error, *(f.exception() for f in futures)]
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first
    return [f.result() for f in futures]
