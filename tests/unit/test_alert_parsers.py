"""Alert webhook parsers against the recorded payloads in ../shared/payloads, and broken variants."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shepherd.adapters.inbound.alerts import (
    PARSERS,
    parse_alertmanager,
    parse_alerts,
    parse_datadog,
    parse_generic,
    parse_grafana,
)
from shepherd.adapters.inbound.errors import PayloadError
from shepherd.adapters.inbound.github import PayloadError as GithubPayloadError
from shepherd.domain.alerts import Alert, AlertLink, AlertMapping, AlertStatus, Severity
from tests.support import payload_path

MAPPING = AlertMapping()
AM_LABELS = {
    "alertname": "HighErrorRatio",
    "env": "prod",
    "instance": "127.0.0.1:8000",
    "job": "demo",
    "service": "checkout",
    "severity": "critical",
    "team": "payments",
}
AM_ANNOTATIONS = {
    "description": "error ratio is 0.9",
    "runbook_url": "https://example.invalid/runbooks/high-error-ratio",
    "summary": "High error ratio on checkout",
}
AM_GENERATOR = AlertLink("generator", "http://vm:9090/graph?g0.expr=demo_error_ratio+%3E+0.5&g0.tab=1")
AM_RUNBOOK = AlertLink("runbook", "https://example.invalid/runbooks/high-error-ratio")
AM_SILENCE = AlertLink(
    "silence",
    "http://vm:9093/#/silences/new?filter=%7Balertname%3D%22HighErrorRatio%22%2C%20env%3D%22prod%22"
    "%2C%20instance%3D%22127.0.0.1%3A8000%22%2C%20job%3D%22demo%22%2C%20service%3D%22checkout%22"
    "%2C%20severity%3D%22critical%22%2C%20team%3D%22payments%22%7D",
    "silence",
)


def raw(*parts: str) -> bytes:
    return payload_path(*parts).read_bytes()


def recorded(*parts: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw(*parts))
    return data


def encode(data: Any) -> bytes:
    return json.dumps(data).encode()


def refused(parser: Any, body: bytes, mapping: AlertMapping = MAPPING) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        parser(body, mapping)
    return info.value


# --- Alertmanager -------------------------------------------------------------------------


def test_alertmanager_recorded_firing() -> None:
    assert parse_alertmanager(raw("alertmanager", "firing.json"), MAPPING) == [
        Alert(
            source="alertmanager",
            fingerprint="8bf296667f8d90b8",
            name="HighErrorRatio",
            status=AlertStatus.FIRING,
            service="checkout",
            environment="prod",
            severity=Severity.CRITICAL,
            starts_at=datetime(2026, 11, 22, 13, 35, 7, 988000, tzinfo=UTC),
            ends_at=None,
            summary="High error ratio on checkout",
            labels=AM_LABELS,
            annotations=AM_ANNOTATIONS,
            links=(AM_GENERATOR, AM_RUNBOOK, AM_SILENCE),
        )
    ]


def test_alertmanager_recorded_resolved_has_end_same_fingerprint_and_no_silence_link() -> None:
    [alert] = parse_alertmanager(raw("alertmanager", "resolved.json"), MAPPING)
    assert alert.status is AlertStatus.RESOLVED and not alert.firing
    assert alert.fingerprint == "8bf296667f8d90b8"
    assert alert.starts_at == datetime(2026, 11, 22, 13, 35, 7, 988000, tzinfo=UTC)
    assert alert.ends_at == datetime(2026, 11, 22, 13, 35, 13, 988000, tzinfo=UTC)
    assert alert.ends_at.utcoffset() is not None
    assert alert.links == (AM_GENERATOR, AM_RUNBOOK)
    assert (alert.service, alert.environment, alert.severity) == ("checkout", "prod", Severity.CRITICAL)


def test_alertmanager_recorded_headers_match_body() -> None:
    headers = payload_path("alertmanager", "headers.txt").read_text()
    assert "User-Agent: Alertmanager/0.25.0" in headers
    assert f"Content-Length: {len(raw('alertmanager', 'firing.json'))}" in headers


def _am_alert(name: str, status: str, fingerprint: str, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {},
        "startsAt": "2026-11-22T14:00:00.123456789+01:00",
        "endsAt": "2026-11-22T14:05:00Z" if status == "resolved" else "2026-11-22T14:09:00Z",
        "generatorURL": "",
        "fingerprint": fingerprint,
    }


def test_alertmanager_many_alerts_firing_and_resolved_mixed() -> None:
    data = recorded("alertmanager", "firing.json")
    data["status"] = "firing"
    data["commonLabels"] = {"service": "checkout", "severity": "critical", "team": "payments"}
    data["commonAnnotations"] = {}
    data["alerts"] = [
        _am_alert("Latency", "firing", "aaaa000000000001", instance="a"),
        _am_alert("Latency", "resolved", "aaaa000000000002", instance="b"),
        _am_alert("Latency", "firing", "aaaa000000000003", instance="c", severity="warning"),
    ]
    alerts = parse_alertmanager(encode(data), MAPPING)
    assert [(a.fingerprint, a.status) for a in alerts] == [
        ("aaaa000000000001", AlertStatus.FIRING),
        ("aaaa000000000002", AlertStatus.RESOLVED),
        ("aaaa000000000003", AlertStatus.FIRING),
    ]
    # commonLabels are merged in under each alert's own labels; the alert's own win
    assert [a.labels["instance"] for a in alerts] == ["a", "b", "c"]
    assert [a.severity for a in alerts] == [Severity.CRITICAL, Severity.CRITICAL, Severity.WARNING]
    assert alerts[0].labels["team"] == "payments" and alerts[0].service == "checkout"
    # nanoseconds, +01:00 → UTC; a firing alert's future endsAt is an expiry, not an end
    assert alerts[0].starts_at == datetime(2026, 11, 22, 13, 0, 0, 123456, tzinfo=UTC)
    assert alerts[0].starts_at.tzinfo is UTC and alerts[1].ends_at is not None
    assert alerts[1].ends_at.tzinfo is UTC
    assert alerts[0].ends_at is None and alerts[2].ends_at is None
    assert alerts[1].ends_at == datetime(2026, 11, 22, 14, 5, tzinfo=UTC)
    # summary falls back to the alert name; an empty generatorURL gives no link
    assert alerts[0].summary == "Latency"
    assert [link.kind for link in alerts[1].links] == []


def test_alertmanager_empty_alert_list_is_valid() -> None:
    data = recorded("alertmanager", "firing.json")
    data["alerts"] = []
    assert parse_alertmanager(encode(data), MAPPING) == []


def test_alertmanager_fingerprint_falls_back_to_a_stable_label_hash() -> None:
    firing = recorded("alertmanager", "firing.json")
    resolved = recorded("alertmanager", "resolved.json")
    for data in (firing, resolved):
        del data["alerts"][0]["fingerprint"]
    [a] = parse_alertmanager(encode(firing), MAPPING)
    [b] = parse_alertmanager(encode(resolved), MAPPING)
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 16 and int(a.fingerprint, 16) >= 0
    firing["alerts"][0]["labels"]["instance"] = "127.0.0.1:8001"
    firing["commonLabels"]["instance"] = "127.0.0.1:8001"
    [c] = parse_alertmanager(encode(firing), MAPPING)
    assert c.fingerprint != a.fingerprint


def test_alertmanager_summary_and_link_annotations() -> None:
    data = recorded("alertmanager", "firing.json")
    data["commonAnnotations"] = {}
    data["alerts"][0]["annotations"] = {
        "message": "the message",
        "runbook": "https://wiki.example.com/rb",
        "grafana_url": "https://grafana.example.com/d/x",
        "dashboard": "not a url",
    }
    [alert] = parse_alertmanager(encode(data), MAPPING)
    assert alert.summary == "the message"
    assert alert.links[:3] == (
        AM_GENERATOR,
        AlertLink("runbook", "https://wiki.example.com/rb"),
        AlertLink("dashboard", "https://grafana.example.com/d/x"),
    )


def test_alertmanager_severity_from_priority_label_and_default() -> None:
    data = recorded("alertmanager", "firing.json")
    data["commonLabels"] = {}
    labels = data["alerts"][0]["labels"]
    del labels["severity"]
    labels["priority"] = "P3"
    assert parse_alertmanager(encode(data), MAPPING)[0].severity is Severity.ERROR
    del labels["priority"]
    assert parse_alertmanager(encode(data), MAPPING)[0].severity is Severity.WARNING


# --- mapping ------------------------------------------------------------------------------


def test_mapping_service_from_app_label_when_service_missing() -> None:
    data = recorded("alertmanager", "firing.json")
    data["commonLabels"] = {}
    labels = data["alerts"][0]["labels"]
    del labels["service"], labels["env"]
    labels["app"] = "payments-api"
    [alert] = parse_alertmanager(encode(data), MAPPING)
    assert alert.service == "payments-api"
    assert alert.environment is None
    defaulted = AlertMapping(default_environment="production")
    assert parse_alertmanager(encode(data), defaulted)[0].environment == "production"


def test_mapping_known_services_filter() -> None:
    data = recorded("alertmanager", "firing.json")
    known = AlertMapping(known_services=frozenset({"demo"}))
    # `service=checkout` is unknown, so the next label (`app` absent, then `job=demo`) names it
    assert parse_alertmanager(encode(data), known)[0].service == "demo"
    nobody = AlertMapping(known_services=frozenset({"billing"}))
    assert parse_alertmanager(encode(data), nobody)[0].service is None
    custom = AlertMapping(service_labels=("team",), environment_labels=("zone",))
    [grafana_alert, _] = parse_grafana(raw("grafana", "webhook_example.json"), custom)
    assert (grafana_alert.service, grafana_alert.environment) == ("blue", "us-1")


# --- malformed bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parser", "parts"),
    [
        (parse_alertmanager, ("alertmanager", "firing.json")),
        (parse_alertmanager, ("alertmanager", "resolved.json")),
        (parse_grafana, ("grafana", "webhook_example.json")),
        (parse_datadog, ("datadog", "default_payload_template.json")),
    ],
)
def test_truncated_recorded_bodies_are_refused_as_truncated(parser: Any, parts: tuple[str, str]) -> None:
    body = raw(*parts)
    error = refused(parser, body[: len(body) // 2])
    assert "not valid JSON (the body ends early: truncated?)" in str(error)
    assert error.details["path"] == "(body)" and error.details["truncated"] is True
    assert error.details["line"] >= 1


@pytest.mark.parametrize("parser", list(PARSERS.values()))
def test_non_json_and_non_object_bodies(parser: Any) -> None:
    assert "not valid JSON" in str(refused(parser, b"{'single': 'quotes'}"))
    assert refused(parser, b"{'single': 'quotes'}").details["truncated"] is False
    assert str(refused(parser, b"")) == "body is empty, expected a JSON object"
    assert str(refused(parser, b"\xff\xfe{}")) == "body is not UTF-8 (byte 0)"
    assert str(refused(parser, b"[" * 100_000)) == "body is nested too deeply to be an alert payload"
    error = refused(parser, b"[1, 2]")
    assert str(error) == "body must be a JSON object, got an array"
    assert error.details == {"path": "(body)"}


def _broken_alertmanager(change: Any) -> PayloadError:
    data = recorded("alertmanager", "firing.json")
    data["alerts"] = [_am_alert(f"A{i}", "firing", f"f{i}") for i in range(4)]
    data["commonLabels"] = {"team": "payments"}
    data["commonAnnotations"] = {}
    change(data)
    return refused(parse_alertmanager, encode(data))


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d.pop("alerts"), "alerts", "missing, expected an array"),
        (lambda d: d.update(alerts={"a": 1}), "alerts", "expected an array, got an object"),
        (lambda d: d["alerts"].__setitem__(2, "x"), "alerts[2]", "expected an alert object, got a string"),
        (lambda d: d["alerts"][3].update(startsAt="yesterday"), "alerts[3].startsAt", "not an ISO-8601 time"),
        (
            lambda d: d["alerts"][3].update(startsAt="2026-11-22T13:35:07"),
            "alerts[3].startsAt",
            "no time zone",
        ),
        (lambda d: d["alerts"][3].pop("startsAt"), "alerts[3].startsAt", "missing, expected a time"),
        (lambda d: d["alerts"][1].update(startsAt=True), "alerts[1].startsAt", "got a boolean"),
        (lambda d: d["alerts"][1].update(endsAt="soon"), "alerts[1].endsAt", "not an ISO-8601 time"),
        (lambda d: d["alerts"][0].update(status="pending"), "alerts[0].status", "'firing' or 'resolved'"),
        (lambda d: d["alerts"][0].update(labels=[]), "alerts[0].labels", "expected an object, got an array"),
        (lambda d: d["alerts"][0]["labels"].update(port=80), "alerts[0].labels.port", "expected a string"),
        (lambda d: d["alerts"][0]["labels"].pop("alertname"), "alerts[0].labels.alertname", "alertname"),
        (lambda d: d["alerts"][0].update(fingerprint=7), "alerts[0].fingerprint", "got a number"),
        (lambda d: d.update(commonLabels="x"), "commonLabels", "expected an object, got a string"),
        (lambda d: d["commonAnnotations"].update(x=None), "commonAnnotations.x", "got null"),
    ],
)
def test_alertmanager_broken_fields_say_where(change: Any, path: str, message: str) -> None:
    error = _broken_alertmanager(change)
    assert error.details == {"path": path}
    assert str(error).startswith(f"{path}: ") and message in str(error)


def test_alertmanager_status_falls_back_to_group_status() -> None:
    data = recorded("alertmanager", "resolved.json")
    del data["alerts"][0]["status"]
    assert parse_alertmanager(encode(data), MAPPING)[0].status is AlertStatus.RESOLVED


# --- Grafana ------------------------------------------------------------------------------


def test_grafana_recorded_example() -> None:
    memory, cpu = parse_grafana(raw("grafana", "webhook_example.json"), MAPPING)
    assert memory == Alert(
        source="grafana",
        fingerprint="c6eadffa33fcdf37",
        name="High memory usage",
        status=AlertStatus.FIRING,
        service=None,
        environment=None,
        severity=Severity.WARNING,
        starts_at=datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC),
        ends_at=None,
        summary="This alert was triggered for zone us-1",
        labels={"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
        annotations={
            "description": "The system has high memory usage",
            "runbook_url": "https://myrunbook.com/runbook/1234",
            "summary": "This alert was triggered for zone us-1",
            "values": "B=44.23943737541908, C=1",
        },
        links=(
            AlertLink("generator", "https://play.grafana.org/alerting/1afz29v7z/edit"),
            AlertLink("runbook", "https://myrunbook.com/runbook/1234"),
            AlertLink(
                "silence",
                "https://play.grafana.org/alerting/silence/new?alertmanager=grafana"
                "&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
                "silence",
            ),
        ),
    )
    assert (cpu.name, cpu.fingerprint, cpu.labels["zone"]) == ("High CPU usage", "bc97ff14869b13e3", "eu-1")
    assert cpu.starts_at == datetime(2021, 10, 12, 7, 56, 3, 157076, tzinfo=UTC)
    # +02:00 in the body; equality ignores the zone, so check it is UTC itself
    assert memory.starts_at.tzinfo is UTC and cpu.starts_at.tzinfo is UTC
    assert cpu.summary == "This alert was triggered for zone eu-1"


def test_grafana_dashboard_panel_image_links_and_value_string() -> None:
    data = recorded("grafana", "webhook_example.json")
    alert = data["alerts"][0]
    alert.update(
        status="resolved",
        endsAt="2021-10-12T10:01:03+02:00",
        dashboardURL="https://g.example.com/d/abc",
        panelURL="https://g.example.com/d/abc?viewPanel=2",
        imageURL="https://g.example.com/img/1.png",
        valueString="[ metric='' labels={} value=14151.33 ]",
    )
    [resolved, _] = parse_grafana(encode(data), MAPPING)
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.ends_at == datetime(2021, 10, 12, 8, 1, 3, tzinfo=UTC)
    assert resolved.annotations["values"] == "[ metric='' labels={} value=14151.33 ]"
    assert resolved.links == (
        AlertLink("generator", "https://play.grafana.org/alerting/1afz29v7z/edit"),
        AlertLink("runbook", "https://myrunbook.com/runbook/1234"),
        AlertLink("dashboard", "https://g.example.com/d/abc", "dashboard"),
        AlertLink("dashboard", "https://g.example.com/d/abc?viewPanel=2", "panel"),
        AlertLink("other", "https://g.example.com/img/1.png", "image"),
    )


def test_grafana_broken_values_and_legacy_shape() -> None:
    data = recorded("grafana", "webhook_example.json")
    data["alerts"][1]["values"] = [1, 2]
    error = refused(parse_grafana, encode(data))
    assert error.details == {"path": "alerts[1].values"}
    legacy = {
        "dashboardId": 1,
        "evalMatches": [{"value": 100, "metric": "High value", "tags": None}],
        "orgId": 1,
        "panelId": 2,
        "ruleId": 1,
        "ruleName": "Panel Title alert",
        "ruleUrl": "http://localhost:3000/d/x",
        "state": "alerting",
        "title": "[Alerting] Panel Title alert",
    }
    error = refused(parse_grafana, encode(legacy))
    assert "legacy Grafana alert notification" in str(error)
    assert error.details == {"path": "alerts", "shape": "grafana-legacy"}


# --- Datadog ------------------------------------------------------------------------------

DD_TRIGGERED: dict[str, Any] = {
    "id": "7690123456789012345",
    "title": "[P2] [Triggered on {service:checkout,env:prod}] Checkout error rate high",
    "body": "%%%\n@webhook-shepherd @slack-payments Error rate 0.12 > 0.05\n\nmore text\n%%%",
    "date": "1763818507000",
    "last_updated": "1763818507000",
    "event_type": "query_alert_monitor",
    "org": {"id": "123", "name": "Acme"},
}


def render_default_template(values: dict[str, str]) -> bytes:
    """The recorded default template with Datadog's variables substituted (JSON-escaped)."""
    text = raw("datadog", "default_payload_template.json").decode()
    for key in sorted(values, key=len, reverse=True):
        text = text.replace(f'"${key}"', json.dumps(values[key]))
    return text.encode()


