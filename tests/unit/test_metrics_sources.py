"""PrometheusSource and DatadogSource against small fake HTTP servers; the fake source; the factory.

The Prometheus bodies below are shaped like answers recorded from Prometheus 2.42 (Debian).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from pydantic import SecretStr

from shepherd.adapters.datadog import DatadogSource, tags_to_labels
from shepherd.adapters.metric_sources import build_metric_sources, close_metric_sources
from shepherd.adapters.prometheus import MAX_POINTS, PrometheusSource, range_params
from shepherd.domain.jobs import Transient
from shepherd.domain.watch import MetricsError, MetricsUnavailable, Point, Series
from shepherd.services.metrics_port import MetricsSource
from tests.fakes.datadog import API_KEY, APP_KEY, FakeDatadog, FakeSeries, running_fake_datadog
from tests.fakes.metrics import FakeMetricsSource, make_series

END = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
START = END - timedelta(minutes=10)
T0 = START.timestamp()


def _matrix(*result: dict[str, Any], warnings: list[str] | None = None) -> str:
    body: dict[str, Any] = {"status": "success", "data": {"resultType": "matrix", "result": list(result)}}
    if warnings:
        body["warnings"] = warnings
    return json.dumps(body)


def _error(error_type: str, error: str) -> str:
    return json.dumps({"status": "error", "errorType": error_type, "error": error})


MATRIX = _matrix(
    {"metric": {"code": "200", "version": "v1"}, "values": [[T0, "675"], [T0 + 60, "876.5"]]},
    {"metric": {"code": "500", "version": "v1"}, "values": [[T0, "NaN"], [T0 + 60, "+Inf"], [T0 + 120, "2"]]},
)
PARSE_ERROR = _error("bad_data", "1:29: parse error: unclosed left parenthesis")


@dataclass
class FakePrometheus:
    url: str = ""
    answers: dict[str, tuple[int, dict[str, str], str]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0

    def answer(self, query: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.answers[query] = (status, headers or {}, body)


@contextmanager
def running_fake_prometheus(prefix: str = "") -> Iterator[FakePrometheus]:
    fake = FakePrometheus()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            fake.requests.append((parsed.path, params, dict(self.headers)))
            time.sleep(fake.delay)
            status, headers, body = fake.answers.get(params.get("query", ""), (200, {}, _matrix()))
            if parsed.path != f"{prefix}/api/v1/query_range":
                status, headers, body = 404, {}, "404 page not found"
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_port}{prefix}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _query(source: PrometheusSource | DatadogSource, query: str, step: float = 60) -> list[Series]:
    return source.query_range(query, start=START, end=END, step_seconds=step)


# -- Prometheus ---------------------------------------------------------------------------------


def test_prometheus_parses_a_matrix_and_drops_nan_and_inf() -> None:
    with (
        running_fake_prometheus("/prom") as fake,
        closing(PrometheusSource(fake.url, headers={"X-Scope-OrgID": "t1"})) as source,
    ):
        fake.answer("errors", MATRIX)
        found = _query(source, "errors", step=30)
    assert found == [
        Series({"code": "200", "version": "v1"}, (Point(T0, 675.0), Point(T0 + 60, 876.5))),
        Series({"code": "500", "version": "v1"}, (Point(T0 + 120, 2.0),)),
    ]
    path, params, headers = fake.requests[0]
    assert path == "/prom/api/v1/query_range" and headers["X-Scope-OrgID"] == "t1"
    assert params == {
        "query": "errors",
        "start": f"{T0:.0f}",
        "end": f"{END.timestamp():.0f}",
        "step": "30",
        "timeout": "10s",
    }


def test_prometheus_clamps_the_step_to_its_point_limit() -> None:
    month = range_params("up", start=END - timedelta(days=30), end=END, step_seconds=1)
    span = 30 * 86400
    assert float(month["step"]) >= span / MAX_POINTS and span // float(month["step"]) <= MAX_POINTS
    assert range_params("up", start=START, end=END, step_seconds=15)["step"] == "15"
    assert range_params("up", start=START, end=END, step_seconds=0.25)["step"] == "0.250"
    with pytest.raises(ValueError, match="timezone-aware"):
        range_params("up", start=START.replace(tzinfo=None), end=END, step_seconds=1)
    with pytest.raises(ValueError, match="before start"):
        range_params("up", start=END, end=START, step_seconds=1)
    with pytest.raises(ValueError, match="positive"):
        range_params("up", start=START, end=END, step_seconds=0)


@pytest.mark.parametrize(
    ("status", "body", "headers", "transient", "expected"),
    [
        (400, PARSE_ERROR, {}, False, "bad_data: 1:29: parse error: unclosed left parenthesis"),
        (422, _error("execution", "query processing would load too many samples"), {}, False, "execution"),
        (
            503,
            _error("timeout", "query timed out in expression evaluation"),
            {},
            True,
            "timeout: query timed out",
        ),
        (502, "<html><body>Bad Gateway</body></html>", {}, True, "HTTP 502: <html><body>Bad Gateway"),
        (429, "slow down", {"Retry-After": "3"}, True, "HTTP 429"),
        (200, _error("timeout", "query timed out"), {}, True, "timeout"),
        (200, "<html>Grafana</html>", {}, False, "not Prometheus API JSON"),
        (
            200,
            json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}),
            {},
            False,
            "'vector'",
        ),
        (
            200,
            json.dumps(
                {"status": "success", "data": {"resultType": "matrix", "result": [{"values": [[1]]}]}}
            ),
            {},
            False,
            "unexpected shape",
        ),
        (404, "404 page not found", {}, False, "HTTP 404"),
        (301, "", {"Location": "https://prom.example/"}, False, "redirected to https://prom.example/"),
    ],
)
def test_prometheus_classifies_failures(
    status: int, body: str, headers: dict[str, str], transient: bool, expected: str
) -> None:
    with running_fake_prometheus() as fake, closing(PrometheusSource(fake.url)) as source:
        fake.answer("rate(x[5m]", body, status, headers)
        with pytest.raises(MetricsError) as caught:
            _query(source, "rate(x[5m]")
    assert isinstance(caught.value, MetricsUnavailable) is transient
    assert isinstance(caught.value, Transient) is transient
    message = str(caught.value)
    assert expected in message and f"Prometheus at {fake.url}" in message and "[query: rate(x[5m]]" in message
    if status == 429:
        assert isinstance(caught.value, MetricsUnavailable) and caught.value.retry_after == 3.0


def test_prometheus_keeps_credentials_out_of_messages() -> None:
    with running_fake_prometheus() as fake:
        url = fake.url.replace("http://", "http://shepherd:hunter2-pass@")
        with closing(PrometheusSource(url, headers={"Authorization": "Bearer glc_secret_token"})) as source:
            fake.answer("up", _error("unauthorized", "token glc_secret_token is revoked"), 401)
            with pytest.raises(MetricsError) as caught:
                _query(source, "up")
    message = str(caught.value)
    assert "credentials" in message and "***" in message
    assert "glc_secret_token" not in message and "hunter2" not in message and "hunter2" not in source.name


def test_prometheus_unreachable_and_slow_are_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with (
        closing(PrometheusSource(f"http://127.0.0.1:{closed_port}")) as source,
        pytest.raises(MetricsUnavailable) as down,
    ):
        _query(source, "up")
    assert "unreachable" in str(down.value)
    with running_fake_prometheus() as fake, closing(PrometheusSource(fake.url, timeout=0.2)) as source:
        fake.delay = 1.0
        began = time.monotonic()
        with pytest.raises(MetricsUnavailable, match=r"no answer within 0\.2s"):
            _query(source, "up")
        assert time.monotonic() - began < 0.9
    with closing(PrometheusSource("ftp://prom.example")) as source, pytest.raises(MetricsError) as bad_url:
        _query(source, "up")
    assert not isinstance(bad_url.value, MetricsUnavailable)


def test_prometheus_logs_warnings_and_uses_an_injected_client(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=_matrix(warnings=["remote read partial"]))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    source = PrometheusSource("http://prom.example", client=client)
    with caplog.at_level(logging.WARNING, logger="shepherd.prometheus"):
        assert _query(source, "up") == []
    source.close()
    assert "remote read partial" in caplog.text and not client.is_closed
    client.close()


# -- Datadog ------------------------------------------------------------------------------------


@pytest.fixture
def datadog() -> Iterator[FakeDatadog]:
    with running_fake_datadog() as fake:
        yield fake


def _dd(fake: FakeDatadog, *, api_key: str = API_KEY) -> DatadogSource:
    return DatadogSource(fake.url, api_key=api_key, app_key=APP_KEY, timeout=2)


def test_datadog_parses_pointlists_tags_and_gaps(datadog: FakeDatadog) -> None:
    query = "sum:trace.http.request.errors{service:shop} by {version}.as_count()"
    datadog.add(
        query,
        FakeSeries(
            "trace.http.request.errors",
            [(T0 - 60, 9), (T0, 1), (T0 + 60, None), (T0 + 120, 3.5)],
            scope="service:shop,version:v2",
            tag_set=["version:v2"],
        ),
        FakeSeries("trace.http.request.errors", [], scope="service:shop,version:v1", tag_set=["version:v1"]),
    )
    with closing(_dd(datadog)) as source:
        found = source.query_range(
            query, start=START + timedelta(seconds=0.5), end=END - timedelta(seconds=0.5), step_seconds=60
        )
    assert found == [
        Series({"service": "shop", "version": "v2"}, (Point(T0, 1.0), Point(T0 + 120, 3.5))),
        Series({"service": "shop", "version": "v1"}, ()),
    ]
    call = datadog.calls[0]
    assert (call.api_key, call.app_key) == (API_KEY, APP_KEY)
    assert call.params == {"from": f"{T0:.0f}", "to": f"{END.timestamp():.0f}", "query": query}


def test_datadog_labels_from_scope_and_tag_set() -> None:
    assert tags_to_labels("*", []) == {}
    assert tags_to_labels("env:prod,!env:staging,canary", ["url:http://x:1/a"]) == {
        "env": "prod",
        "canary": "",
        "url": "http://x:1/a",
    }


@pytest.mark.parametrize(
    ("setup", "transient", "expected"),
    [
        (
            lambda f: f.reject("avg:x{", "Rule 'scope_expr' didn't match"),
            False,
            "HTTP 400: Error parsing query",
        ),
        (lambda f: f.fail_next(status=403), False, "refused the API/application key"),
        (
            lambda f: f.fail_next(status=429, reset_seconds=7),
            True,
            "rate limited (metrics_query limit; resets in 7s)",
        ),
        (lambda f: f.fail_next(status=500), True, "HTTP 500: Internal Server Error"),
        (lambda f: f.fail_next(status=503), True, "HTTP 503"),
    ],
)
def test_datadog_classifies_failures(
    datadog: FakeDatadog, setup: Any, transient: bool, expected: str
) -> None:
    setup(datadog)
    with closing(_dd(datadog)) as source, pytest.raises(MetricsError) as caught:
        _query(source, "avg:x{")
    assert isinstance(caught.value, MetricsUnavailable) is transient
    assert expected in str(caught.value) and f"Datadog at {datadog.url}" in str(caught.value)
    if "rate limited" in expected:
        assert isinstance(caught.value, MetricsUnavailable) and caught.value.retry_after == 7.0


def test_datadog_wrong_key_and_error_status_in_body(datadog: FakeDatadog) -> None:
    with (
        closing(_dd(datadog, api_key="wrong-key-123456")) as source,
        pytest.raises(MetricsError, match="Forbidden"),
    ):
        _query(source, "avg:x{*}")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "error", "error": "metric not found: x", "series": []})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        source = DatadogSource("http://dd.example", api_key=API_KEY, app_key=APP_KEY, client=client)
        with pytest.raises(MetricsError, match="query failed: metric not found: x"):
            _query(source, "avg:x{*}")
    with pytest.raises(ValueError, match="both"):
        DatadogSource("http://dd.example", api_key=API_KEY, app_key="")


def test_datadog_keys_never_reach_messages_or_logs(
    datadog: FakeDatadog, caplog: pytest.LogCaptureFixture
) -> None:
    # Even a server that echoes the keys back (a misbehaving proxy) must not leak them.
    datadog.reject("echo", f"bad key {API_KEY} / {APP_KEY}")
    messages = []
    with caplog.at_level(logging.DEBUG), closing(_dd(datadog)) as source:
        for status in (403, 429, 500):
            datadog.fail_next(status=status)
            with pytest.raises(MetricsError) as caught:
                _query(source, "avg:x{*}")
            messages.append(str(caught.value))
        with pytest.raises(MetricsError) as caught:
            _query(source, "echo")
        messages.append(str(caught.value))
    text = "\n".join(messages) + caplog.text
    assert API_KEY not in text and APP_KEY not in text and "bad key *** / ***" in text


# -- the port, the fake, the factory, the errors -----------------------------------------------


def test_fake_metrics_source_answers_records_and_fails() -> None:
    series = make_series({"version": "v2"}, [0.1, 0.3], start=START, step=60, weights=[100, 120])
    fake = FakeMetricsSource(
        {"ratio": [series], "win": lambda call: [make_series({}, [call.step_seconds], start=call.start)]}
    )
    source: MetricsSource = fake  # structural: the fake satisfies the port
    assert source.query_range("ratio", start=START, end=END, step_seconds=60) == [series]
    assert series.points[1] == Point(T0 + 60, 0.3, 120)
    assert fake.query_range("win", start=START, end=END, step_seconds=15)[0].points[0].v == 15
    fake.fail_next(MetricsUnavailable("fake", "ratio", "down"), query="ratio")
    with pytest.raises(MetricsUnavailable):
        fake.query_range("ratio", start=START, end=END, step_seconds=60)
    assert fake.query_range("ratio", start=START, end=END, step_seconds=60) == [series]
    fake.answer("boom", MetricsError("fake", "boom", "bad query"))
    with pytest.raises(MetricsError, match="bad query"):
        fake.query_range("boom", start=START, end=END, step_seconds=60)
    with pytest.raises(MetricsError, match="no canned answer"):
        fake.query_range("typo", start=START, end=END, step_seconds=60)
    assert fake.queries() == ["ratio", "win", "ratio", "ratio", "boom", "typo"]


def test_build_metric_sources() -> None:
    assert build_metric_sources() == {}
    sources = build_metric_sources(
        prometheus_url="http://prom:9090",
        prometheus_headers={"Authorization": SecretStr("Bearer t")},
        datadog_api_key=SecretStr(API_KEY),
        datadog_app_key=APP_KEY,
    )
    assert isinstance(sources["prometheus"], PrometheusSource) and isinstance(
        sources["datadog"], DatadogSource
    )
    assert sources["datadog"].name == "Datadog at https://api.datadoghq.com"
    close_metric_sources(sources.values())
    with pytest.raises(ValueError, match="application key is missing"):
        build_metric_sources(datadog_api_key=API_KEY)


def test_metrics_error_message_names_source_query_and_problem() -> None:
    error = MetricsUnavailable(
        "Prometheus at http://p", "sum(x)\n  by (y)" + " " * 3 + "z" * 300, "down", retry_after=2
    )
    assert str(error).startswith("Prometheus at http://p: down [query: sum(x) by (y) zzz")
    assert str(error).endswith("…]") and len(str(error)) < 260
    assert isinstance(error, Transient) and error.retry_after == 2 and error.problem == "down"
