"""Alertmanager webhook (version 4) bodies → Alerts. Pure.

One body is one notification of one alert group: it carries every alert of the group, firing
and resolved ones side by side, each with its own `status`, `labels`, `annotations`,
`startsAt`, `endsAt`, `generatorURL` and `fingerprint`. `commonLabels`/`commonAnnotations`
hold what all alerts share; an alert's own values win. Alertmanager writes Go's zero time
(`0001-01-01T00:00:00Z`) for "no end"; a firing alert may also carry a future `endsAt`, which
is an expiry, not an end, so firing alerts never get `ends_at`. Alerts beyond the receiver's
`max_alerts` are dropped by Alertmanager itself (counted in `truncatedAlerts`) and never reach us.

Grafana Alerting sends the same shape with a few more fields (see grafana.py), so the group
walk here is shared and takes a hook for source-specific links and annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shepherd.adapters.inbound.alert_fields import (
    ROOT,
    array,
    dedupe_links,
    fail,
    fingerprint_of,
    first_link,
    http_url,
    join,
    link,
    load_object,
    opt_str,
    required_time,
    status,
    string_map,
    timestamp,
    type_name,
)
from shepherd.domain.alerts import Alert, AlertLink, AlertMapping, AlertStatus, severity_of

SUMMARY_ANNOTATIONS = ("summary", "description", "message")
RUNBOOK_ANNOTATIONS = ("runbook_url", "runbook")
DASHBOARD_ANNOTATIONS = ("dashboard_url", "dashboard", "grafana_url")


@dataclass(frozen=True)
class Extras:
    """What a source adds to one alert beyond the Alertmanager fields."""

    links: tuple[AlertLink, ...] = ()
    annotations: Mapping[str, str] | None = None


# (raw alert, its path, its parsed status, its merged labels) → extras
ExtrasHook = Callable[[dict[str, Any], str, AlertStatus, Mapping[str, str]], Extras]


@dataclass(frozen=True)
class _Group:
    source: str
    mapping: AlertMapping
    status: Any
    labels: dict[str, str]
    annotations: dict[str, str]
    extras: ExtrasHook


def parse_alertmanager(body: bytes, mapping: AlertMapping) -> list[Alert]:
    """Every alert of an Alertmanager webhook body, in the body's order ([] for none)."""
    data = load_object(body)
    external = http_url(data.get("externalURL"))
    return parse_alert_group(data, "alertmanager", mapping, _silence_hook(external))


def parse_alert_group(
    data: dict[str, Any], source: str, mapping: AlertMapping, extras: ExtrasHook
) -> list[Alert]:
    raw_alerts = array(data, "alerts", ROOT)
    group = _Group(
        source=source,
        mapping=mapping,
        status=data.get("status"),
        labels=string_map(data, "commonLabels", ROOT),
        annotations=string_map(data, "commonAnnotations", ROOT),
        extras=extras,
    )
    alerts: list[Alert] = []
    for index, raw in enumerate(raw_alerts):
        path = join("alerts", index)
        if not isinstance(raw, dict):
            raise fail(f"expected an alert object, got {type_name(raw)}", path)
        alerts.append(_alert(raw, path, group))
    return alerts


def _alert(raw: dict[str, Any], path: str, group: _Group) -> Alert:
    labels = {**group.labels, **string_map(raw, "labels", path)}
    annotations = {**group.annotations, **string_map(raw, "annotations", path)}
    name = labels.get("alertname", "").strip()
    if not name:
        raise fail("missing alertname label", join(join(path, "labels"), "alertname"))
    state = status(raw.get("status", group.status), join(path, "status"))
    starts_at = required_time(raw, "startsAt", path)
    ends_raw = raw.get("endsAt")
    ends_at = None if ends_raw in (None, "") else timestamp(ends_raw, join(path, "endsAt"))
    extra = group.extras(raw, path, state, labels)
    if extra.annotations:
        annotations = {**extra.annotations, **annotations}
    links = [
        *link("generator", raw.get("generatorURL")),
        *first_link("runbook", annotations, RUNBOOK_ANNOTATIONS),
        *first_link("dashboard", annotations, DASHBOARD_ANNOTATIONS),
        *extra.links,
    ]
    return Alert(
        source=group.source,
        fingerprint=opt_str(raw, "fingerprint", path) or fingerprint_of(name, labels),
        name=name,
        status=state,
        service=group.mapping.service_in(labels),
        environment=group.mapping.environment_in(labels),
        severity=severity_of(labels.get("severity") or labels.get("priority")),
        starts_at=starts_at,
        ends_at=ends_at if state is AlertStatus.RESOLVED else None,
        summary=next((annotations[k] for k in SUMMARY_ANNOTATIONS if annotations.get(k)), name),
        labels=labels,
        annotations=annotations,
        links=dedupe_links(links),
    )


def _silence_hook(external_url: str | None) -> ExtrasHook:
    """A link to Alertmanager's "new silence" form pre-filled with the alert's labels."""

    def extras(raw: dict[str, Any], path: str, state: AlertStatus, labels: Mapping[str, str]) -> Extras:
        if not external_url or state is not AlertStatus.FIRING:
            return Extras()
        matchers = ", ".join(f'{key}="{_escape(value)}"' for key, value in sorted(labels.items()))
        url = f"{external_url.rstrip('/')}/#/silences/new?filter={quote('{' + matchers + '}', safe='')}"
        return Extras(links=(AlertLink(kind="silence", url=url, title="silence"),))

    return extras


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
