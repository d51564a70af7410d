"""What the Prometheus and Datadog adapters share: one GET, error wording, redaction, numbers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from shepherd.adapters.http_errors import from_exception
from shepherd.domain.watch import MetricsError, MetricsUnavailable

# Enough of an error page to recognise it; a proxy's HTML page should not fill a Slack message.
_SNIPPET = 300
# Shorter strings are too likely to occur by chance in ordinary text to be worth replacing.
_MIN_SECRET = 4


def describe_url(url: str) -> str:
    """The URL as a person may see it: no user:password, query string or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def url_password(url: str) -> str | None:
    return urlsplit(url).password


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if len(secret) >= _MIN_SECRET:
            text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class QueryContext:
    """Who is asking what, so every failure names the source and the query, minus secrets."""

    source: str
    query: str
    secrets: tuple[str, ...] = ()

    def error(self, problem: str) -> MetricsError:
        return MetricsError(self.source, self.query, redact(problem, self.secrets))

    def unavailable(self, problem: str, *, retry_after: float | None = None) -> MetricsUnavailable:
        return MetricsUnavailable(
            self.source, self.query, redact(problem, self.secrets), retry_after=retry_after
        )


def send_get(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    timeout: float,
    ctx: QueryContext,
) -> httpx.Response:
    """One GET; transport trouble becomes MetricsUnavailable, a misconfiguration MetricsError."""
    try:
        return client.get(url, params=params, headers=headers, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # A wrong URL stays wrong: retrying would only delay telling someone.
        problem = from_exception(exc, timeout=timeout)
        raise (ctx.unavailable(problem.reason) if problem.transient else ctx.error(problem.reason)) from None


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON, or None when the body is not JSON (an HTML error page, say)."""
    try:
        return response.json()
    except ValueError:
        return None


def snippet(response: httpx.Response) -> str:
    """A short, one-line excerpt of the body; for a redirect, where it points."""
    if response.is_redirect:
        return f"redirected to {response.headers.get('Location', '?')} (point the URL there)"
    text = " ".join(response.text.split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def finite(raw: object) -> float | None:
    """A sample value as a float; None for null, NaN, ±Inf or junk (they are not data points)."""
    # bool is an int in Python, but `true` is no sample value.
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def epoch_seconds(moment: datetime, what: str) -> float:
    # A naive datetime would silently be read as the server's local time: refuse it.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return moment.timestamp()
