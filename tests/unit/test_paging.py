"""PageEvent → Events API v2 JSON, checked against PagerDuty's documented example."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shepherd.domain.alerts import MAX_SUMMARY, PageAction, PageEvent, Severity, pagerduty_body
from tests.support import payload_path

KEY = "0123456789abcdef0123456789abcdef"


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(payload_path("pagerduty", name).read_text())
    return loaded


def full_trigger(**changes: Any) -> PageEvent:
    values: dict[str, Any] = {
        "routing_key": KEY,
        "action": PageAction.TRIGGER,
        "dedup_key": "shepherd:deploy:42:watch",
        "summary": "checkout: error rate 4.2% after deploy 42 (was 0.3%)",
        "source": "shepherd/checkout/production",
        "severity": Severity.CRITICAL,
        "timestamp": datetime(2026, 11, 2, 10, 5, 30, tzinfo=UTC),
        "component": "checkout",
        "group": "production",
        "event_class": "deploy regression",
        "custom_details": {"deploy": 42, "suspects": ["alice@example.com"]},
        "links": (("https://shepherd.example.com/deploys/42", "Deploy 42"),),
        "images": (
            ("https://shepherd.example.com/charts/42.png", "https://shepherd.example.com/", "error rate"),
        ),
        "client": "Shepherd",
        "client_url": "https://shepherd.example.com/deploys/42",
    }
    values.update(changes)
    return PageEvent(**values)


def test_trigger_has_the_shape_of_the_documented_example() -> None:
    docs = recorded("docs_trigger_example.json")
    body = pagerduty_body(full_trigger())
    assert set(body) == set(docs)
    assert set(body["payload"]) == set(docs["payload"])
    assert [set(link) for link in body["links"]] == [set(link) for link in docs["links"]]
    assert [set(image) for image in body["images"]] == [set(image) for image in docs["images"]]
    assert body["event_action"] == "trigger" and body["routing_key"] == KEY
    assert body["payload"]["severity"] == "critical"
    assert body["payload"]["class"] == "deploy regression"
    assert body["payload"]["timestamp"] == "2026-11-02T10:05:30+00:00"
    assert body["links"] == [{"href": "https://shepherd.example.com/deploys/42", "text": "Deploy 42"}]
    json.dumps(body)  # goes on the wire as is


def test_every_value_type_matches_the_documented_example() -> None:
    docs = recorded("enqueue_event.json")
    body = pagerduty_body(full_trigger())
    for name in ("routing_key", "dedup_key", "event_action", "client", "client_url"):
        assert type(body[name]) is type(docs[name]), name
    for name in ("summary", "timestamp", "severity", "source", "component", "group", "class"):
        assert type(body["payload"][name]) is type(docs["payload"][name]), name
    assert isinstance(body["payload"]["custom_details"], dict)


def test_optional_fields_are_left_out_not_sent_empty() -> None:
    event = PageEvent(KEY, PageAction.TRIGGER, "k1", summary="down", source="checkout")
    body = pagerduty_body(event)
    assert body == {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": "k1",
        "payload": {"summary": "down", "source": "checkout", "severity": "error"},
    }


@pytest.mark.parametrize("action", [PageAction.ACKNOWLEDGE, PageAction.RESOLVE])
def test_acknowledge_and_resolve_carry_only_the_key(action: PageAction) -> None:
    body = pagerduty_body(full_trigger(action=action))
    assert body == {"routing_key": KEY, "event_action": action.value, "dedup_key": "shepherd:deploy:42:watch"}


def test_a_follow_up_needs_no_summary_or_source() -> None:
    event = PageEvent(KEY, PageAction.RESOLVE, "k1")
    assert pagerduty_body(event)["event_action"] == "resolve"


def test_long_summary_is_cut_to_the_documented_limit() -> None:
    body = pagerduty_body(full_trigger(summary="x" * 5000))
    summary = body["payload"]["summary"]
    assert len(summary) == MAX_SUMMARY and summary.endswith("…")
    exact = "y" * MAX_SUMMARY
    assert pagerduty_body(full_trigger(summary=exact))["payload"]["summary"] == exact


def test_link_without_text_sends_only_href() -> None:
    body = pagerduty_body(full_trigger(links=(("https://a.example/", ""),), images=()))
    assert body["links"] == [{"href": "https://a.example/"}] and "images" not in body


@pytest.mark.parametrize(
    "changes",
    [
        {"routing_key": " "},
        {"dedup_key": ""},
        {"dedup_key": "k" * 256},
        {"summary": "  "},
        {"source": ""},
        {"timestamp": datetime(2026, 11, 2, 10, 5)},
    ],
)
def test_events_pagerduty_would_refuse_are_refused_here(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as info:
        full_trigger(**changes)
    assert KEY not in str(info.value)


def test_routing_key_stays_out_of_repr() -> None:
    event = full_trigger()
    assert KEY not in repr(event) and KEY not in str(event)
