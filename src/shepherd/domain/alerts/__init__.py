"""Alerts: their values and severities, stored alerts, pages, incidents and rollbacks, suspects and paging."""

from shepherd.domain.alerts.model import (
    SEVERITY_WORDS,
    Alert,
    AlertLink,
    AlertMapping,
    AlertStatus,
    Severity,
    severity_of,
)
from shepherd.domain.alerts.paging import MAX_SUMMARY, PageAction, PageEvent, pagerduty_body
from shepherd.domain.alerts.records import (
    Incident,
    IncidentState,
    Page,
    PageState,
    Rollback,
    RollbackState,
    RollbackVia,
    StoredAlert,
)
from shepherd.domain.alerts.routing import Candidate, Suspect, alert_tokens, in_window, rank

__all__ = [
    "MAX_SUMMARY",
    "SEVERITY_WORDS",
    "Alert",
    "AlertLink",
    "AlertMapping",
    "AlertStatus",
    "Candidate",
    "Incident",
    "IncidentState",
    "Page",
    "PageAction",
    "PageEvent",
    "PageState",
    "Rollback",
    "RollbackState",
    "RollbackVia",
    "Severity",
    "StoredAlert",
    "Suspect",
    "alert_tokens",
    "in_window",
    "pagerduty_body",
    "rank",
    "severity_of",
]
