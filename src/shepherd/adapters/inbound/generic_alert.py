"""Shepherd's own generic alert JSON → Alerts (reference: docs/alerts-generic.md). Pure.

For anything that can POST JSON but is not Alertmanager, Grafana or Datadog: a body is
`{"alerts": [ALERT, …]}` or one ALERT object at the top level, where ALERT is

    {"name": str, "status": "firing" | "resolved",
     "service"?: str, "environment"?: str, "severity"?: str, "fingerprint"?: str,
     "starts_at"?: ISO-8601 with zone | epoch seconds, "ends_at"?: same, "summary"?: str,
     "labels"?: {str: scalar}, "annotations"?: {str: scalar},
     "links"?: [{"kind": "generator"|"runbook"|"dashboard"|"silence"|"other", "url": str, "title"?: str}]}

Unknown fields are ignored. Defaults: `starts_at` = when the body was received; resolved
alerts end at `ends_at` or the receive time (firing ones have no end); `fingerprint` = a hash
of name + labels (with service and environment), stable across firing → resolved; `severity`
= `severity`, else the `severity` or `priority` label; service and environment from the
fields, else from the labels as `alerts:` in shepherd.yaml says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shepherd.adapters.inbound.alert_fields import (
    ROOT,
    array,
    dedupe_links,
    fail,
    fingerprint_of,
    http_url,
    join,
    load_object,
    opt_str,
    optional_time,
    req_str,
    status,
    string_map,
    type_name,
)
from shepherd.domain.alerts import Alert, AlertLink, AlertMapping, AlertStatus, severity_of

LINK_KINDS = ("generator", "runbook", "dashboard", "silence", "other")


def parse_generic(body: bytes, mapping: AlertMapping, *, received_at: datetime | None = None) -> list[Alert]:
    """The alerts of a generic body, in order; `received_at` (default: now) fills missing times."""
    data = load_object(body)
    now = (received_at or datetime.now(UTC)).astimezone(UTC)
    if "alerts" not in data:
        return [_alert(data, ROOT, mapping, now)]
    alerts: list[Alert] = []
    for index, raw in enumerate(array(data, "alerts", ROOT)):
        path = join("alerts", index)
        if not isinstance(raw, dict):
            raise fail(f"expected an alert object, got {type_name(raw)}", path)
        alerts.append(_alert(raw, path, mapping, now))
    return alerts


def _alert(raw: dict[str, Any], path: str, mapping: AlertMapping, now: datetime) -> Alert:
    name = req_str(raw, "name", path)
    if raw.get("status") is None:
        raise fail("missing, expected 'firing' or 'resolved'", join(path, "status"))
    state = status(raw["status"], join(path, "status"))
    labels = string_map(raw, "labels", path, coerce=True)
    service = opt_str(raw, "service", path)
    environment = opt_str(raw, "environment", path)
    if service:
        labels.setdefault("service", service)
    if environment:
        labels.setdefault("environment", environment)
    starts_at = optional_time(raw, "starts_at", path) or now
    ends_at = (optional_time(raw, "ends_at", path) or now) if state is AlertStatus.RESOLVED else None
    severity = opt_str(raw, "severity", path) or labels.get("severity") or labels.get("priority")
    return Alert(
        source="generic",
        fingerprint=opt_str(raw, "fingerprint", path) or fingerprint_of(name, labels),
        name=name,
        status=state,
        service=_service(service, labels, mapping),
        environment=environment or mapping.environment_in(labels),
        severity=severity_of(severity),
        starts_at=starts_at,
        ends_at=ends_at,
        summary=opt_str(raw, "summary", path) or name,
        labels=labels,
        annotations=string_map(raw, "annotations", path, coerce=True),
        links=_links(raw, path),
    )


def _service(explicit: str | None, labels: dict[str, str], mapping: AlertMapping) -> str | None:
    if explicit and (not mapping.known_services or explicit in mapping.known_services):
        return explicit
    return mapping.service_in(labels)


def _links(raw: dict[str, Any], path: str) -> tuple[AlertLink, ...]:
    value = raw.get("links")
    where = join(path, "links")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fail(f"expected an array, got {type_name(value)}", where)
    links: list[AlertLink] = []
    for index, item in enumerate(value):
        item_path = join(where, index)
        if not isinstance(item, dict):
            raise fail(f"expected a link object, got {type_name(item)}", item_path)
        kind = req_str(item, "kind", item_path)
        if kind not in LINK_KINDS:
            raise fail(
                f"unknown link kind {kind!r}, expected one of {', '.join(LINK_KINDS)}",
                join(item_path, "kind"),
            )
        url = http_url(req_str(item, "url", item_path))
        if url is None:
            raise fail("expected an absolute http(s) URL", join(item_path, "url"))
        links.append(AlertLink(kind=kind, url=url, title=opt_str(item, "title", item_path) or ""))
    return dedupe_links(links)
