"""A real Prometheus scraping a tiny demo app, for integration tests of health checks.

`DemoMetricsApp` serves `/metrics` with `http_requests_total` and `http_request_duration_seconds`
labelled service="shop", version, code, fed by a background thread at a steady simulated rate.
Counts are deterministic (fractional carry, no randomness): the 500s never stray more than one
request from ratio × total, so assertions can be tight. `running_prometheus` starts the real
binary on a free loopback port (never 9090) with 1 s scrapes, and always stops it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

from shepherd.adapters.prometheus import PrometheusSource

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CODES = ("200", "500")


@dataclass
class _Counts:
    """One version's totals. Fractional requests carry over; /metrics shows whole ones."""

    requests: float = 0.0
    errors: float = 0.0
    # Per code: cumulative bucket counts (Prometheus buckets are "≤ bound") and latency sums.
    buckets: dict[str, list[int]] = field(default_factory=lambda: {c: [0] * len(BUCKETS) for c in CODES})
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CODES, 0.0))


class DemoMetricsApp:
    """A fake service whose health a test switches between good and bad."""

    def __init__(self, *, rate_per_second: float = 100.0, tick_seconds: float = 0.05) -> None:
        self.rate = rate_per_second
        self._tick = tick_seconds
        self._lock = threading.Lock()
        self._traffic: dict[str, float] = {"v1": 1.0}
        self._error_ratio: dict[str, float] = defaultdict(float)
        self._latency: dict[str, float] = defaultdict(lambda: 0.02)
        self._counts: dict[str, _Counts] = {}
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.port = self._server.server_port
        self.target = f"127.0.0.1:{self.port}"
        self._threads = [
            threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True),
            threading.Thread(target=self._run, daemon=True),
        ]

    # -- what a test controls --------------------------------------------------------------

    def set_version(self, version: str) -> None:
        """A full rollout: all traffic to `version`."""
        self.set_traffic({version: 1.0})

    def set_traffic(self, shares: Mapping[str, float]) -> None:
        """A split such as {"v1": 0.5, "v2": 0.5} (a canary); shares are normalised."""
        total = sum(shares.values())
        if total <= 0:
            raise ValueError("traffic shares must add up to more than 0")
        with self._lock:
            self._traffic = {v: s / total for v, s in shares.items() if s > 0}

    def set_error_ratio(self, version: str, ratio: float) -> None:
        with self._lock:
            self._error_ratio[version] = min(1.0, max(0.0, ratio))

    def set_latency(self, version: str, seconds: float) -> None:
        with self._lock:
            self._latency[version] = max(0.0, seconds)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> DemoMetricsApp:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._threads[0].is_alive():  # shutdown() waits forever on a server never started
            self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(5)

    def __enter__(self) -> DemoMetricsApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- simulation ------------------------------------------------------------------------

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self._tick):
            now = time.monotonic()
            self.advance(now - last)
            last = now

    def advance(self, seconds: float) -> None:
        """Serve `seconds` worth of simulated traffic (the thread calls this every tick)."""
        with self._lock:
            for version, share in self._traffic.items():
                self._serve(version, self.rate * share * seconds)

    def _serve(self, version: str, requests: float) -> None:
        counts = self._counts.setdefault(version, _Counts())
        before_requests, before_errors = int(counts.requests), int(counts.errors)
        counts.requests += requests
        counts.errors += requests * self._error_ratio[version]
        new_errors = int(counts.errors) - before_errors
        new_ok = int(counts.requests) - before_requests - new_errors
        latency = self._latency[version]
        # Every request of a version takes its set latency: quantiles land in that bucket.
        for code, n in (("200", new_ok), ("500", new_errors)):
            if n <= 0:
                continue
            for i, bound in enumerate(BUCKETS):
                if latency <= bound:
                    counts.buckets[code][i] += n
            counts.sums[code] += n * latency

    def render(self) -> str:
        """The Prometheus text exposition format (0.0.4) of the current counts."""
        with self._lock:
            snapshot = {
                v: (int(c.requests), int(c.errors), {k: list(b) for k, b in c.buckets.items()}, dict(c.sums))
                for v, c in self._counts.items()
            }
        lines = [
            "# HELP http_requests_total Requests served by the demo shop.",
            "# TYPE http_requests_total counter",
        ]
        for version, (total, errors, _, _) in sorted(snapshot.items()):
            # Both codes from the first request on: a version's error ratio is 0, not absent.
            lines += [
                f"http_requests_total{{{_labels(version, '200')}}} {total - errors}",
                f"http_requests_total{{{_labels(version, '500')}}} {errors}",
            ]
        lines += [
            "# HELP http_request_duration_seconds Request latency of the demo shop.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for version, (total, errors, buckets, sums) in sorted(snapshot.items()):
            for code, n in (("200", total - errors), ("500", errors)):
                lines += _histogram_lines(_labels(version, code), buckets[code], n, sums[code])
        return "\n".join(lines) + "\n"


def _labels(version: str, code: str) -> str:
    return f'service="shop",version="{version}",code="{code}"'


def _histogram_lines(labels: str, buckets: list[int], count: int, total: float) -> list[str]:
    name = "http_request_duration_seconds"
    lines = [
        f'{name}_bucket{{{labels},le="{bound:g}"}} {n}' for bound, n in zip(BUCKETS, buckets, strict=True)
    ]
    lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {count}')
    lines.append(f"{name}_sum{{{labels}}} {total:.6f}")
    lines.append(f"{name}_count{{{labels}}} {count}")
    return lines


def _handler_for(app: DemoMetricsApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = app.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


# -- the real Prometheus ------------------------------------------------------------------------

PROMETHEUS_FALLBACK = "/usr/bin/prometheus"
DEFAULT_PORT = 9090  # a system Prometheus may hold it: never ours


def find_prometheus() -> str | None:
    found = shutil.which("prometheus")
    if found:
        return found
    return PROMETHEUS_FALLBACK if os.access(PROMETHEUS_FALLBACK, os.X_OK) else None


@dataclass(frozen=True)
class RunningPrometheus:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def source(self, **kwargs: Any) -> PrometheusSource:
        return PrometheusSource(self.url, **kwargs)

    def instant(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector (for waiting on state, not for testing the adapter)."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5, trust_env=False)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def wait_for_target_up(self, job: str = "demo", timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(r["value"][1] == "1" for r in self.instant(f'up{{job="{job}"}}')):
                return
            time.sleep(0.2)
        raise AssertionError(f"Prometheus never scraped job {job!r} in {timeout:g}s\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port != DEFAULT_PORT:
            return port


def write_config(
    path: Path,
    targets: list[str],
    *,
    interval: str = "1s",
    rules: list[dict[str, Any]] | None = None,
    alertmanagers: list[str] | None = None,
) -> Path:
    """prometheus.yml for `targets`; with `rules` (alerting/recording rule dicts, one group,
    written next to it as rules.yml) and `alertmanagers` ("host:port") it evaluates and sends."""
    # JSON is YAML: no quoting surprises, and still readable when a test fails.
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
        "scrape_configs": [{"job_name": "demo", "static_configs": [{"targets": targets}]}],
    }
    if rules:
        rules_path = path.with_name("rules.yml")
        rules_path.write_text(json.dumps({"groups": [{"name": "test", "rules": rules}]}, indent=2))
        config["rule_files"] = [str(rules_path)]
    if alertmanagers:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": alertmanagers}]}]}
    path.write_text(json.dumps(config, indent=2))
    return path


@contextmanager
def running_prometheus(
    targets: list[str],
    workdir: Path,
    *,
    binary: str | None = None,
    ready_timeout: float = 30.0,
    rules: list[dict[str, Any]] | None = None,
    alertmanagers: list[str] | None = None,
) -> Iterator[RunningPrometheus]:
    """Start the real binary on a free loopback port; stop it on the way out, whatever happened.

    `rules` and `alertmanagers` as in `write_config` (see alertmanager_harness for both).
    """
    binary = binary or find_prometheus()
    if binary is None:
        raise FileNotFoundError("prometheus binary not found (Debian package `prometheus`)")
    workdir.mkdir(parents=True, exist_ok=True)
    config = write_config(workdir / "prometheus.yml", targets, rules=rules, alertmanagers=alertmanagers)
    running = start_on_free_port(
        "prometheus", lambda: _start(binary, config, workdir), lambda r: wait_ready(r, ready_timeout)
    )
    try:
        yield running
    finally:
        _stop(running.process)


class _Started(Protocol):
    @property
    def process(self) -> subprocess.Popen[bytes]: ...

    def log_tail(self, lines: int = 30) -> str: ...


S = TypeVar("S", bound=_Started)


def start_on_free_port(name: str, start: Callable[[], S], ready: Callable[[S], bool]) -> S:
    """Start a binary on a free port, again when another process took the port first (3 tries)."""
    for _ in range(3):  # another process may grab the free port between our check and its bind
        running = start()
        try:
            if ready(running):
                return running
        except BaseException:
            _stop(running.process)
            raise
        _stop(running.process)
        if "address already in use" not in running.log_tail().lower():
            raise RuntimeError(f"{name} exited at startup:\n{running.log_tail()}")
    raise RuntimeError(f"{name} found no free port in 3 tries")


def _start(binary: str, config: Path, workdir: Path) -> RunningPrometheus:
    port = free_port()
    log_path = workdir / f"prometheus-{port}.log"
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / f'data-{port}'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",  # alerts' generatorURL: not the hostname
        "--storage.tsdb.retention.time=1h",
        "--log.level=info",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return RunningPrometheus(f"http://127.0.0.1:{port}", process, log_path)


class _Running(Protocol):
    url: str
    process: subprocess.Popen[bytes]

    def log_tail(self) -> str: ...


def wait_ready(running: _Running, timeout: float, *, name: str = "prometheus") -> bool:
    """True once /-/ready answers 200 (Prometheus and Alertmanager both serve it); False if the
    process died first; raises on timeout."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if running.process.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{running.url}/-/ready").status_code == 200:
                    return True
            time.sleep(0.1)
    raise TimeoutError(f"{name} not ready after {timeout:g}s:\n{running.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
