"""Datadog's v1 timeseries query (`GET /api/v1/query`) as a MetricsSource."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx

from shepherd.adapters.http_errors import from_response
from shepherd.adapters.metrics_http import (
    QueryContext,
    describe_url,
    epoch_seconds,
    finite,
    json_body,
    send_get,
    snippet,
)
from shepherd.domain.watch import Point, Series

log = logging.getLogger("shepherd.datadog")

DEFAULT_API_URL = "https://api.datadoghq.com"


class DatadogSource:
    """Queries one Datadog site with an API key and an application key (both kept out of messages).

    Datadog chooses the rollup interval from the time window itself; `step_seconds` is only a
    hint here. A check that needs a fixed interval says so in its query: ``….rollup(avg, 60)``.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        *,
        api_key: str,
        app_key: str,
        timeout: float = 10,
        client: httpx.Client | None = None,
    ) -> None:
        if not api_key or not app_key:
            raise ValueError("Datadog needs both an API key and an application key")
        self.name = f"Datadog at {describe_url(api_url)}"
        self._url = api_url.rstrip("/") + "/api/v1/query"
        self._timeout = timeout
        self._headers = {"DD-API-KEY": api_key, "DD-APPLICATION-KEY": app_key, "Accept": "application/json"}
        self._secrets = (api_key, app_key)
        self._owns_client = client is None
        # Redirects are not followed: the keys travel in headers httpx would forward anywhere.
        self._client = client or httpx.Client(timeout=timeout, headers={"User-Agent": "shepherd"})

    def query_range(self, query: str, *, start: datetime, end: datetime, step_seconds: float) -> list[Series]:
        ctx = QueryContext(self.name, query, self._secrets)
        first = math.floor(epoch_seconds(start, "start"))
        last = math.ceil(epoch_seconds(end, "end"))
        if last < first:
            raise ValueError(f"end ({end.isoformat()}) is before start ({start.isoformat()})")
        params = {"from": str(first), "to": str(last), "query": query}
        response = send_get(
            self._client, self._url, params=params, headers=self._headers, timeout=self._timeout, ctx=ctx
        )
        return parse_series(_checked_body(response, ctx), ctx)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _checked_body(response: httpx.Response, ctx: QueryContext) -> dict[str, Any]:
    body = json_body(response)
    status = response.status_code
    problem = f"HTTP {status}: {_errors_of(body) or snippet(response) or 'empty answer'}"
    # Datadog says when its window resets, not Retry-After.
    answer = from_response(response, wait_header="X-RateLimit-Reset")
    if answer is not None and answer.rate_limited:
        reset = answer.retry_after
        when = f"resets in {reset:g}s" if reset is not None else "no X-RateLimit-Reset given"
        limit = response.headers.get("X-RateLimit-Name") or "query"
        raise ctx.unavailable(f"rate limited ({limit} limit; {when})", retry_after=reset)
    if answer is not None and answer.transient:
        raise ctx.unavailable(problem)
    if status in (401, 403):
        raise ctx.error(f"refused the API/application key or its permissions (timeseries_query): {problem}")
    if not 200 <= status < 300:
        raise ctx.error(problem)
    if not isinstance(body, dict):
        raise ctx.error(f"the answer is not Datadog API JSON (is the URL the API host?): {problem}")
    if body.get("status") == "error" or body.get("error"):
        raise ctx.error(f"query failed: {body.get('error') or 'status error, no detail given'}")
    return body


def _errors_of(body: Any) -> str:
    """Datadog's error body is {"errors": ["…"]}; anything else gives an empty string."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors)
    return str(body.get("error") or "")


def parse_series(body: Mapping[str, Any], ctx: QueryContext) -> list[Series]:
    try:
        return [_series(item) for item in body.get("series") or []]
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ctx.error(f"unexpected shape of the answer: {exc}") from None


def _series(item: Mapping[str, Any]) -> Series:
    points = []
    for stamp, raw in item.get("pointlist") or []:
        value = finite(raw)  # null marks an interval without data
        if value is not None:
            points.append(Point(t=float(stamp) / 1000.0, v=value))
    return Series(labels=tags_to_labels(item.get("scope"), item.get("tag_set")), points=tuple(points))


def tags_to_labels(scope: object, tag_set: object) -> dict[str, str]:
    """Labels from the series' scope ("env:prod,version:v2") overlaid with its group tags.

    A tag without a colon becomes a label with an empty value; "*" (no filter) and negated
    filters ("!env:staging") are not properties of the series and are left out.
    """
    scope_tags = scope.split(",") if isinstance(scope, str) else []
    group_tags = [str(t) for t in tag_set] if isinstance(tag_set, list) else []
    labels: dict[str, str] = {}
    for tag in _clean([*scope_tags, *group_tags]):  # group tags last: they win
        key, _, value = tag.partition(":")  # values may hold colons (url:http://…)
        labels[key] = value
    return labels


def _clean(tags: Iterable[str]) -> Iterable[str]:
    for tag in tags:
        tag = tag.strip()
        if tag and tag != "*" and not tag.startswith("!"):
            yield tag
