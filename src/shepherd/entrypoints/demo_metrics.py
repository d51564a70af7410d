"""The demo's example service metrics, served the way Prometheus serves them.

Speaks Prometheus' HTTP API (`/api/v1/query_range`, matrix results) for the two checks in
examples/shepherd.yaml, with synthetic, deterministic traffic: the old version is healthy;
the new one (the demo's second deploy) errs eight times as often and is slower. Shepherd
reads it with its real Prometheus adapter, so the demo shows a real watch and verdict.
"""

from __future__ import annotations

import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_VERSION = re.compile(r'version="([^"]*)"')
REQUESTS_PER_SECOND = 200.0


class DemoMetrics:
    """Series for the demo's queries; `bad_version` is the regressing one."""

    def __init__(self, *, bad_version: str) -> None:
        self.bad_version = bad_version

    def value(self, query: str, version: str, t: float) -> float:
        wobble = 0.5 + 0.5 * math.sin(t / 7.0) * math.cos(t / 3.1)  # deterministic noise, 0..1
        bad = version == self.bad_version
        if "duration" in query:  # p95 latency, seconds
            return (0.30 if bad else 0.12) + 0.03 * wobble
        if "code=~" in query:  # error ratio
            return (0.04 if bad else 0.005) * (0.6 + 0.8 * wobble)
        return REQUESTS_PER_SECOND * (0.9 + 0.2 * wobble)  # request rate (the weight)

    def query_range(self, query: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        match = _VERSION.search(query)
        version = match.group(1) if match else "unknown"
        values: list[list[float | str]] = []
        t = math.ceil(start / step) * step
        while t <= end and len(values) < 11_000:
            values.append([t, f"{self.value(query, version, t):.6f}"])
            t += step
        return [{"metric": {"service": "checkout", "version": version}, "values": values}]


def serve_demo_metrics(metrics: DemoMetrics) -> tuple[ThreadingHTTPServer, str]:
    """Start the example metrics on a free loopback port; returns the server and its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            args = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            if parsed.path != "/api/v1/query_range" or not {"query", "start", "end", "step"} <= set(args):
                self._send(400, {"status": "error", "errorType": "bad_data", "error": "unsupported request"})
                return
            result = metrics.query_range(
                args["query"], float(args["start"]), float(args["end"]), float(args["step"])
            )
            self._send(200, {"status": "success", "data": {"resultType": "matrix", "result": result}})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, name="demo-metrics", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"