def test_datadog_recorded_template_unrendered_is_refused() -> None:
    error = refused(parse_datadog, raw("datadog", "default_payload_template.json"))
    assert error.details == {"path": "title"}
    assert "$EVENT_TITLE" in str(error) and "rendered" in str(error)


def test_datadog_default_template_rendered() -> None:
    body = render_default_template(
        {
            "EVENT_MSG": DD_TRIGGERED["body"],
            "LAST_UPDATED": "1763818507000",
            "EVENT_TYPE": "query_alert_monitor",
            "EVENT_TITLE": DD_TRIGGERED["title"],
            "DATE": "1763818507000",
            "ORG_ID": "123",
            "ORG_NAME": "Acme",
            "ID": "7690123456789012345",
        }
    )
    [alert] = parse_datadog(body, MAPPING)
    assert alert.source == "datadog"
    assert alert.name == "Checkout error rate high"
    assert alert.status is AlertStatus.FIRING
    assert (alert.service, alert.environment) == ("checkout", "prod")
    assert alert.severity is Severity.CRITICAL  # [P2]
    assert alert.starts_at == datetime(2025, 11, 22, 13, 35, 7, tzinfo=UTC) and alert.ends_at is None
    assert alert.summary == "Error rate 0.12 > 0.05"
    assert alert.labels == {"service": "checkout", "env": "prod"}
    assert alert.annotations == {
        "message": "@webhook-shepherd @slack-payments Error rate 0.12 > 0.05\n\nmore text",
        "event_type": "query_alert_monitor",
        "event_id": "7690123456789012345",
    }
    assert alert.links == ()
    assert len(alert.fingerprint) == 16


