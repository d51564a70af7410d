"""Ephemeral answers to a button press, posted to the press's `response_url`.

Only Slack's own hooks host (and the configured Slack API host, for fakes and proxies) is ever
called: the URL arrives in a request body, and Shepherd must not become a way to make requests
to arbitrary hosts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from shepherd.adapters.http_errors import Failure, from_exception, from_response
from shepherd.domain.errors import NotifierRateLimited, NotifierRejected, NotifierUnavailable

SLACK_HOOKS = "hooks.slack.com"
DEFAULT_RETRY_AFTER = 30.0  # seconds, when a 429 says nothing: a response_url lives 30 minutes


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
            # Only the type: the URL is a credential for the next 30 minutes, keep it out of logs.
            what = f"response_url: {type(exc).__name__}"
            if from_exception(exc, unknown=Failure.TRANSIENT).transient:
                raise NotifierUnavailable("unreachable", what) from None
            raise NotifierRejected("bad_response_url", what) from None
        problem = from_response(response)
        if problem is None:
            return
        code = f"http_{response.status_code}"
        if problem.rate_limited:
            raise NotifierRateLimited(problem.retry_after or DEFAULT_RETRY_AFTER)
        if problem.transient:
            raise NotifierUnavailable(code, f"Slack answered HTTP {response.status_code}: try again later")
        # expired (30 min, 5 uses) or unknown: nothing to retry
        raise NotifierRejected(code, response.text[:200])
