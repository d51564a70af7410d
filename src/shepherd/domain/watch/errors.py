"""What a metrics source raises: a person-readable problem, or an outage worth retrying."""

from __future__ import annotations

from shepherd.domain.jobs import Transient

# A query pasted into a Slack message or a log line should not drown the reason next to it.
_QUERY_SHOWN = 200


def _clip(text: str, limit: int = _QUERY_SHOWN) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class MetricsError(Exception):
    """A query that cannot succeed as asked (bad query, refused credentials, wrong URL).

    The message names the source, the query and the problem, e.g.
    ``Prometheus at http://prom:9090: bad_data: parse error … [query: rate(x[5m]]``.
    Callers must never put secrets in `problem`; adapters redact before raising.
    """

    def __init__(self, source: str, query: str, problem: str) -> None:
        super().__init__(f"{source}: {problem} [query: {_clip(query)}]")
        self.source = source
        self.query = query
        self.problem = problem


class MetricsUnavailable(MetricsError, Transient):
    """The source could not be reached or was overloaded (timeouts, 5xx, 429): try later.

    `retry_after` is the source's own hint in seconds (e.g. Datadog's X-RateLimit-Reset), if any.
    """

    def __init__(self, source: str, query: str, problem: str, *, retry_after: float | None = None) -> None:
        super().__init__(source, query, problem)
        self.retry_after = retry_after
