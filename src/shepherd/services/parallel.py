"""Waiting on several slow calls at once: the metric queries of one watch look.

A look of three checks makes up to a dozen queries (new and old side, the week-ago pair, their
request volumes). One after the other, a backend answering in 10 ms makes a look take 120 ms and
a worker thread keep only ~250 watches at 30 s; in parallel it takes about one query's time.
The calls only wait on the network (the judge runs after), so threads are the right tool, and
the database is never touched from them (SQLite's one connection stays on the worker thread).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")


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

    def __init__(self, *, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="shepherd-query")

    def all(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        if len(calls) <= 1:
            return [call() for call in calls]
        futures = [self._pool.submit(call) for call in calls]
        # Wait for all before raising, so no query of this look is still running afterwards.
        errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first
        return [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
