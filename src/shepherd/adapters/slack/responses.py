"""Ephemeral answers to a button press, posted to the press's `response_url`.

Only Slack's own hooks host (and the configured Slack API host, for fakes and proxies) is ever
called: the URL arrives in a request body, and Shepherd must not become a way to make requests
to arbitrary hosts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from shepherd.domain.errors import NotifierRateLimited, NotifierRejected, NotifierUnavailable

SLACK_HOOKS = "hooks.slack.com"


class SlackResponses:
    def __init__(self, *, api_url: str, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        api = urlsplit(api_url)
        self._allowed = {("https", SLACK_HOOKS), (api.scheme, api.netloc)}
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) in self._allowed

    def respond(self, url: str, text: str) -> None:
        if not self.allowed(url):
            raise NotifierRejected("bad_response_url", "response_url is not on Slack's hooks host")
        body = {"response_type": "ephemeral", "replace_original": False, "text": text}
        try:
            response = self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise NotifierUnavailable("unreachable", f"response_url: {type(exc).__name__}") from None
        if response.status_code == 429:
            raise NotifierRateLimited(float(response.headers.get("Retry-After") or 30))
        if response.status_code >= 500:
            raise NotifierUnavailable(f"http_{response.status_code}", "Slack answered with a server error")
        if response.status_code >= 400:  # expired (30 min, 5 uses) or unknown: nothing to retry
            raise NotifierRejected(f"http_{response.status_code}", response.text[:200])
