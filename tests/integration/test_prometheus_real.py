"""Smoke test: PrometheusSource against the real Prometheus binary scraping the demo app.

Fixtures come from tests/integration/prometheus_fixtures.py (registered as a plugin).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from shepherd.domain.watch import MetricsError, MetricsUnavailable, Series
from tests.integration.prometheus_harness import DemoMetricsApp, RunningPrometheus

ERROR_RATIO = (
    'sum by (version) (rate(http_requests_total{code="500"}[15s]))'
    " / sum by (version) (rate(http_requests_total[15s]))"
)
P95 = "histogram_quantile(0.95, sum by (version, le) (rate(http_request_duration_seconds_bucket[15s])))"


def _latest(series: list[Series]) -> dict[str, float]:
    return {s.labels.get("version", ""): s.points[-1].v for s in series if s.points}


def _poll(
    query: Callable[[], list[Series]], check: Callable[[dict[str, float]], bool], timeout: float = 20.0
) -> dict[str, float]:
    """Query until `check(latest value by version)` holds; the last values otherwise."""
    deadline = time.monotonic() + timeout
    latest: dict[str, float] = {}
    while time.monotonic() < deadline:
        latest = _latest(query())
        if check(latest):
            return latest
        time.sleep(0.5)
    return latest


@pytest.mark.slow
def test_error_ratio_per_version(demo_metrics_app: DemoMetricsApp, prometheus: RunningPrometheus) -> None:
    demo_metrics_app.set_traffic({"v1": 0.5, "v2": 0.5})
    demo_metrics_app.set_error_ratio("v2", 0.2)
    with closing(prometheus.source(timeout=5)) as source:

        def query() -> list[Series]:
            end = datetime.now(UTC)
            return source.query_range(ERROR_RATIO, start=end - timedelta(seconds=30), end=end, step_seconds=1)

        latest = _poll(query, lambda v: abs(v.get("v2", -1) - 0.2) < 0.03 and abs(v.get("v1", -1)) < 0.01)
    assert latest.get("v2") == pytest.approx(0.2, abs=0.03), latest
    assert latest.get("v1") == pytest.approx(0.0, abs=0.01), latest


@pytest.mark.slow
def test_latency_labels_errors_and_outage(
    demo_metrics_app: DemoMetricsApp, prometheus: RunningPrometheus
) -> None:
    # One test for the rest: each fresh Prometheus spends ~5 s before its first scrape.
    demo_metrics_app.set_latency("v1", 0.4)
    with closing(prometheus.source(timeout=5)) as source:
        end = datetime.now(UTC)
        raw = source.query_range(
            "http_requests_total", start=end - timedelta(seconds=10), end=end, step_seconds=1
        )
        with pytest.raises(MetricsError) as bad:
            source.query_range("rate(http_requests_total[1m]", start=end, end=end, step_seconds=1)
        # A year at 1 s would be 31.5 M points: the adapter coarsens the step (~48 min) instead.
        year = source.query_range("vector(1)", start=end - timedelta(days=365), end=end, step_seconds=1)

        def p95() -> list[Series]:
            now = datetime.now(UTC)
            return source.query_range(P95, start=now - timedelta(seconds=20), end=now, step_seconds=1)

        # Every request now takes 0.4 s: p95 interpolates inside the (0.25, 0.5] bucket.
        latest = _poll(p95, lambda v: 0.25 < v.get("v1", 0) <= 0.5)

        prometheus.process.terminate()
        prometheus.process.wait(10)
        with pytest.raises(MetricsUnavailable) as down:
            source.query_range("up", start=end, end=end, step_seconds=1)

    assert {(s.labels["version"], s.labels["code"]) for s in raw} == {("v1", "200"), ("v1", "500")}
    assert all(s.labels["__name__"] == "http_requests_total" and s.points for s in raw)
    assert not isinstance(bad.value, MetricsUnavailable)
    assert "bad_data" in str(bad.value) and "parse error" in str(bad.value)
    assert len(year) == 1 and 10_000 < len(year[0].points) <= 11_001
    assert 0.25 < latest.get("v1", 0) <= 0.5, latest
    assert prometheus.url.removeprefix("http://") in str(down.value)


def test_demo_app_counts_are_deterministic() -> None:
    app = DemoMetricsApp(rate_per_second=100)  # not started: no threads, the test drives time
    app.set_traffic({"v1": 3, "v2": 1})
    app.set_error_ratio("v2", 0.2)
    app.set_latency("v2", 0.3)
    for _ in range(40):
        app.advance(0.25)
    text = app.render()
    assert 'http_requests_total{service="shop",version="v1",code="200"} 750' in text
    assert 'http_requests_total{service="shop",version="v1",code="500"} 0' in text
    assert 'http_requests_total{service="shop",version="v2",code="200"} 200' in text
    assert 'http_requests_total{service="shop",version="v2",code="500"} 50' in text
    v2_ok = 'http_request_duration_seconds_bucket{service="shop",version="v2",code="200",le='
    assert f'{v2_ok}"0.25"}} 0' in text and f'{v2_ok}"0.5"}} 200' in text and f'{v2_ok}"+Inf"}} 200' in text
    assert 'http_request_duration_seconds_sum{service="shop",version="v2",code="500"} 15.000000' in text
    app.stop()