def test_datadog_default_template_recovered_matches_triggered_fingerprint() -> None:
    recovered = {
        **DD_TRIGGERED,
        "id": "7690123456789099999",
        "title": "[P2] [Recovered on {service:checkout,env:prod}] Checkout error rate high",
        "date": 1763819107000,
    }
    [fired] = parse_datadog(encode(DD_TRIGGERED), MAPPING)
    [ok] = parse_datadog(encode(recovered), MAPPING)
    assert ok.status is AlertStatus.RESOLVED
    assert ok.fingerprint == fired.fingerprint
    assert ok.name == fired.name
    assert ok.ends_at == ok.starts_at == datetime(2025, 11, 22, 13, 45, 7, tzinfo=UTC)


RICH: dict[str, Any] = {
    "id": "1111",
    "title": "[Triggered on {host:web-1}] Host is Down",
    "alert_id": "1234",
    "alert_transition": "Triggered",
    "alert_type": "error",
    "alert_priority": "P4",
    "alert_scope": "host:web-1, availability-zone:us-east-1a",
    "alert_status": "system.load.1 over host:web-1 was > 0 at least once during the last 1m",
    "alert_query": "avg(last_1m):avg:system.load.1{*} by {host} > 0",
    "alert_metric": "system.load.1",
    "aggreg_key": "9bd4ac313a4d1e8fae2482df7b77628",
    "priority": "normal",
    "tags": "monitor, service:web, env:staging, team:core",
    "hostname": "web-1",
    "link": "https://app.datadoghq.com/event/event?id=1111",
    "snapshot": "https://p.datadoghq.com/snapshot/view/x.png",
    "date": 1406662672,
}


