"""PagerDuty's Events API v2 as a Pager: `POST {base_url}/v2/enqueue`, one event per call.

Retries are the jobs table's business (durable, with backoff), not this adapter's: every
failure becomes PagerRejected (permanent), PagerRateLimited or PagerUnavailable. Resending is
safe because a trigger on a dedup key whose incident is open joins that incident.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from shepherd.adapters.http_errors import Failure, from_exception, from_response
from shepherd.adapters.metrics_http import describe_url, json_body, redact, snippet
from shepherd.domain.alerts import PageEvent, pagerduty_body
from shepherd.domain.errors import PagerRateLimited, PagerRejected, PagerUnavailable

log = logging.getLogger("shepherd.pagerduty")

# PagerDuty sends no Retry-After with its 429 and advises backing off "a few minutes".
DEFAULT_RETRY_AFTER = 60.0


class PagerDutyEvents:
    """Sends PageEvents over one shared httpx client; never logs or reports the routing key."""

    def __init__(self, base_url: str, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self.name = f"PagerDuty at {describe_url(base_url)}"
        self._url = base_url.rstrip("/") + "/v2/enqueue"
        self._timeout = timeout
        self._owns_client = client is None
        # Redirects are not followed: the body carries the routing key, it goes where we point it.
        self._client = client or httpx.Client(timeout=timeout, headers={"User-Agent": "shepherd"})

    def send(self, event: PageEvent) -> str:
        what = f"{self.name}: {event.action.value} {event.dedup_key!r}"
        secrets = (event.routing_key,)
        try:
            response = self._client.post(self._url, json=pagerduty_body(event), timeout=self._timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # Anything unforeseen counts as transient: keep the page alive.
            problem = from_exception(exc, timeout=self._timeout, unknown=Failure.TRANSIENT)
            message = redact(f"{what}: {problem.reason}", secrets)
            raise (PagerUnavailable(message) if problem.transient else PagerRejected(message)) from None
        dedup_key = _accepted(response, what, secrets)
        log.info("%s: accepted (HTTP %s)", what, response.status_code)
        return dedup_key or event.dedup_key

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _accepted(response: httpx.Response, what: str, secrets: tuple[str, ...]) -> str | None:
    """The dedup key PagerDuty answered with; raises for every answer but success."""
    status = response.status_code
    body = json_body(response)
    problem = from_response(response)
    if problem is None:
        if not isinstance(body, dict) or body.get("status") != "success":
            # Something answered, but not the Events API: a page would be lost without a word.
            detail = redact(snippet(response) or "empty answer", secrets)
            raise PagerRejected(
                f"{what}: not a PagerDuty answer (is the URL right?): HTTP {status}: {detail}"
            )
        key = body.get("dedup_key")
        return key if isinstance(key, str) and key else None
    if problem.rate_limited:
        retry_after = problem.retry_after or DEFAULT_RETRY_AFTER
        raise PagerRateLimited(retry_after, f"{what}: rate limited (HTTP 429); retry after {retry_after:g}s")
    if problem.transient:
        detail = redact(snippet(response) or "empty answer", secrets)
        raise PagerUnavailable(f"{what}: HTTP {status}: {detail}")
    if status == 400:
        errors = _errors(body, secrets)
        message = body.get("message") if isinstance(body, dict) else None
        detail = "; ".join(errors) or redact(snippet(response), secrets) or "no detail given"
        reason = redact(str(message), secrets) if message else "invalid event"
        raise PagerRejected(f"{what}: refused (HTTP 400): {reason}: {detail}", errors)
    detail = redact(snippet(response) or "empty answer", secrets)
    hint = " (check the URL)" if status in (404, 405) or response.is_redirect else ""
    raise PagerRejected(f"{what}: refused{hint}: HTTP {status}: {detail}")


def _errors(body: Any, secrets: tuple[str, ...]) -> tuple[str, ...]:
    raw = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        return ()
    return tuple(redact(str(item), secrets) for item in raw)
