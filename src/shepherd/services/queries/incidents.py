"""Incidents for people: their story from every repository, and the JSON the API and CLI show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shepherd.domain.alerts import Incident, Page, Rollback, StoredAlert
from shepherd.domain.incidents import IncidentStory, PageStory, detection, impact_window, timeline
from shepherd.services.errors import NotFound
from shepherd.services.ports import UnitOfWork, UnitOfWorkFactory
from shepherd.services.queries.views import iso


def load_story(uow: UnitOfWork, incident_id: int) -> IncidentStory | None:
    """The incident with everything recorded about its deploy; None when there is no such incident."""
    incident = uow.incidents.get(incident_id)
    if incident is None:
        return None
    deploy = uow.deploys.get(incident.deploy_id)
    if deploy is None:  # deploys are never deleted; a dangling incident is not worth a 500
        return None
    pages = uow.alerts.pages_for_incident(incident_id)
    alerts = uow.alerts.for_pages([p.id for p in pages if p.id is not None])
    deploy_id = incident.deploy_id
    return IncidentStory(
        incident=incident,
        deploy=deploy,
        changes=tuple(uow.deploys.changes(deploy_id)),
        people=tuple(uow.deploys.people(deploy_id)),
        events=tuple(uow.deploys.events(deploy_id)),
        notifications=tuple(uow.notifications.for_deploy(deploy_id)),
        acks=tuple(uow.notifications.acks(deploy_id)),
        watch=uow.watches.get(deploy_id),
        checks=tuple(uow.watches.checks(deploy_id)),
        entries=tuple(uow.watches.timeline(deploy_id)),
        pages=tuple(PageStory(p, tuple(a for a in alerts if a.page_id == p.id)) for p in pages),
        rollbacks=tuple(uow.incidents.rollbacks(deploy_id)),
    )


def incident_list(
    *, uow_factory: UnitOfWorkFactory, state: str | None, service: str | None, limit: int
) -> list[dict[str, Any]]:
    """Incidents, newest first, in their short form."""
    with uow_factory() as uow:
        incidents = uow.incidents.query(state=state, service=service, limit=limit)
    return [incident_summary(i) for i in incidents]


def incident_story(*, uow_factory: UnitOfWorkFactory, incident_id: int) -> IncidentStory:
    with uow_factory() as uow:
        story = load_story(uow, incident_id)
    if story is None:
        raise NotFound(f"no incident with id {incident_id}")
    return story


def incident_summary(incident: Incident) -> dict[str, Any]:
    """The short form, for lists."""
    return {
        "id": incident.id,
        "state": incident.state.value,
        "title": incident.title,
        "trigger": incident.trigger,
        "service": incident.service,
        "environment": incident.environment,
        "deploy_id": incident.deploy_id,
        "opened_at": iso(incident.opened_at),
        "resolved_at": iso(incident.resolved_at),
        "resolution": incident.resolution,
        "cause": _cause(incident),
    }


def _cause(incident: Incident) -> dict[str, Any] | None:
    if incident.cause_deploy_id is None:
        return None
    return {"deploy_id": incident.cause_deploy_id, "by": incident.cause_by, "at": iso(incident.cause_at)}


def incident_json(story: IncidentStory, *, now: datetime) -> dict[str, Any]:
    """The full form: pages with their alerts, rollbacks, detection, impact and the timeline."""
    deploy, watch = story.deploy, story.watch
    found = detection(story)
    window = impact_window(story)
    return {
        **incident_summary(story.incident),
        "deploy": {
            "id": deploy.id,
            "sha": deploy.sha,
            "status": deploy.status.value,
            "started_at": iso(deploy.started_at),
        },
        "verdict": {"verdict": watch.verdict.value, "reason": watch.reason} if watch else None,
        "changes": [
            {
                "sha": c.sha,
                "subject": c.subject,
                "pr_number": c.pr_number,
                "authors": [p.person or p.name for p in c.authors],
            }
            for c in story.changes
        ],
        "pages": [_page(p.page, p.alerts) for p in story.pages],
        "rollbacks": [_rollback(r) for r in story.rollbacks],
        "detection": {
            "onset": iso(found.onset),
            "first_alert": iso(found.first_alert),
            "first_alert_what": found.first_alert_what,
            "first_ack": iso(found.first_ack),
            "first_ack_by": found.first_ack_by,
            "minutes": {
                "onset_to_alert": found.onset_to_alert,
                "alert_to_ack": found.alert_to_ack,
                "onset_to_ack": found.onset_to_ack,
            },
        },
        "impact": {
            "start": iso(window.start),
            "end": iso(window.end),
            "ongoing": window.end is None,
            "minutes": window.minutes(now),
        },
        "timeline": [{"at": iso(m.at), "kind": m.kind, "text": m.text} for m in timeline(story)],
    }


def _page(page: Page, alerts: tuple[StoredAlert, ...]) -> dict[str, Any]:
    return {
        "id": page.id,
        "state": page.state.value,
        "severity": page.severity,
        "reasons": page.reasons,
        "opened_at": iso(page.opened_at),
        "resolved_at": iso(page.resolved_at),
        "alerts": [
            {
                "id": s.id,
                "name": s.alert.name,
                "status": s.alert.status.value,
                "starts_at": iso(s.alert.starts_at),
                "ends_at": iso(s.alert.ends_at),
                "summary": s.alert.summary,
                "severity": s.alert.severity.value,
            }
            for s in alerts
        ],
    }


def _rollback(rollback: Rollback) -> dict[str, Any]:
    return {
        "id": rollback.id,
        "state": rollback.state.value,
        "requested_by": rollback.requested_by,
        "via": rollback.via,
        "target_sha": rollback.target_sha,
        "requested_at": iso(rollback.requested_at),
        "finished_at": iso(rollback.finished_at),
    }