def test_datadog_rich_template() -> None:
    [alert] = parse_datadog(encode(RICH), MAPPING)
    assert alert.name == "Host is Down"
    assert alert.fingerprint == "9bd4ac313a4d1e8fae2482df7b77628"
    assert alert.status is AlertStatus.FIRING
    assert alert.severity is Severity.WARNING  # P4 wins over alert_type error
    assert alert.starts_at == datetime(2014, 7, 29, 19, 37, 52, tzinfo=UTC)  # epoch seconds
    assert alert.summary == RICH["alert_status"]
    assert alert.labels == {
        "monitor": "",
        "service": "web",
        "env": "staging",
        "team": "core",
        "host": "web-1",
        "availability-zone": "us-east-1a",
    }
    assert (alert.service, alert.environment) == ("web", "staging")
    assert alert.annotations["query"] == RICH["alert_query"]
    assert alert.annotations["metric"] == "system.load.1"
    assert alert.annotations["monitor_id"] == "1234"
    assert alert.links == (
        AlertLink("generator", "https://app.datadoghq.com/event/event?id=1111"),
        AlertLink("other", "https://p.datadoghq.com/snapshot/view/x.png", "snapshot"),
    )


def test_datadog_fingerprint_from_alert_id_and_scope_without_aggregation_key() -> None:
    data = {**RICH, "aggreg_key": ""}
    assert (
        parse_datadog(encode(data), MAPPING)[0].fingerprint == "1234/availability-zone:us-east-1a,host:web-1"
    )
    data["alert_scope"] = "$ALERT_SCOPE"  # never substituted: absent; the title's scope is used
    assert parse_datadog(encode(data), MAPPING)[0].fingerprint == "1234/host:web-1"


