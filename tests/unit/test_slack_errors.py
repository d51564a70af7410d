"""How Slack's answers become Notifier errors: wait, retry (maybe sent?), or give up."""

from __future__ import annotations

from typing import Any
from urllib.error import URLError

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from shepherd.adapters.slack.client import call
from shepherd.adapters.slack.responses import SlackResponses
from shepherd.domain.errors import NotifierRateLimited, NotifierRejected, NotifierUnavailable
from shepherd.domain.jobs import RetryLater

HOOK = "https://hooks.slack.com/actions/T1/1/abc"


def failing(status: int, error: str, headers: dict[str, Any] | None = None) -> Any:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )

    def method(**_: Any) -> Any:
        raise SlackApiError(error, response)

    return method


def test_rate_limits_wait_what_slack_asks() -> None:
    with pytest.raises(NotifierRateLimited) as limited:
        call(failing(429, "ratelimited", {"Retry-After": ["12"]}), posting=True)
    assert limited.value.retry_after == 12.0 and isinstance(limited.value, RetryLater)
    with pytest.raises(NotifierRateLimited) as told:
        call(failing(200, "ratelimited"), posting=True)
    assert told.value.retry_after == 1.0


def test_try_again_answers_say_whether_a_post_may_have_landed() -> None:
    with pytest.raises(NotifierUnavailable) as internal:
        call(failing(200, "internal_error"), posting=True)
    assert internal.value.code == "internal_error" and internal.value.maybe_sent
    with pytest.raises(NotifierUnavailable) as server:
        call(failing(503, ""), posting=False)
    assert server.value.code == "http_503" and not server.value.maybe_sent

    def refused(**_: Any) -> Any:
        raise URLError(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(NotifierUnavailable) as down:
        call(refused, posting=True)
    assert not down.value.maybe_sent and "unreachable" in str(down.value)


def test_anything_else_is_a_refusal() -> None:
    with pytest.raises(NotifierRejected) as refused:
        call(failing(200, "channel_not_found"), posting=True)
    assert refused.value.code == "channel_not_found"


def responder(answer: httpx.Response | Exception) -> SlackResponses:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = httpx.Client(transport=httpx.MockTransport(handle))
    return SlackResponses(api_url="https://slack.com/api/", client=client)


def test_response_url_answers() -> None:
    responder(httpx.Response(200, text="ok")).respond(HOOK, "hi")
    with pytest.raises(NotifierRateLimited) as limited:
        responder(httpx.Response(429)).respond(HOOK, "hi")
    assert limited.value.retry_after == 30.0
    with pytest.raises(NotifierRateLimited) as told:
        responder(httpx.Response(429, headers={"Retry-After": "4"})).respond(HOOK, "hi")
    assert told.value.retry_after == 4.0
    with pytest.raises(NotifierUnavailable):
        responder(httpx.Response(502)).respond(HOOK, "hi")
    with pytest.raises(NotifierUnavailable):
        responder(httpx.ConnectError("refused")).respond(HOOK, "hi")
    for expired in (httpx.Response(404, text="expired_url"), httpx.Response(302)):
        with pytest.raises(NotifierRejected):
            responder(expired).respond(HOOK, "hi")
