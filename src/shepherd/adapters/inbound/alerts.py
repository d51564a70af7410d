"""Inbound alert webhooks: one pure parser per source, each `raw body → list[Alert]`.

| source         | route                       | parser               | module            |
|----------------|-----------------------------|----------------------|-------------------|
| `alertmanager` | `POST /webhooks/alertmanager` | `parse_alertmanager` | alertmanager.py   |
| `grafana`      | `POST /webhooks/grafana`    | `parse_grafana`      | grafana.py        |
| `datadog`      | `POST /webhooks/datadog`    | `parse_datadog`      | datadog_alerts.py |
| `generic`      | `POST /webhooks/generic`    | `parse_generic`      | generic_alert.py  |

Every parser raises `PayloadError` (details `{"path": …}` says where) for a body it cannot
use, and returns `[]` for a valid body without alerts. Times are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shepherd.adapters.inbound.alertmanager import parse_alertmanager
from shepherd.adapters.inbound.datadog_alerts import parse_datadog
from shepherd.adapters.inbound.errors import PayloadError
from shepherd.adapters.inbound.generic_alert import parse_generic
from shepherd.adapters.inbound.grafana import parse_grafana
from shepherd.domain.alerts import Alert, AlertMapping

AlertParser = Callable[[bytes, AlertMapping], list[Alert]]

PARSERS: Mapping[str, AlertParser] = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "datadog": parse_datadog,
    "generic": parse_generic,
}


def parse_alerts(source: str, body: bytes, mapping: AlertMapping) -> list[Alert]:
    """Dispatch on the source name of the route (`/webhooks/{source}`)."""
    parser = PARSERS.get(source)
    if parser is None:
        raise PayloadError(
            f"unknown alert source {source!r}", details={"path": "source", "known": sorted(PARSERS)}
        )
    return parser(body, mapping)


__all__ = [
    "PARSERS",
    "AlertParser",
    "PayloadError",
    "parse_alertmanager",
    "parse_alerts",
    "parse_datadog",
    "parse_generic",
    "parse_grafana",
]
