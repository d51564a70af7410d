"""A real Alertmanager (and a real Prometheus alerting into it), for end-to-end alert tests.

The chain under test is the production one: `DemoMetricsApp` → Prometheus (1 s scrapes, 1 s rule
evaluation) → Alertmanager (1 s group_wait / group_interval) → an HTTP webhook, Shepherd's
`POST /webhooks/alertmanager` with a Bearer token, or any stand-in for it.

Simplest use, all three stopped on the way out whatever happened::

    with DemoMetricsApp() as app, alerting_stack(app, shepherd_url, token, tmp_path) as stack:
        app.set_error_ratio("v1", 1.0)   # HighErrorRatio fires: a v4 webhook reaches shepherd_url
        ...                              # stack.prometheus / stack.alertmanager for queries
        app.set_error_ratio("v1", 0.0)   # it resolves: a "resolved" webhook follows

Timings on this machine: Alertmanager is ready in ~0.3 s; Prometheus needs ~5.5 s before its first
scrape (see prometheus_fixtures); with the default rule the firing webhook arrives ~2 s after the
app turns bad and the resolved one ~4 s after it turns good (~12 s a test in all).

The parts, for other shapes: `running_alertmanager` (the binary alone), `error_ratio_rule` (a
rule dict), `prometheus_harness.running_prometheus(..., rules=, alertmanagers=)`, and
`WebhookRecorder` (a stdlib HTTP server that keeps every POST, to stand in for Shepherd).
Binaries come from the Debian packages `prometheus-alertmanager` and `prometheus`; fixtures
should check `find_alertmanager()` / `find_prometheus()` with `tests.support.need`, so they
skip when missing and fail under SHEPHERD_REQUIRE_ALL=1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.integration.prometheus_harness import (
    DemoMetricsApp,
    RunningPrometheus,
    _stop,
    free_port,
    running_prometheus,
    start_on_free_port,
    wait_ready,
)

ALERTMANAGER_FALLBACK = "/usr/bin/prometheus-alertmanager"  # Debian's name; upstream's is `alertmanager`
WEBHOOK_PATH = "/webhooks/alertmanager"
ALERT_NAME = "HighErrorRatio"


def find_alertmanager() -> str | None:
    for name in ("prometheus-alertmanager", "alertmanager"):
        found = shutil.which(name)
        if found:
            return found
    return ALERTMANAGER_FALLBACK if os.access(ALERTMANAGER_FALLBACK, os.X_OK) else None


# -- the rule -----------------------------------------------------------------------------------


def error_ratio_rule(
    *,
    alert: str = ALERT_NAME,
    threshold: float = 0.2,
    window: str = "5s",
    for_: str = "0s",
    service: str = "shop",
    severity: str = "page",
    runbook_url: str = "https://runbooks.example.com/shop/high-error-ratio",
) -> dict[str, Any]:
    """An alerting rule on the demo app: share of 500s over `window` above `threshold`.

    The alert carries labels alertname, service, severity and annotations summary, runbook_url.
    A short window keeps the test fast: with the app at 100 % errors the ratio crosses 0.2 about
    1 s after the switch, and falls back under it about 0.8 × window after the app recovers.
    """
    errors = f'sum by (service) (rate(http_requests_total{{service="{service}",code="500"}}[{window}]))'
    total = f'sum by (service) (rate(http_requests_total{{service="{service}"}}[{window}]))'
    return {
        "alert": alert,
        "expr": f"{errors} / {total} > {threshold:g}",
        "for": for_,
        "labels": {"service": service, "severity": severity},
        "annotations": {
            "summary": f"{service}: {{{{ $value | humanizePercentage }}}} of requests fail",
            "runbook_url": runbook_url,
        },
    }


# -- the real Alertmanager ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunningAlertmanager:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log_path: Path
    webhook_url: str  # where it sends notifications

    @property
    def target(self) -> str:
        """host:port, for Prometheus's `alerting.alertmanagers` static config."""
        return self.url.removeprefix("http://")

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts it holds now (API v2), for waiting on state and for failure messages."""
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=5, trust_env=False)
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()
        return alerts

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def write_alertmanager_config(
    path: Path,
    webhook_url: str,
    token: str,
    *,
    group_by: tuple[str, ...] = ("alertname", "service"),
    group_wait: str = "1s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
) -> Path:
    """alertmanager.yml: every alert to one webhook receiver with a Bearer token, resolved too."""
    config = {
        "route": {
            "receiver": "shepherd",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [
            {
                "name": "shepherd",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": True,
                        "max_alerts": 0,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
                    }
                ],
            }
        ],
    }
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return path


@contextmanager
def running_alertmanager(
    shepherd_url: str,
    token: str,
    workdir: Path,
    *,
    binary: str | None = None,
    ready_timeout: float = 30.0,
    webhook_path: str = WEBHOOK_PATH,
) -> Iterator[RunningAlertmanager]:
    """Start Alertmanager on a free loopback port, clustering off, notifying
    `shepherd_url` + `webhook_path` with `Authorization: Bearer <token>`; stop it on the way out."""
    binary = binary or find_alertmanager()
    if binary is None:
        raise FileNotFoundError("alertmanager binary not found (Debian package `prometheus-alertmanager`)")
    workdir.mkdir(parents=True, exist_ok=True)
    webhook_url = shepherd_url.rstrip("/") + webhook_path
    config = write_alertmanager_config(workdir / "alertmanager.yml", webhook_url, token)
    running = start_on_free_port(
        "alertmanager",
        lambda: _start(binary, config, workdir, webhook_url),
        lambda r: wait_ready(r, ready_timeout, name="alertmanager"),
    )
    try:
        yield running
    finally:
        _stop(running.process)


def _start(binary: str, config: Path, workdir: Path, webhook_url: str) -> RunningAlertmanager:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / f"alertmanager-{port}.log"
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.path={workdir / f'data-{port}'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url={url}",
        "--cluster.listen-address=",  # empty: no gossip, no second port, ready at once
        "--log.level=info",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return RunningAlertmanager(url, process, log_path, webhook_url)


# -- both together ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertingStack:
    prometheus: RunningPrometheus
    alertmanager: RunningAlertmanager

    def diagnostics(self) -> str:
        """What each binary holds and logged: append to an assertion message."""
        parts = []
        with contextlib.suppress(Exception):
            parts.append(f"prometheus ALERTS: {self.prometheus.instant('ALERTS')}")
        with contextlib.suppress(Exception):
            parts.append(f"alertmanager alerts: {self.alertmanager.alerts()}")
        parts.append(f"-- prometheus log --\n{self.prometheus.log_tail(15)}")
        parts.append(f"-- alertmanager log --\n{self.alertmanager.log_tail(15)}")
        return "\n".join(parts)


@contextmanager
def alerting_stack(
    app: DemoMetricsApp,
    shepherd_url: str,
    token: str,
    workdir: Path,
    *,
    rules: list[dict[str, Any]] | None = None,
    prometheus_binary: str | None = None,
    alertmanager_binary: str | None = None,
) -> Iterator[AlertingStack]:
    """Alertmanager notifying `shepherd_url`/webhooks/alertmanager, and Prometheus scraping `app`
    with `rules` (default: `[error_ratio_rule()]`) and alerting into it; yields once the app's
    target is up, stops both on the way out."""
    rules = [error_ratio_rule()] if rules is None else rules
    with (
        running_alertmanager(
            shepherd_url, token, workdir / "alertmanager", binary=alertmanager_binary
        ) as alertmanager,
        running_prometheus(
            [app.target],
            workdir / "prometheus",
            binary=prometheus_binary,
            rules=rules,
            alertmanagers=[alertmanager.target],
        ) as prometheus,
    ):
        prometheus.wait_for_target_up()
        yield AlertingStack(prometheus, alertmanager)


# -- a stand-in webhook receiver ----------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON, or the raw text when it is not JSON


class WebhookRecorder:
    """A loopback HTTP server that answers 200 to every POST and keeps it, in arrival order."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _recorder_handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def _record(self, hook: ReceivedWebhook) -> None:
        with self._cond:
            self.received.append(hook)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[ReceivedWebhook], bool], timeout: float) -> ReceivedWebhook:
        """The first webhook (already received or yet to come) matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for hook in self.received:
                    if predicate(hook):
                        return hook
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching webhook in {timeout:g}s; got {self.received!r}")
                self._cond.wait(remaining)

    def start(self) -> WebhookRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> WebhookRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _recorder_handler(recorder: WebhookRecorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            recorder._record(ReceivedWebhook(self.path, headers, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