@pytest.mark.parametrize(
    ("transition", "expected"),
    [
        ("Triggered", AlertStatus.FIRING),
        ("Re-Triggered", AlertStatus.FIRING),
        ("Warn", AlertStatus.FIRING),
        ("Re-Warn", AlertStatus.FIRING),
        ("No Data", AlertStatus.FIRING),
        ("Re-No Data", AlertStatus.FIRING),
        ("Renotify", AlertStatus.FIRING),
        ("Recovered", AlertStatus.RESOLVED),
    ],
)
def test_datadog_transitions(transition: str, expected: AlertStatus) -> None:
    data = {**RICH, "title": "Host is Down", "alert_transition": transition}
    [alert] = parse_datadog(encode(data), MAPPING)
    assert alert.status is expected
    assert (alert.ends_at is not None) is (expected is AlertStatus.RESOLVED)


def test_datadog_recovered_by_key_spelling_and_alert_type() -> None:
    upper = {"ALERT_TRANSITION": "Recovered", "ALERT_TITLE": "Host is Down", "DATE": "1406662672000"}
    [alert] = parse_datadog(encode(upper), MAPPING)
    assert alert.status is AlertStatus.RESOLVED and alert.name == "Host is Down"
    assert alert.ends_at == datetime(2014, 7, 29, 19, 37, 52, tzinfo=UTC)  # epoch ms
    camel = {
        "alertTransition": "Null",
        "alertType": "success",
        "title": "Host is Down",
        "date": 1406662672000,
    }
    assert parse_datadog(encode(camel), MAPPING)[0].status is AlertStatus.RESOLVED


