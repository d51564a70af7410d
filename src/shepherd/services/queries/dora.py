"""Delivery metrics for a service or a team over a period: the five DORA keys as JSON.

The definitions are domain/delivery's (docs/delivery.md); this reads the history they need and
shapes the answer for `GET /api/v1/delivery`, `shepherd dora` and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shepherd.domain.config import ShepherdConfig
from shepherd.domain.delivery import (
    REVERT_WINDOW,
    Delivery,
    History,
    analyse,
    delivery,
    failure_rate_band,
    frequency_band,
    lead_time_band,
    recovery_band,
)
from shepherd.services.collector import collector_paused
from shepherd.services.errors import Invalid, UnknownService
from shepherd.services.ports import Clock, UnitOfWorkFactory
from shepherd.services.queries.views import iso

DEFAULT_DAYS = 30
GroupBy = Literal["week", "month"]


@dataclass(frozen=True)
class Scope:
    """Whose metrics: one service, a team's services, or every service."""

    services: tuple[str, ...]
    environment: str
    service: str | None = None
    team: str | None = None


def scope_of(
    config: ShepherdConfig, *, service: str | None, team: str | None, environment: str | None
) -> Scope:
    if service and team:
        raise Invalid("ask for a service or a team, not both", details={"field": "team"})
    if service:
        found = config.service(service)
        if found is None:
            known = [s.name for s in config.services]
            raise UnknownService(f"no service named {service!r} in shepherd.yaml", details={"known": known})
        return Scope((service,), environment or found.production_environment, service=service)
    if team:
        t = config.team(team)
        if t is None:
            known = [t.name for t in config.teams]
            raise Invalid(
                f"no team named {team!r} in shepherd.yaml", details={"field": "team", "known": known}
            )
        return Scope(tuple(t.services), environment or "production", team=team)
    return Scope(tuple(s.name for s in config.services), environment or "production")


def parse_when(value: str | None, field: str) -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 time; one without a zone is UTC."""
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(
            f"{field} must be a date (2026-11-02) or an ISO 8601 time, got {value!r}",
            details={"field": field},
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def period_of(*, since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """[since, until): until defaults to now, since to DEFAULT_DAYS before until; both in UTC."""
    end = (until or now).astimezone(UTC)
    start = (since or end - timedelta(days=DEFAULT_DAYS)).astimezone(UTC)
    if start >= end:
        raise Invalid("since must be before until", details={"field": "since"})
    return start, end


def question(
    config: ShepherdConfig,
    *,
    service: str | None,
    team: str | None,
    environment: str | None,
    since: str | None,
    until: str | None,
    now: datetime,
) -> tuple[Scope, datetime, datetime]:
    """Whose metrics and over which period, from what a person typed (the API's query, the CLI's
    options); Invalid naming the part that is wrong."""
    scope = scope_of(config, service=service, team=team, environment=environment)
    start, end = period_of(since=parse_when(since, "since"), until=parse_when(until, "until"), now=now)
    return scope, start, end


def load_history(
    scope: Scope, *, since: datetime, uow_factory: UnitOfWorkFactory, revert_window: timedelta = REVERT_WINDOW
) -> History:
    """Every deploy of the scope from `since` on, read and analysed once for any period after it."""
    # A busy service's two years are ~10^5 small records, none of them cycles (services/collector.py).
    with collector_paused(), uow_factory() as uow:
        records = uow.delivery.history(services=scope.services, environment=scope.environment, since=since)
        return analyse(records, revert_window=revert_window)


def delivery_report(
    *,
    scope: Scope,
    since: datetime,
    until: datetime,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    group_by: GroupBy | None = None,
    revert_window: timedelta = REVERT_WINDOW,
) -> dict[str, Any]:
    """The keys for the period, the previous period of the same length, and per week or month."""
    previous = since - (until - since)
    history = load_history(scope, since=previous, uow_factory=uow_factory, revert_window=revert_window)
    return report_of(scope, history, since=since, until=until, group_by=group_by, now=clock())


def report_of(
    scope: Scope,
    history: History,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    group_by: GroupBy | None = None,
) -> dict[str, Any]:
    """The JSON of `delivery_report` from a history already read (it must reach back to the
    previous period: `since − (until − since)`)."""
    with collector_paused():
        report = _json(scope, delivery(history, since=since, until=until))
        report["previous"] = _summary(scope, delivery(history, since=since - (until - since), until=since))
        if group_by is not None:
            report["groups"] = groups_of(scope, history, since=since, until=until, by=group_by)
    report["as_of"] = iso(now)
    return report


def groups_of(
    scope: Scope, history: History, *, since: datetime, until: datetime, by: GroupBy
) -> list[dict[str, Any]]:
    """The keys per calendar week or month of [since, until), without their failed deploys."""
    return [_summary(scope, delivery(history, since=a, until=b)) for a, b in buckets(since, until, by)]


def buckets(since: datetime, until: datetime, by: GroupBy) -> list[tuple[datetime, datetime]]:
    """Calendar weeks (from Monday, UTC) or months overlapping [since, until), clipped to it."""
    out = []
    start = since
    while start < until:
        if by == "week":
            monday = (start - timedelta(days=start.weekday())).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            end = monday + timedelta(days=7)
        else:
            first = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            end = (first + timedelta(days=32)).replace(day=1)
        out.append((start, min(end, until)))
        start = min(end, until)
    return out


def _json(scope: Scope, d: Delivery) -> dict[str, Any]:
    recovery, lead = d.recovery, d.lead_time
    return {
        "service": scope.service,
        "team": scope.team,
        "services": list(scope.services),
        "environment": scope.environment,
        "since": iso(d.since),
        "until": iso(d.until),
        "deploys": len(d.deploys),
        "deploy_days": d.deploy_days,
        "deployment_frequency": {
            "per_day": _round(d.per_day),
            "deploys": d.reached,
            "band": _band(frequency_band(d.per_day) if d.reached else None),
        },
        "lead_time": {
            "median_hours": _round(lead.median),
            "p90_hours": _round(lead.p90),
            "changes": lead.count,
            "band": _band(lead_time_band(lead.median)),
        },
        "change_failure_rate": {
            "rate": _round(d.failure_rate),
            "failed": len(d.failures),
            "deploys": len(d.deploys),
            "band": _band(failure_rate_band(d.failure_rate)),
        },
        "recovery_time": {
            "median_hours": _round(recovery.median),
            "p90_hours": _round(recovery.p90),
            "recoveries": recovery.count,
            "open": d.open_failures,
            "band": _band(recovery_band(recovery.median)),
        },
        "rework_rate": {"rate": _round(d.rework_rate), "rework": len(d.rework), "deploys": len(d.deploys)},
        "batch_size": {"median_changes": d.batch.median, "deploys": d.batch.count},
        "failed_deploys": [
            {
                "id": f.deploy.id,
                "sha": f.deploy.sha,
                "service": f.deploy.service,
                "rule": f.rule.value,
                "why": f.detail,
                "recovered_by": r.recovered_by.id if r.recovered_by else None,
                "recovery_hours": _round(r.hours),
            }
            for f, r in zip(d.failures, d.recoveries, strict=True)
        ],
    }


def _summary(scope: Scope, d: Delivery) -> dict[str, Any]:
    """The keys without the list of failed deploys (the previous period, a week of a chart)."""
    out = _json(scope, d)
    del out["failed_deploys"]
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _band(band: Any) -> str | None:
    return None if band is None else str(band.value)
