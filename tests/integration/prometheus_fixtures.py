"""Fixtures for tests against a real Prometheus (a pytest plugin module; see prometheus_harness).

Each test gets its own demo app and its own Prometheus with empty storage, so a test that
makes v2 bad cannot leak into the next one's rate windows. That costs ~5.5 s a test: the binary
is ready in ~0.2 s, but Prometheus 2.x applies scrape targets on a fixed 5 s tick (no flag in
2.42), so prefer few, broad tests over many small ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.prometheus_harness import (
    DemoMetricsApp,
    RunningPrometheus,
    find_prometheus,
    running_prometheus,
)
from tests.support import need


@pytest.fixture
def demo_metrics_app() -> Iterator[DemoMetricsApp]:
    """The demo shop on loopback: v1 only, healthy, 100 requests a second."""
    with DemoMetricsApp() as app:
        yield app


@pytest.fixture
def prometheus(demo_metrics_app: DemoMetricsApp, tmp_path: Path) -> Iterator[RunningPrometheus]:
    """A real Prometheus scraping `demo_metrics_app` every second, up and scraped once."""
    binary = find_prometheus()
    need(binary, "the prometheus binary (apt-get install prometheus)")
    with running_prometheus([demo_metrics_app.target], tmp_path / "prometheus", binary=binary) as running:
        running.wait_for_target_up()
        yield running