def test_datadog_tags_as_list_and_severity_fallbacks() -> None:
    data: dict[str, Any] = {
        "title": "Queue depth",
        "date": "2026-11-22T13:35:07Z",
        "tags": ["service:queue", "severity:info"],
    }
    [alert] = parse_datadog(encode(data), MAPPING)
    assert alert.labels == {"service": "queue", "severity": "info"}
    assert alert.severity is Severity.INFO and alert.service == "queue"
    assert alert.starts_at == datetime(2026, 11, 22, 13, 35, 7, tzinfo=UTC)
    assert alert.summary == "Queue depth"
    data = {"title": "Queue depth", "date": 1406662672, "alert_type": "warning", "priority": "low"}
    assert parse_datadog(encode(data), MAPPING)[0].severity is Severity.WARNING


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"date": "1406662672000"}, "title", "missing or empty"),
        ({"title": "x"}, "date", "missing, expected the event time"),
        ({"title": "x", "date": "$DATE"}, "date", "$DATE"),
        ({"title": "x", "date": "last week"}, "date", "not an ISO-8601 time"),
        ({"title": "x", "date": -5}, "date", "must be positive"),
        ({"title": "x", "date": 10**30}, "date", "out of range"),
        ({"title": ["x"], "date": 1}, "title", "expected a string, got an array"),
        ({"title": "x", "date": 1, "tags": {"a": "b"}}, "tags", "comma-separated string or an array"),
        ({"title": "x", "date": 1, "tags": ["a:b", 3]}, "tags[1]", "expected a tag string"),
        ({"title": "x", "date": 1, "alert_scope": 5}, "alert_scope", "comma-separated string"),
        ({"title": "x", "date": 1, "alert_id": {"id": 1}}, "alert_id", "expected a string"),
    ],
)
def test_datadog_broken_fields_say_where(data: dict[str, Any], path: str, message: str) -> None:
    error = refused(parse_datadog, encode(data))
    assert error.details == {"path": path}
    assert message in str(error)


