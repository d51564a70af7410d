"""A small fake of Datadog's v1 timeseries query API (`GET /api/v1/query`), failures on demand.

Answers in Datadog's documented shape: 200 with {"status": "ok", "res_type": "time_series",
"series": [{"pointlist": [[ms, value|null]], "scope", "tag_set", …}]}; 403 {"errors":
["Forbidden"]} for a wrong or missing key; 400 {"errors": [...]} for a bad request; 429 with the
X-RateLimit-* headers. Only points inside [from, to] are returned, as the real API does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

API_KEY = "dd-api-key-0123456789abcdef0123"
APP_KEY = "dd-app-key-fedcba9876543210fedcba9876543210"

_ERROR_TEXT = {403: "Forbidden", 429: "Too many requests", 500: "Internal Server Error"}


@dataclass
class DatadogCall:
    path: str
    params: dict[str, str]
    api_key: str | None
    app_key: str | None
    status: int


@dataclass
class FakeSeries:
    metric: str
    points: Sequence[tuple[float, float | None]]  # (epoch seconds, value or None for a gap)
    scope: str = "*"
    tag_set: Sequence[str] = ()
    interval: int = 60


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeDatadog:
    url: str = ""
    calls: list[DatadogCall] = field(default_factory=list)
    series: dict[str, list[FakeSeries]] = field(default_factory=dict)  # query → its series
    rejected: dict[str, str] = field(default_factory=dict)  # query → parse error text
    lock: threading.Lock = field(default_factory=threading.Lock)
    _failures: list[_Failure] = field(default_factory=list)

    def add(self, query: str, *series: FakeSeries) -> None:
        with self.lock:
            self.series.setdefault(query, []).extend(series)

    def reject(self, query: str, message: str) -> None:
        """This query is answered 400 with Datadog's parse-error wording."""
        with self.lock:
            self.rejected[query] = message

    def fail_next(self, count: int = 1, *, status: int = 500, reset_seconds: int = 7) -> None:
        """The next `count` requests fail: 429 (with X-RateLimit-*), 5xx or 403, as Datadog does."""
        headers: dict[str, str] = {}
        if status == 429:
            headers = {
                "X-RateLimit-Limit": "1600",
                "X-RateLimit-Period": "3600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset_seconds),
                "X-RateLimit-Name": "metrics_query",
            }
        body = {"errors": [_ERROR_TEXT.get(status, "Error")]}
        with self.lock:
            self._failures += [_Failure(status, headers, body)] * count

    def handle(self, path: str, params: dict[str, str], headers: Any) -> tuple[int, dict[str, str], Any]:
        api_key, app_key = headers.get("DD-API-KEY"), headers.get("DD-APPLICATION-KEY")
        with self.lock:
            status, out_headers, body = self._answer(path, params, api_key, app_key)
            self.calls.append(DatadogCall(path, params, api_key, app_key, status))
        return status, out_headers, body

    def _answer(
        self, path: str, params: dict[str, str], api_key: str | None, app_key: str | None
    ) -> tuple[int, dict[str, str], Any]:
        if self._failures:
            failure = self._failures.pop(0)
            return failure.status, failure.headers, failure.body
        if path != "/api/v1/query":
            return 404, {}, {"errors": ["Not found"]}
        if api_key != API_KEY or app_key != APP_KEY:
            return 403, {}, {"errors": ["Forbidden"]}
        missing = [name for name in ("from", "to", "query") if not params.get(name)]
        if missing:
            return 400, {}, {"errors": [f"The parameter '{missing[0]}' is required"]}
        query = params["query"]
        if query in self.rejected:
            return 400, {}, {"errors": [f"Error parsing query: {self.rejected[query]}"]}
        return 200, {}, self._result(query, int(params["from"]), int(params["to"]))

    def _result(self, query: str, start: int, end: int) -> dict[str, Any]:
        found = []
        for item in self.series.get(query, []):
            kept = [(t * 1000.0, v) for t, v in item.points if start <= t <= end]
            found.append(
                {
                    "metric": item.metric,
                    "display_name": item.metric,
                    "expression": query,
                    "scope": item.scope,
                    "tag_set": list(item.tag_set),
                    "pointlist": [list(point) for point in kept],  # [ms, value | null]
                    "start": int(kept[0][0]) if kept else start * 1000,
                    "end": int(kept[-1][0]) if kept else end * 1000,
                    "interval": item.interval,
                    "length": len(kept),
                    "aggr": "avg",
                    "unit": None,
                    "query_index": 0,  # one query per request here
                }
            )
        return {
            "status": "ok",
            "res_type": "time_series",
            "resp_version": 1,
            "query": query,
            "from_date": start * 1000,
            "to_date": end * 1000,
            "group_by": sorted({t.split(":", 1)[0] for s in self.series.get(query, []) for t in s.tag_set}),
            "message": "",
            "series": found,
        }


class _Handler(BaseHTTPRequestHandler):
    datadog: FakeDatadog

    def do_GET(self) -> None:
        parsed = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        status, headers, body = self.datadog.handle(parsed.path, params, self.headers)
        payload = json.dumps(body).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_fake_datadog() -> Iterator[FakeDatadog]:
    datadog = FakeDatadog()
    handler = type("Handler", (_Handler,), {"datadog": datadog})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval: shutdown waits one interval, and tests start many servers.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    datadog.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield datadog
    finally:
        server.shutdown()
        server.server_close()
