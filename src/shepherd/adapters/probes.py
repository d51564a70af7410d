"""Cheap calls that tell whether a destination answers again (the circuits' probes).

Slack: `auth.test`, the call Slack documents for checking a token (one every 5 s is 12 a minute).
PagerDuty: a HEAD on the Events API host, which answers (404, 405 or 501 are fine: it answered)
unless it is down (429, 500, 502, 503, 504, a timeout, no connection). A destination without a real
adapter behind it (the console notifier) is never down.
"""

from __future__ import annotations

import httpx

from shepherd.domain.circuits import PAGERDUTY, SLACK
from shepherd.settings import Settings

PROBE_TIMEOUT_SECONDS = 5.0


class HttpProbes:
    def __init__(self, settings: Settings, *, client: httpx.Client | None = None) -> None:
        self._slack = settings.slack
        self._pagerduty = settings.pagerduty
        self._client = client or httpx.Client(timeout=PROBE_TIMEOUT_SECONDS, follow_redirects=False)

    def probe(self, destination: str) -> str | None:
        try:
            if destination == SLACK:
                return self._probe_slack()
            if destination == PAGERDUTY:
                return _answered(self._client.head(self._pagerduty.events_url.rstrip("/") + "/"))
        except httpx.TimeoutException:
            return f"no answer within {PROBE_TIMEOUT_SECONDS:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None  # nothing to ask: e.g. messages printed to the console

    def _probe_slack(self) -> str | None:
        token = self._slack.token
        if token is None:
            return None
        response = self._client.post(
            self._slack.api_url.rstrip("/") + "/auth.test",
            headers={"Authorization": f"Bearer {token.get_secret_value()}"},
        )
        # ok: false (e.g. invalid_auth) is Slack answering too: the jobs meet that error themselves.
        return _answered(response)

    def close(self) -> None:
        self._client.close()


DOWN_STATUSES = frozenset({429, 500, 502, 503, 504})  # others (404, 405, 501…) mean it answered


def _answered(response: httpx.Response) -> str | None:
    if response.status_code in DOWN_STATUSES:
        return f"HTTP {response.status_code}"
    return None
