"""PagerDutyEvents against the fake Events API v2: the wire format, incident keys, every failure."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shepherd.adapters.pagerduty import DEFAULT_RETRY_AFTER, PagerDutyEvents
from shepherd.domain.alerts import PageAction, PageEvent, Severity
from shepherd.domain.errors import PagerError, PagerRateLimited, PagerRejected, PagerUnavailable
from shepherd.domain.jobs import PermanentFailure, Transient
from shepherd.services.ports import Pager
from tests.fakes.pagerduty import ROUTING_KEY, FakePagerDuty, running_fake_pagerduty
from tests.support import payload_path


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    with running_fake_pagerduty() as fake:
        yield fake


@pytest.fixture
def pager(pagerduty: FakePagerDuty) -> Iterator[PagerDutyEvents]:
    adapter = PagerDutyEvents(pagerduty.url, timeout=2.0)
    yield adapter
    adapter.close()


def trigger(
    dedup_key: str = "shepherd:deploy:7:watch", routing_key: str = ROUTING_KEY, **more: Any
) -> PageEvent:
    return PageEvent(
        routing_key,
        PageAction.TRIGGER,
        dedup_key,
        summary="checkout: error rate 4.2% since deploy 7",
        source="shepherd/checkout/production",
        severity=Severity.CRITICAL,
        links=(("https://shepherd.example.com/deploys/7", "Deploy 7"),),
        **more,
    )


def follow_up(action: PageAction, dedup_key: str = "shepherd:deploy:7:watch") -> PageEvent:
    return PageEvent(ROUTING_KEY, action, dedup_key)


def assert_no_key(exc: BaseException) -> None:
    """Neither the message, the repr nor anything chained to it shows the routing key."""
    seen: BaseException | None = exc
    while seen is not None:
        assert ROUTING_KEY not in str(seen) and ROUTING_KEY not in repr(seen)
        assert ROUTING_KEY not in " ".join(str(arg) for arg in seen.args)
        seen = seen.__cause__ or seen.__context__


def test_adapter_is_a_pager(pager: PagerDutyEvents) -> None:
    assert isinstance(pager, PagerDutyEvents)
    port: Pager = pager  # mypy checks the Protocol; this documents the intent
    assert port is pager


def test_trigger_is_accepted_and_answers_the_dedup_key(
    pagerduty: FakePagerDuty, pager: PagerDutyEvents
) -> None:
    assert pager.send(trigger()) == "shepherd:deploy:7:watch"
    [event] = pagerduty.events
    assert event["event_action"] == "trigger" and event["routing_key"] == ROUTING_KEY
    assert event["payload"]["severity"] == "critical"
    assert event["links"] == [{"href": "https://shepherd.example.com/deploys/7", "text": "Deploy 7"}]
    incident = pagerduty.open_incident("shepherd:deploy:7:watch")
    assert incident is not None and incident.status == "triggered"


def test_acknowledge_then_resolve_closes_the_incident(
    pagerduty: FakePagerDuty, pager: PagerDutyEvents
) -> None:
    pager.send(trigger())
    assert pager.send(follow_up(PageAction.ACKNOWLEDGE)) == "shepherd:deploy:7:watch"
    incident = pagerduty.open_incident("shepherd:deploy:7:watch")
    assert incident is not None and incident.status == "acknowledged"
    pager.send(follow_up(PageAction.RESOLVE))
    assert pagerduty.open_incident("shepherd:deploy:7:watch") is None
    [closed] = pagerduty.incidents_for("shepherd:deploy:7:watch")
    assert closed.status == "resolved" and len(closed.log) == 3
    assert set(pagerduty.events[-1]) == {"routing_key", "event_action", "dedup_key"}


def test_trigger_twice_with_one_key_is_one_incident(pagerduty: FakePagerDuty, pager: PagerDutyEvents) -> None:
    pager.send(trigger())
    pager.send(trigger())  # a retry after an unknown outcome
    assert len(pagerduty.incidents_for("shepherd:deploy:7:watch")) == 1
    pager.send(follow_up(PageAction.RESOLVE))
    pager.send(trigger())  # after a resolve, the same key opens a new one, as PagerDuty does
    assert [i.status for i in pagerduty.incidents_for("shepherd:deploy:7:watch")] == ["resolved", "triggered"]


def test_resolve_with_nothing_open_is_accepted_and_dropped(
    pagerduty: FakePagerDuty, pager: PagerDutyEvents
) -> None:
    assert pager.send(follow_up(PageAction.RESOLVE, "never-triggered")) == "never-triggered"
    assert pagerduty.incidents == [] and len(pagerduty.dropped) == 1


def test_invalid_event_is_rejected_with_pagerdutys_errors(
    pagerduty: FakePagerDuty, pager: PagerDutyEvents
) -> None:
    with pytest.raises(PagerRejected) as info:
        pager.send(trigger(routing_key="too-short-key"))
    message = str(info.value)
    assert "HTTP 400" in message and "Event object is invalid" in message
    assert "Length of 'routing_key' is incorrect (should be 32 characters)" in message
    assert "shepherd:deploy:7:watch" in message  # which page it was
    assert info.value.errors == ("Length of 'routing_key' is incorrect (should be 32 characters)",)
    assert isinstance(info.value, PermanentFailure) and not isinstance(info.value, Transient)
    assert "too-short-key" not in message
    assert pagerduty.incidents == []


def test_unknown_routing_key_is_rejected_without_showing_it(pagerduty: FakePagerDuty) -> None:
    pagerduty.known_keys = {"f" * 32}
    pager = PagerDutyEvents(pagerduty.url, timeout=2.0)
    with pytest.raises(PagerRejected) as info:
        pager.send(trigger())
    assert "Invalid routing key" in str(info.value)
    assert_no_key(info.value)
    pager.close()


def test_server_error_is_unavailable(pagerduty: FakePagerDuty, pager: PagerDutyEvents) -> None:
    pagerduty.fail_next(1, status=500)
    with pytest.raises(PagerUnavailable) as info:
        pager.send(trigger())
    assert isinstance(info.value, Transient) and "HTTP 500" in str(info.value)
    assert_no_key(info.value)
    assert pager.send(trigger()) == "shepherd:deploy:7:watch"  # the retry gets through
    assert len(pagerduty.incidents) == 1


def test_retry_after_a_5xx_that_was_processed_pages_once(
    pagerduty: FakePagerDuty, pager: PagerDutyEvents
) -> None:
    pagerduty.fail_next(1, status=503, but_accept=True)
    with pytest.raises(PagerUnavailable):
        pager.send(trigger())
    pager.send(trigger())
    [incident] = pagerduty.incidents
    assert len(incident.log) == 2 and incident.status == "triggered"


def test_rate_limit_says_when_to_retry(pagerduty: FakePagerDuty, pager: PagerDutyEvents) -> None:
    pagerduty.fail_next(1, status=429)
    with pytest.raises(PagerRateLimited) as info:
        pager.send(trigger())
    assert info.value.retry_after == DEFAULT_RETRY_AFTER  # PagerDuty sends no Retry-After
    assert isinstance(info.value, Transient)
    assert_no_key(info.value)
    pagerduty.fail_next(1, status=429, retry_after=7)
    with pytest.raises(PagerRateLimited) as info:
        pager.send(trigger())
    assert info.value.retry_after == 7 and "429" in str(info.value)
    assert pagerduty.incidents == []


def test_timeout_is_unavailable(pagerduty: FakePagerDuty) -> None:
    pagerduty.delay = 5.0
    pager = PagerDutyEvents(pagerduty.url, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(PagerUnavailable) as info:
        pager.send(trigger())
    assert time.monotonic() - started < 2.0
    assert "no answer within 0.2s" in str(info.value)
    assert_no_key(info.value)
    pager.close()


def test_connection_refused_is_unavailable() -> None:
    with running_fake_pagerduty() as fake:
        url = fake.url
    pager = PagerDutyEvents(url, timeout=1.0)  # the server is gone now
    with pytest.raises(PagerUnavailable) as info:
        pager.send(trigger())
    assert "unreachable" in str(info.value)
    assert_no_key(info.value)


def test_wrong_url_is_rejected_not_retried(pagerduty: FakePagerDuty) -> None:
    pager = PagerDutyEvents(pagerduty.url + "/not-the-api", timeout=2.0)
    with pytest.raises(PagerRejected) as info:
        pager.send(trigger())
    assert "HTTP 404" in str(info.value) and "check the URL" in str(info.value)
    with pytest.raises(PagerRejected, match="bad URL"):
        PagerDutyEvents("ftp://events.example.com", timeout=1.0).send(trigger())


def test_a_2xx_that_is_not_pagerduty_is_not_taken_for_success() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>captive portal</html>")

    pager = PagerDutyEvents(
        "https://events.example.com", 1.0, client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(PagerRejected, match="not a PagerDuty answer"):
        pager.send(trigger())


def test_routing_key_echoed_by_the_server_is_redacted(
    pagerduty: FakePagerDuty, pager: PagerDutyEvents, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pagerduty.fail_next(1, status=502, message=f"upstream refused key {ROUTING_KEY}")
    with pytest.raises(PagerUnavailable) as info:
        pager.send(trigger())
    assert "***" in str(info.value)
    assert_no_key(info.value)
    pager.send(trigger())
    pager.send(follow_up(PageAction.RESOLVE))
    assert ROUTING_KEY not in caplog.text


def test_every_failure_is_a_pager_error(pagerduty: FakePagerDuty, pager: PagerDutyEvents) -> None:
    for status in (400, 401, 403, 413, 429, 500, 502, 503, 504):
        pagerduty.fail_next(1, status=status)
        with pytest.raises(PagerError) as info:
            pager.send(trigger())
        assert_no_key(info.value)
        transient = isinstance(info.value, Transient)
        assert transient == (status == 429 or status >= 500), status


def test_fake_answers_recorded_payloads_as_pagerduty_would(pagerduty: FakePagerDuty) -> None:
    """The recorded docs examples: a 32-character key is accepted, the placeholder key is not."""
    enqueue = json.loads(payload_path("pagerduty", "enqueue_event.json").read_text())
    docs = json.loads(payload_path("pagerduty", "docs_trigger_example.json").read_text())
    with httpx.Client(base_url=pagerduty.url) as client:
        accepted = client.post("/v2/enqueue", json=enqueue)
        refused = client.post("/v2/enqueue", json=docs)
        junk = client.post("/v2/enqueue", json={**enqueue, "payload": {"summary": "x", "severity": "sev1"}})
    assert accepted.status_code == 202
    assert accepted.json() == {"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"}
    assert refused.status_code == 400
    assert refused.json()["errors"] == ["Length of 'routing_key' is incorrect (should be 32 characters)"]
    assert junk.status_code == 400 and len(junk.json()["errors"]) == 2  # no source, bad severity
