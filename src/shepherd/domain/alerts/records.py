"""Alerts as stored, pages, incidents and rollbacks: plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shepherd.domain.alerts.model import Alert


@dataclass
class StoredAlert:
    """An alert as Shepherd keeps it: one row per (source, fingerprint), in its latest state."""

    alert: Alert
    received_at: datetime
    updated_at: datetime
    id: int | None = None
    routed_status: str | None = None  # the status the router last acted on; differs → route again
    page_id: int | None = None
    ranking: list[dict[str, Any]] = field(default_factory=list)  # suspects, best first, with reasons


class PageState(StrEnum):
    OPEN = "open"  # some of its alerts still fire
    RESOLVED = "resolved"


@dataclass
class Page:
    """The people of one suspect deploy, paged for the alerts of one grouping window."""

    deploy_id: int
    service: str  # the service that alerted (may be a dependent of the deploy's service)
    opened_at: datetime
    group_until: datetime  # alerts until then join this page instead of opening another
    dedup_key: str  # PagerDuty dedup key: the fingerprint of the alert that opened the page
    severity: str
    reasons: list[str]  # why this deploy is suspected, most telling first
    score: float
    state: PageState = PageState.OPEN
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    incident_id: int | None = None
    id: int | None = None


class IncidentState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass
class Incident:
    deploy_id: int
    service: str
    environment: str
    title: str
    trigger: str  # "page" or "verdict"
    opened_at: datetime
    state: IncidentState = IncidentState.OPEN
    resolved_at: datetime | None = None
    resolution: str | None = None
    id: int | None = None
    cause_deploy_id: int | None = None  # the deploy a person confirmed as the cause, or linked
    cause_by: str | None = None
    cause_at: datetime | None = None


class RollbackState(StrEnum):
    REQUESTED = "requested"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        return self in (RollbackState.REQUESTED, RollbackState.RUNNING)


class RollbackVia(StrEnum):
    """Where a rollback was asked for."""

    SLACK = "slack"
    CLI = "cli"
    API = "api"


@dataclass
class Rollback:
    deploy_id: int
    requested_by: str  # a person's name, a Slack user, or "api"/"cli"
    via: RollbackVia
    requested_at: datetime
    action: str  # "command" or "webhook"
    target_sha: str | None = None  # what it rolls back to
    state: RollbackState = RollbackState.REQUESTED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None  # the command's exit code, or the webhook's HTTP status
    output: str = ""
    id: int | None = None
