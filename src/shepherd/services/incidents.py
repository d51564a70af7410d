"""Use cases: open and resolve incidents; the timeline entries they are made of."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shepherd.domain.alerts import Incident, IncidentState, PageState
from shepherd.domain.deploys import Deploy, DeployStatus
from shepherd.domain.watch import TimelineEntry, Verdict
from shepherd.services.errors import NotFound
from shepherd.services.notify import sync_job
from shepherd.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

MANUAL_RESOLUTION = "resolved by hand"


def open_incident(uow: UnitOfWork, *, deploy: Deploy, trigger: str, title: str, now: datetime) -> Incident:
    """The deploy's open incident, or a new one (a page and a failed verdict share one)."""
    assert deploy.id is not None
    existing = uow.incidents.open_for_deploy(deploy.id)
    if existing is not None:
        return existing
    incident = uow.incidents.add(
        Incident(
            deploy_id=deploy.id,
            service=deploy.service,
            environment=deploy.environment,
            title=title,
            trigger=trigger,
            opened_at=now,
        )
    )
    note(uow, deploy.id, now, "incident", f"incident #{incident.id} opened: {title}", incident=incident.id)
    return incident


def resolve_if_settled(uow: UnitOfWork, *, deploy_id: int, now: datetime) -> Incident | None:
    """Resolve the deploy's incident once no page of it fires and the deploy no longer fails.

    A failed verdict keeps an incident open until the deploy is rolled back (or replaced by a
    later deploy, see `resolve`); resolved alerts alone do not make a bad version good.
    """
    incident = uow.incidents.open_for_deploy(deploy_id)
    if incident is None or incident.id is None:
        return None
    pages = uow.alerts.pages_for_incident(incident.id)
    if any(p.state is PageState.OPEN for p in pages):
        return None
    deploy = uow.deploys.get(deploy_id)
    watch = uow.watches.get(deploy_id)
    rolled_back = deploy is not None and deploy.status is DeployStatus.ROLLED_BACK
    if watch is not None and watch.verdict is Verdict.FAIL and not rolled_back:
        return None
    why = "the deploy was rolled back" if rolled_back else "every alert resolved"
    return resolve(uow, incident=incident, now=now, resolution=why)


def resolve(uow: UnitOfWork, *, incident: Incident, now: datetime, resolution: str) -> Incident:
    if incident.state is IncidentState.RESOLVED:
        return incident
    incident.state, incident.resolved_at, incident.resolution = IncidentState.RESOLVED, now, resolution
    uow.incidents.save(incident)
    note(uow, incident.deploy_id, now, "resolved", f"incident #{incident.id} resolved: {resolution}")
    uow.jobs.enqueue(sync_job(incident.deploy_id), now=now)  # the messages say it is over
    return incident


def note(uow: UnitOfWork, deploy_id: int, at: datetime, kind: str, text: str, **data: Any) -> None:
    uow.watches.add_timeline(TimelineEntry(at=at, kind=kind, text=text, deploy_id=deploy_id, data=data))


def resolve_by_hand(
    incident_id: int, *, resolution: str | None, uow_factory: UnitOfWorkFactory, clock: Clock
) -> Incident:
    """Resolve an incident; resolving a resolved one changes nothing and says how it ended."""
    with uow_factory() as uow:
        incident = uow.incidents.get(incident_id)
        if incident is None:
            raise NotFound(f"no incident with id {incident_id}")
        incident = resolve(uow, incident=incident, now=clock(), resolution=resolution or MANUAL_RESOLUTION)
    return incident


def link_cause(
    incident_id: int, *, deploy_id: int, by: str, uow_factory: UnitOfWorkFactory, clock: Clock
) -> Incident:
    """A person names the deploy that caused the incident (the suspect, or another one).

    The delivery metrics count that deploy as failed (docs/delivery.md). Linking again replaces
    the cause; the timeline keeps both.
    """
    with uow_factory() as uow:
        incident = uow.incidents.get(incident_id)
        if incident is None:
            raise NotFound(f"no incident with id {incident_id}")
        deploy = uow.deploys.get(deploy_id)
        if deploy is None:
            raise NotFound(f"no deploy with id {deploy_id}")
        now = clock()
        incident.cause_deploy_id, incident.cause_by, incident.cause_at = deploy_id, by, now
        uow.incidents.save(incident)
        what = f"deploy #{deploy_id} ({deploy.service} {deploy.sha[:7]})"
        text = f"{by} named {what} the cause of incident #{incident_id}"
        note(uow, incident.deploy_id, now, "cause", text, cause_deploy_id=deploy_id)
    return incident