# --- generic ------------------------------------------------------------------------------

RECEIVED = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
A: dict[str, Any] = {"name": "a", "status": "firing"}


def test_generic_single_alert_with_defaults() -> None:
    body = encode({"name": "DiskFull", "status": "firing", "labels": {"app": "db", "shard": 3}})
    [alert] = parse_generic(body, MAPPING, received_at=RECEIVED)
    assert alert.source == "generic"
    assert alert.name == "DiskFull" and alert.summary == "DiskFull"
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {"app": "db", "shard": "3"}
    assert alert.service == "db" and alert.environment is None
    assert alert.severity is Severity.WARNING
    assert alert.starts_at == RECEIVED and alert.ends_at is None
    assert alert.links == () and alert.annotations == {}
    assert len(alert.fingerprint) == 16


def test_generic_list_of_alerts() -> None:
    body = encode(
        {
            "alerts": [
                {
                    "name": "CheckoutErrorRate",
                    "status": "firing",
                    "service": "checkout",
                    "environment": "production",
                    "severity": "critical",
                    "fingerprint": "chk-5xx",
                    "starts_at": "2026-11-22T14:35:07+01:00",
                    "summary": "5xx ratio 12%",
                    "labels": {"region": "eu-west-1"},
                    "annotations": {"threshold": 0.05, "paging": True},
                    "links": [
                        {"kind": "dashboard", "url": "https://grafana.example.com/d/c", "title": "Checkout"},
                        {"kind": "runbook", "url": "https://wiki.example.com/rb"},
                    ],
                },
                {"name": "Latency", "status": "resolved", "starts_at": 1763818507, "ends_at": 1763819107.5},
            ]
        }
    )
    first, second = parse_generic(body, MAPPING, received_at=RECEIVED)
    assert first == Alert(
        source="generic",
        fingerprint="chk-5xx",
        name="CheckoutErrorRate",
        status=AlertStatus.FIRING,
        service="checkout",
        environment="production",
        severity=Severity.CRITICAL,
        starts_at=datetime(2026, 11, 22, 13, 35, 7, tzinfo=UTC),
        ends_at=None,
        summary="5xx ratio 12%",
        labels={"region": "eu-west-1", "service": "checkout", "environment": "production"},
        annotations={"threshold": "0.05", "paging": "true"},
        links=(
            AlertLink("dashboard", "https://grafana.example.com/d/c", "Checkout"),
            AlertLink("runbook", "https://wiki.example.com/rb"),
        ),
    )
    assert second.status is AlertStatus.RESOLVED
    assert second.starts_at == datetime(2025, 11, 22, 13, 35, 7, tzinfo=UTC)
    assert second.ends_at == datetime(2025, 11, 22, 13, 45, 7, 500000, tzinfo=UTC)
    assert parse_generic(b'{"alerts": []}', MAPPING) == []


def test_generic_resolved_matches_firing_and_defaults_its_end() -> None:
    alert = {"name": "DiskFull", "service": "db", "labels": {"volume": "/data"}}
    [fired] = parse_generic(encode({**alert, "status": "firing"}), MAPPING, received_at=RECEIVED)
    [ok] = parse_generic(encode({**alert, "status": "RESOLVED"}), MAPPING, received_at=RECEIVED)
    assert ok.fingerprint == fired.fingerprint and ok.status is AlertStatus.RESOLVED
    assert ok.ends_at == RECEIVED
    [other] = parse_generic(encode({**alert, "service": "api", "status": "firing"}), MAPPING)
    assert other.fingerprint != fired.fingerprint
    assert other.starts_at.tzinfo is UTC


