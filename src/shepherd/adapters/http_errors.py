"""What an HTTP failure means, decided once for every adapter: wait, retry, or give up.

Each adapter turns the answer into its own error type (NotifierRateLimited, PagerUnavailable,
MetricsError, …); which of the three it is, and how long a rate limit asks to wait, is
decided here, so Slack, PagerDuty, the metric sources and rollback webhooks agree.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.error import URLError

import httpx

# Answers that say "not now" rather than "never": request timeout, too early.
TRANSIENT_4XX = frozenset({408, 425})


class Failure(StrEnum):
    RATE_LIMITED = "rate_limited"  # wait as long as the destination asks, then send again
    TRANSIENT = "transient"  # no answer, a timeout, a 5xx: worth another try after a backoff
    PERMANENT = "permanent"  # any other 4xx, a bad URL: sending it again cannot help


@dataclass(frozen=True)
class HttpProblem:
    failure: Failure
    reason: str  # "HTTP 503", "no answer within 10s (ReadTimeout)", …; never a secret by itself
    status: int | None = None  # None: there was no answer
    retry_after: float | None = None  # seconds the destination asked to wait, when it said
    maybe_delivered: bool = False  # the request may have been acted on (a timeout, a 5xx)

    @property
    def rate_limited(self) -> bool:
        return self.failure is Failure.RATE_LIMITED

    @property
    def transient(self) -> bool:
        return self.failure is Failure.TRANSIENT


def from_status(
    status: int, headers: Mapping[str, object] | None = None, *, wait_header: str = "Retry-After"
) -> HttpProblem | None:
    """None for a 2xx; a redirect counts as permanent (adapters never follow one).

    The wait is read from any answer, not only a 429: a 503 may say when to come back too.
    """
    if 200 <= status < 300:
        return None
    reason = f"HTTP {status}"
    wait = seconds(headers or {}, wait_header)
    if status == 429:
        return HttpProblem(Failure.RATE_LIMITED, reason, status, retry_after=wait)
    if status >= 500 or status in TRANSIENT_4XX:
        return HttpProblem(Failure.TRANSIENT, reason, status, wait, maybe_delivered=status >= 500)
    return HttpProblem(Failure.PERMANENT, reason, status, wait)


def from_response(response: httpx.Response, *, wait_header: str = "Retry-After") -> HttpProblem | None:
    return from_status(response.status_code, response.headers, wait_header=wait_header)


def from_exception(
    exc: BaseException, *, timeout: float | None = None, unknown: Failure = Failure.PERMANENT
) -> HttpProblem:
    """A request that got no answer. `unknown`: what an unforeseen httpx error counts as."""
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        within = f" within {timeout:g}s" if timeout is not None else ""
        return HttpProblem(Failure.TRANSIENT, f"no answer{within} ({name})", maybe_delivered=True)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return HttpProblem(Failure.PERMANENT, f"bad URL: {exc}")
    if isinstance(exc, httpx.NetworkError | httpx.ProxyError | httpx.RemoteProtocolError):
        refused = isinstance(exc, httpx.ConnectError)
        return HttpProblem(Failure.TRANSIENT, f"unreachable: {exc or name}", maybe_delivered=not refused)
    if isinstance(exc, httpx.HTTPError):
        return HttpProblem(unknown, f"request failed: {exc or name}", maybe_delivered=True)
    if isinstance(exc, URLError | OSError):  # urllib (slack_sdk) and plain sockets
        cause = exc.reason if isinstance(exc, URLError) else exc
        # Refused: nothing reached the other side, so a post certainly did not land.
        refused = isinstance(cause, ConnectionRefusedError)
        return HttpProblem(Failure.TRANSIENT, f"unreachable: {cause}", maybe_delivered=not refused)
    return HttpProblem(unknown, f"request failed: {exc or name}", maybe_delivered=True)


def seconds(headers: Mapping[str, object], name: str = "Retry-After") -> float | None:
    """A header's wait in seconds: a number, or (Retry-After) an HTTP date; None if neither."""
    raw = _header(headers, name)
    if raw is None:
        return None
    value: float | None
    try:
        value = float(raw)
    except ValueError:
        value = _until(raw)
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def _header(headers: Mapping[str, object], name: str) -> str | None:
    # httpx headers ignore case; slack_sdk hands over a plain dict, sometimes of lists.
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            first = value[0] if isinstance(value, list | tuple) and value else value
            return str(first).strip()
    return None


def _until(date: str) -> float | None:
    try:
        moment = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())
