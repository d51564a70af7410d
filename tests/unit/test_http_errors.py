"""One reading of HTTP failures for every adapter: rate limited, transient or permanent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.error import URLError

import httpx
import pytest

from shepherd.adapters.http_errors import Failure, from_exception, from_response, from_status, seconds


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (429, Failure.RATE_LIMITED),
        (500, Failure.TRANSIENT),
        (503, Failure.TRANSIENT),
        (408, Failure.TRANSIENT),
        (425, Failure.TRANSIENT),
        (400, Failure.PERMANENT),
        (401, Failure.PERMANENT),
        (404, Failure.PERMANENT),
        (301, Failure.PERMANENT),  # redirects are never followed
    ],
)
def test_statuses(status: int, failure: Failure) -> None:
    problem = from_status(status)
    assert problem is not None and problem.failure is failure and problem.status == status
    assert problem.maybe_delivered is (status >= 500)


def test_success_is_no_problem() -> None:
    assert from_status(200) is None and from_status(204) is None
    assert from_response(httpx.Response(202)) is None


def wait_of(status: int, headers: dict[str, object], name: str = "Retry-After") -> float | None:
    problem = from_status(status, headers, wait_header=name)
    assert problem is not None
    return problem.retry_after


def test_retry_after_is_read_once_in_any_spelling() -> None:
    answer = from_response(httpx.Response(429, headers={"retry-after": "7"}))
    assert answer is not None and answer.retry_after == 7.0
    assert wait_of(429, {"Retry-After": ["2.5"]}) == 2.5  # slack_sdk's headers may hold lists
    assert wait_of(429, {}) is None
    assert wait_of(503, {"Retry-After": "30"}) == 30.0
    assert wait_of(429, {"X-RateLimit-Reset": "9"}, "X-RateLimit-Reset") == 9.0
    for junk in ("soon", "-1", "nan", "inf", ""):
        assert seconds({"Retry-After": junk}) is None, junk
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    wait = seconds({"Retry-After": later})
    assert wait is not None and 100 < wait <= 120
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert seconds({"Retry-After": earlier}) == 0.0


def test_no_answer() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:9/")
    timeout = from_exception(httpx.ReadTimeout("slow", request=request), timeout=0.5)
    assert timeout.failure is Failure.TRANSIENT and timeout.reason == "no answer within 0.5s (ReadTimeout)"
    assert timeout.maybe_delivered
    refused = from_exception(httpx.ConnectError("refused", request=request))
    assert refused.reason == "unreachable: refused" and refused.transient and not refused.maybe_delivered
    assert from_exception(httpx.UnsupportedProtocol("ftp")).failure is Failure.PERMANENT
    assert from_exception(httpx.InvalidURL("bad")).reason == "bad URL: bad"
    odd = httpx.DecodingError("garbled", request=request)
    assert from_exception(odd).failure is Failure.PERMANENT
    assert from_exception(odd, unknown=Failure.TRANSIENT).failure is Failure.TRANSIENT


def test_no_answer_through_urllib() -> None:
    refused = from_exception(URLError(ConnectionRefusedError(111, "Connection refused")))
    assert refused.transient and not refused.maybe_delivered
    reset = from_exception(ConnectionResetError(104, "reset"))
    assert reset.transient and reset.maybe_delivered
    assert from_exception(TimeoutError("timed out")).reason == "no answer (TimeoutError)"