def test_generic_unknown_explicit_service_falls_back_to_labels() -> None:
    known = AlertMapping(known_services=frozenset({"db"}))
    body = encode({"name": "X", "status": "firing", "service": "nope", "labels": {"app": "db"}})
    assert parse_generic(body, known, received_at=RECEIVED)[0].service == "db"


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"status": "firing"}, "name", "missing or empty"),
        ({"name": "x"}, "status", "missing, expected 'firing' or 'resolved'"),
        ({"name": "x", "status": "ok"}, "status", "expected 'firing' or 'resolved', got 'ok'"),
        ({"name": 5, "status": "firing"}, "name", "expected a string, got a number"),
        ({"alerts": [A, 3]}, "alerts[1]", "expected an alert object"),
        ({"alerts": [{**A, "starts_at": "2026-13-01T00:00:00Z"}]}, "alerts[0].starts_at", "ISO-8601"),
        (
            {"alerts": [A, {**A, "status": "resolved", "ends_at": "tomorrow"}]},
            "alerts[1].ends_at",
            "ISO-8601",
        ),
        ({**A, "labels": {"k": [1]}}, "labels.k", "expected a string, got an array"),
        ({**A, "links": {}}, "links", "expected an array"),
        ({**A, "links": ["x"]}, "links[0]", "expected a link object"),
        ({**A, "links": [{"kind": "wiki", "url": "https://x"}]}, "links[0].kind", "unknown link kind"),
        ({**A, "links": [{"kind": "runbook"}]}, "links[0].url", "missing or empty"),
        ({**A, "links": [{"kind": "runbook", "url": "ftp://x"}]}, "links[0].url", "http(s)"),
    ],
)
def test_generic_broken_fields_say_where(data: dict[str, Any], path: str, message: str) -> None:
    error = refused(parse_generic, encode(data))
    assert error.details == {"path": path}
    assert message in str(error)


# --- dispatch and the shared error type ---------------------------------------------------


def test_parse_alerts_dispatches_by_source() -> None:
    assert set(PARSERS) == {"alertmanager", "grafana", "datadog", "generic"}
    [alert] = parse_alerts("alertmanager", raw("alertmanager", "firing.json"), MAPPING)
    assert alert.source == "alertmanager"
    with pytest.raises(PayloadError) as info:
        parse_alerts("nagios", b"{}", MAPPING)
    assert info.value.details == {
        "path": "source",
        "known": ["alertmanager", "datadog", "generic", "grafana"],
    }


def test_payload_error_is_shared_with_the_github_parser() -> None:
    assert GithubPayloadError is PayloadError
    assert issubclass(PayloadError, ValueError)


# --- every field of every recorded body, replaced by every wrong kind of value -------------

WRONG_VALUES: list[Any] = [None, 0, -1, 1e300, float("nan"), True, "", "x", "$DATE", [], ["x"], {}]


def _sample(source: str) -> dict[str, Any]:
    if source == "alertmanager":
        return recorded("alertmanager", "firing.json")
    if source == "grafana":
        return recorded("grafana", "webhook_example.json")
    if source == "datadog":
        return {**DD_TRIGGERED, **RICH}
    link = {"kind": "runbook", "url": "https://wiki.example.com/rb", "title": "rb"}
    return {"alerts": [{**A, "starts_at": 1763818507, "labels": {"a": "b"}, "links": [link]}]}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize("source", sorted(PARSERS))
def test_no_wrong_value_anywhere_escapes_as_anything_but_payload_error(source: str) -> None:
    data = _sample(source)
    assert parse_alerts(source, encode(data), MAPPING)  # the sample itself is valid
    outcomes = {"parsed": 0, "refused": 0}
    for path in _paths(data):
        for value in WRONG_VALUES:
            body = encode(_replaced(data, path, value))
            try:
                alerts = parse_alerts(source, body, MAPPING)
            except PayloadError as error:
                assert isinstance(error.details, dict) and isinstance(error.details.get("path"), str)
                outcomes["refused"] += 1
            else:
                assert all(isinstance(alert, Alert) for alert in alerts)
                outcomes["parsed"] += 1
    assert outcomes["parsed"] > 0 and outcomes["refused"] > 0
