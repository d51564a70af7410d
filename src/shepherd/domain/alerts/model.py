"""Alerts from monitoring systems, as plain values every inbound parser produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(StrEnum):
    """Normalised severities, lowest first; each source's words are mapped onto these."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


# What monitoring tools call their severities, mapped onto ours. Unknown words → WARNING.
SEVERITY_WORDS: Mapping[str, Severity] = {
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "low": Severity.INFO,
    "none": Severity.INFO,
    "p5": Severity.INFO,
    "p4": Severity.WARNING,
    "warn": Severity.WARNING,
    "warning": Severity.WARNING,
    "medium": Severity.WARNING,
    "p3": Severity.ERROR,
    "error": Severity.ERROR,
    "high": Severity.ERROR,
    "major": Severity.ERROR,
    "p2": Severity.CRITICAL,
    "p1": Severity.CRITICAL,
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "emergency": Severity.CRITICAL,
}


def severity_of(word: str | None, default: Severity = Severity.WARNING) -> Severity:
    if not word:
        return default
    return SEVERITY_WORDS.get(word.strip().lower(), default)


@dataclass(frozen=True)
class AlertLink:
    kind: str  # "generator", "runbook", "dashboard", "silence", "other"
    url: str
    title: str = ""


@dataclass(frozen=True)
class Alert:
    """One alert (one label set / one monitor group) in one state, as a source reported it."""

    source: str  # "alertmanager", "grafana", "datadog", "generic"
    fingerprint: str  # stable per alert across firing → resolved; the dedup key
    name: str  # alertname / rule title / monitor name
    status: AlertStatus
    service: str | None  # mapped from labels/tags; None when no label names a known service
    environment: str | None
    severity: Severity
    starts_at: datetime
    ends_at: datetime | None = None
    summary: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    links: tuple[AlertLink, ...] = ()

    @property
    def firing(self) -> bool:
        return self.status is AlertStatus.FIRING


@dataclass(frozen=True)
class AlertMapping:
    """How labels/tags name a service and an environment (config `alerts:`), first match wins."""

    service_labels: tuple[str, ...] = ("service", "app", "job")
    environment_labels: tuple[str, ...] = ("environment", "env")
    known_services: frozenset[str] = frozenset()  # empty: accept any label value
    default_environment: str | None = None

    def service_in(self, labels: Mapping[str, str]) -> str | None:
        for key in self.service_labels:
            value = labels.get(key)
            if value and (not self.known_services or value in self.known_services):
                return value
        return None

    def environment_in(self, labels: Mapping[str, str]) -> str | None:
        for key in self.environment_labels:
            if labels.get(key):
                return labels[key]
        return self.default_environment
