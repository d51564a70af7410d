"""Prometheus (and its API-compatible kin: Thanos, Mimir, VictoriaMetrics) as a MetricsSource."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from shepherd.adapters.http_errors import Failure, from_response
from shepherd.adapters.metrics_http import (
    QueryContext,
    describe_url,
    epoch_seconds,
    finite,
    json_body,
    send_get,
    snippet,
    url_password,
)
from shepherd.domain.watch import Point, Series

log = logging.getLogger("shepherd.prometheus")

# Prometheus refuses a range query when (end - start) / step exceeds this (HTTP 400 bad_data).
MAX_POINTS = 11_000
# errorType values that say "the server was busy or went away", not "your query is wrong".
_TRANSIENT_ERROR_TYPES = frozenset({"timeout", "canceled", "unavailable"})


class PrometheusSource:
    """`GET {base_url}/api/v1/query_range` over one shared httpx client.

    `headers` carries auth for hosted variants (``Authorization``, ``X-Scope-OrgID``); their
    values, like a password in the URL, are redacted from every error message.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = f"Prometheus at {describe_url(base_url)}"
        self._url = base_url.rstrip("/") + "/api/v1/query_range"
        self._timeout = timeout
        self._headers = dict(headers or {})
        password = url_password(base_url)
        # "Bearer <token>": an error page may echo the token alone, so it is a secret by itself.
        credentials = [value.split()[-1] for value in self._headers.values() if value.strip()]
        self._secrets = (*self._headers.values(), *credentials, *([password] if password else []))
        self._owns_client = client is None
        self._client = client or _new_client(timeout)

    def query_range(self, query: str, *, start: datetime, end: datetime, step_seconds: float) -> list[Series]:
        ctx = QueryContext(self.name, query, self._secrets)
        params = range_params(query, start=start, end=end, step_seconds=step_seconds)
        # Ask the server to give up when we do, so an abandoned query stops burning its CPU.
        params["timeout"] = f"{self._timeout:g}s"
        response = send_get(
            self._client, self._url, params=params, headers=self._headers, timeout=self._timeout, ctx=ctx
        )
        body = _checked_body(response, ctx)
        # Warnings mean partial data (e.g. a remote-read store failed); infos are hints.
        for note in body.get("warnings") or []:
            log.warning("%s: warning for query %r: %s", self.name, query, note)
        for note in body.get("infos") or []:
            log.info("%s: info for query %r: %s", self.name, query, note)
        return parse_matrix(body, ctx)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _new_client(timeout: float) -> httpx.Client:
    # Redirects are not followed: httpx would carry custom auth headers (X-Scope-OrgID, API keys)
    # to another origin. A redirect becomes an error naming where to point the URL instead.
    return httpx.Client(timeout=timeout, headers={"User-Agent": "shepherd"})


def range_params(query: str, *, start: datetime, end: datetime, step_seconds: float) -> dict[str, str]:
    """start/end/step in milliseconds-precise seconds, the step clamped to MAX_POINTS per series."""
    start_ms = round(epoch_seconds(start, "start") * 1000)
    end_ms = round(epoch_seconds(end, "end") * 1000)
    if end_ms < start_ms:
        raise ValueError(f"end ({end.isoformat()}) is before start ({start.isoformat()})")
    if not math.isfinite(step_seconds) or step_seconds <= 0:
        raise ValueError(f"step_seconds must be positive, got {step_seconds!r}")
    # Prometheus compares the integer quotient with MAX_POINTS: a ceiling keeps us at or below it.
    min_step_ms = math.ceil((end_ms - start_ms) / MAX_POINTS)
    step_ms = max(round(step_seconds * 1000), min_step_ms, 1)
    if step_ms > round(step_seconds * 1000):
        log.debug(
            "step %.3fs coarsened to %.3fs (Prometheus caps points per series)", step_seconds, step_ms / 1000
        )
    return {"query": query, "start": _seconds(start_ms), "end": _seconds(end_ms), "step": _seconds(step_ms)}


def _seconds(milliseconds: int) -> str:
    whole, frac = divmod(milliseconds, 1000)
    return f"{whole}.{frac:03d}" if frac else str(whole)


def _checked_body(response: httpx.Response, ctx: QueryContext) -> dict[str, Any]:
    body = json_body(response)
    status = response.status_code
    failed = isinstance(body, dict) and body.get("status") == "error"
    if failed:
        error_type = str(body.get("errorType") or "error")
        problem = f"{error_type}: {body.get('error') or 'no detail given'}"
    else:
        error_type = ""
        problem = f"HTTP {status}: {snippet(response) or 'empty answer'}"
    answer = from_response(response)
    if (
        answer is not None and answer.failure is not Failure.PERMANENT
    ) or error_type in _TRANSIENT_ERROR_TYPES:
        raise ctx.unavailable(problem, retry_after=answer.retry_after if answer else None)
    if status in (401, 403):
        raise ctx.error(f"refused (HTTP {status}), check the URL and credentials: {problem}")
    if failed or not 200 <= status < 300:
        raise ctx.error(problem)
    if not isinstance(body, dict):
        raise ctx.error(f"the answer is not Prometheus API JSON (is the URL right?): {problem}")
    return body


def parse_matrix(body: Mapping[str, Any], ctx: QueryContext) -> list[Series]:
    data = body.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        got = data.get("resultType") if isinstance(data, dict) else None
        raise ctx.error(f"expected a matrix from query_range, got resultType {got!r}")
    try:
        return [_series(item) for item in data.get("result") or []]
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ctx.error(f"unexpected shape of the answer: {exc}") from None


def _series(item: Mapping[str, Any]) -> Series:
    labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
    points = []
    # Native-histogram samples arrive under "histograms" and have no single value: skipped.
    for stamp, raw in item.get("values") or []:
        value = finite(raw)  # Prometheus spells NaN and ±Inf as strings; they are not data
        if value is not None:
            points.append(Point(t=float(stamp), v=value))
    return Series(labels=labels, points=tuple(points))
