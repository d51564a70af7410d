"""Grafana Alerting webhook contact point bodies → Alerts. Pure.

Grafana's unified alerting sends Alertmanager's group shape (version "1") plus, per alert,
`silenceURL`, `dashboardURL`, `panelURL`, `imageURL` and the evaluated values: `values`
(`{"B": 44.2, "C": 1}`, Grafana 9.x+) or the older `valueString`. At the top it adds `orgId`,
`title`, `state` and a rendered `message`, which add nothing per alert and are ignored.

The evaluated values become the annotation `values` (unless the rule already has one), so
they reach whoever is told about the alert. The legacy (pre-unified, Grafana ≤ 8) notifier
shape — one rule with `ruleName`, `evalMatches`, `state`, and no start time — is refused with
a clear error: switch the contact point to Grafana Alerting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shepherd.adapters.inbound.alert_fields import fail, join, link, load_object, opt_str, type_name
from shepherd.adapters.inbound.alertmanager import Extras, parse_alert_group
from shepherd.domain.alerts import Alert, AlertMapping, AlertStatus

LEGACY_KEYS = ("ruleName", "ruleId", "evalMatches")


def parse_grafana(body: bytes, mapping: AlertMapping) -> list[Alert]:
    """Every alert of a Grafana Alerting webhook body, in the body's order ([] for none)."""
    data = load_object(body)
    if "alerts" not in data and any(key in data for key in LEGACY_KEYS):
        raise fail(
            "legacy Grafana alert notification (ruleName/evalMatches) is not supported: "
            "use a Grafana Alerting (unified) webhook contact point",
            "alerts",
            shape="grafana-legacy",
        )
    return parse_alert_group(data, "grafana", mapping, _grafana_extras)


def _grafana_extras(raw: dict[str, Any], path: str, state: AlertStatus, labels: Mapping[str, str]) -> Extras:
    links = (
        *link("dashboard", raw.get("dashboardURL"), "dashboard"),
        *link("dashboard", raw.get("panelURL"), "panel"),
        *link("other", raw.get("imageURL"), "image"),
        *(link("silence", raw.get("silenceURL"), "silence") if state is AlertStatus.FIRING else []),
    )
    values = opt_str(raw, "valueString", path) or _values_text(raw, path)
    return Extras(links=links, annotations={"values": values} if values else None)


def _values_text(raw: dict[str, Any], path: str) -> str | None:
    """`{"B": 44.2, "C": 1}` → `B=44.2, C=1` (in the body's order)."""
    values = raw.get("values")
    if values is None:
        return None
    if not isinstance(values, dict):
        raise fail(f"expected an object, got {type_name(values)}", join(path, "values"))
    parts = [
        f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in values.items()
    ]
    return ", ".join(parts) or None
