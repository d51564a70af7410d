"""A look's metric queries go out together, and one failing query spoils only its own check."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shepherd.domain.config import Check
from shepherd.domain.watch import MetricsError, Point, Series, Window
from shepherd.services.parallel import InOrder, ThreadPool
from shepherd.services.watch_queries import CheckQueries, Side, fetch_all

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
NEW, OLD = Window(T0, T0 + timedelta(minutes=5)), Window(T0 - timedelta(minutes=5), T0)


@pytest.fixture
def pool() -> Iterator[ThreadPool]:
    pool = ThreadPool(threads=8, inline_below=0.0)  # always in parallel, however fast the calls
    yield pool
    pool.close()


class BarrierSource:
    """Answers only once `parties` queries are in flight at the same time (else times out)."""

    def __init__(self, parties: int, *, failing: str = "") -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.failing = failing
        self.queries: list[str] = []
        self._lock = threading.Lock()

    def query_range(self, query: str, *, start: datetime, end: datetime, step_seconds: float) -> list[Series]:
        with self._lock:
            self.queries.append(query)
        self.barrier.wait()  # BrokenBarrierError, not MetricsError, if the queries came one by one
        if self.failing and self.failing in query:
            raise MetricsError("Prometheus at http://prom:9090", query, "bad_data: parse error")
        value = 2.0 if 'version="v2"' in query else 1.0
        return [Series({}, tuple(Point(start.timestamp() + 30 * i, value * (i + 1)) for i in range(3)))]


def plan(source: BarrierSource, name: str, *, weighted: bool = False) -> CheckQueries:
    check = Check(
        name=name,
        query=f'{name}{{version="{{version}}"}}',
        weight_query=f'{name}_requests{{version="{{version}}"}}' if weighted else None,
        kind="ratio" if weighted else "latency",
    )
    values = {"service": "checkout", "environment": "production", "stable_version": "v1", "sha": "abc"}
    return CheckQueries(check, source, values, (Side("v2", NEW), Side("v1", OLD)), 30.0, "canary")


def test_every_query_of_a_look_is_in_flight_at_once(pool: ThreadPool) -> None:
    source = BarrierSource(6)  # latency: 2 queries; weighted ratio: 4
    latency, errors = fetch_all(pool, [plan(source, "latency"), plan(source, "errors", weighted=True)])
    assert not isinstance(latency, MetricsError) and not isinstance(errors, MetricsError)
    assert [p.v for p in latency[0]] == [2.0, 4.0, 6.0] and [p.v for p in latency[1]] == [1.0, 2.0, 3.0]
    # The volume query's rate × the step is each point's weight.
    assert [p.w for p in errors[0]] == [60.0, 120.0, 180.0]
    assert len(source.queries) == 6


def test_a_failing_query_spoils_only_its_own_check(pool: ThreadPool) -> None:
    source = BarrierSource(4, failing="broken")
    ok, broken = fetch_all(pool, [plan(source, "latency"), plan(source, "broken")])
    assert isinstance(broken, MetricsError) and "broken" in broken.query
    assert not isinstance(ok, MetricsError) and len(ok) == 2


def test_pool_keeps_order_and_raises_the_first_error_after_all_calls_ended(pool: ThreadPool) -> None:
    assert pool.all([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]
    ended: list[str] = []
    barrier = threading.Barrier(3, timeout=10)

    def call(name: str, error: Exception | None) -> str:
        barrier.wait()
        ended.append(name)
        if error is not None:
            raise error
        return name

    with pytest.raises(KeyError, match="first"):
        pool.all(
            [
                lambda: call("a", KeyError("first")),
                lambda: call("b", ValueError("second")),
                lambda: call("c", None),
            ]
        )
    assert sorted(ended) == ["a", "b", "c"]  # nothing of the look still running afterwards


def test_the_pool_runs_instant_calls_inline_and_waiting_ones_in_parallel() -> None:
    pool = ThreadPool(threads=4)
    try:
        here = threading.get_ident()
        pool.all([lambda: None] * 3)  # undecided at first: in parallel, and it learns they are instant
        for _ in range(3):  # instant calls: threads would cost more than they save
            assert pool.all([threading.get_ident] * 3) == [here] * 3
        barrier = threading.Barrier(3, timeout=10)

        def waits() -> int:
            time.sleep(0.005)  # a network round trip: longer than the inline limit
            return threading.get_ident()

        for _ in range(40):  # its smoothed typical duration climbs past the inline limit
            pool.all([waits])
        assert pool.typical > 0.002
        assert len(set(pool.all([lambda: (barrier.wait(), waits())[1]] * 3))) == 3  # all at once
    finally:
        pool.close()


def test_in_order_runs_on_the_calling_thread() -> None:
    here = threading.get_ident()
    assert InOrder().all([threading.get_ident, threading.get_ident]) == [here, here]
