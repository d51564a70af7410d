"""A hand-written MetricsSource for unit tests: canned series per query, recorded calls, failures.

source = FakeMetricsSource({"errors{v2}": [make_series({"version": "v2"}, [0.1, 0.3], start=t0)]})
source.answer("latency", lambda call: [...])          # computed from the call's window
source.fail_next(MetricsUnavailable("fake", "latency", "down"))  # the next call raises it
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shepherd.domain.watch import MetricsError, Point, Series


@dataclass(frozen=True)
class MetricsCall:
    query: str
    start: datetime
    end: datetime
    step_seconds: float


# A canned answer: the series themselves, a function of the call, or an error raised every time.
Answer = Sequence[Series] | Callable[[MetricsCall], Sequence[Series]] | BaseException


class FakeMetricsSource:
    def __init__(
        self,
        answers: Mapping[str, Answer] | None = None,
        *,
        default: Answer | None = None,
        name: str = "fake",
    ) -> None:
        self.name = name
        self.calls: list[MetricsCall] = []
        self._answers: dict[str, Answer] = dict(answers or {})
        self._default = default
        self._failures: list[tuple[str | None, BaseException]] = []
        self._lock = threading.Lock()

    def answer(self, query: str, result: Answer) -> None:
        with self._lock:
            self._answers[query] = result

    def fail_next(self, error: BaseException, *, count: int = 1, query: str | None = None) -> None:
        """The next `count` calls (for `query`, or any query) raise `error` instead of answering."""
        with self._lock:
            self._failures += [(query, error)] * count

    def queries(self) -> list[str]:
        return [call.query for call in self.calls]

    def query_range(self, query: str, *, start: datetime, end: datetime, step_seconds: float) -> list[Series]:
        call = MetricsCall(query, start, end, step_seconds)
        with self._lock:
            self.calls.append(call)
            failure = next((f for f in self._failures if f[0] in (None, query)), None)
            if failure is not None:
                self._failures.remove(failure)
            answer = self._answers.get(query, self._default)
        if failure is not None:
            raise failure[1]
        if answer is None:
            # A typo in a test's query should fail loudly, not look like "no data".
            raise MetricsError(self.name, query, f"no canned answer (known: {sorted(self._answers)})")
        if isinstance(answer, BaseException):
            raise answer
        return list(answer(call) if callable(answer) else answer)


def make_series(
    labels: Mapping[str, str],
    values: Iterable[float],
    *,
    start: datetime | float,
    step: float = 60.0,
    weights: Iterable[float | None] | None = None,
) -> Series:
    """A series of evenly spaced points from `start` (a datetime or epoch seconds)."""
    t0 = start.timestamp() if isinstance(start, datetime) else float(start)
    values = list(values)
    ws = list(weights) if weights is not None else [None] * len(values)
    points = tuple(Point(t=t0 + i * step, v=v, w=w) for i, (v, w) in enumerate(zip(values, ws, strict=True)))
    return Series(labels=dict(labels), points=points)
