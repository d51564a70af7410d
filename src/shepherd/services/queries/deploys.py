"""Reading deploys: the API's list and detail, the dashboard's rows and the compare page.

Every query here costs the same number of SQL statements however many deploys it shows
(tests/integration/test_read_statements.py holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shepherd.domain.config import ShepherdConfig
from shepherd.domain.notify import AckKind, guide_links
from shepherd.services.errors import NotFound
from shepherd.services.ports import UnitOfWorkFactory
from shepherd.services.queries.incidents import incident_summary
from shepherd.services.queries.views import (
    ack_view,
    change_view,
    deploy_summary,
    event_view,
    job_view,
    notification_view,
    person_view,
)


@dataclass(frozen=True)
class DashboardRow:
    """One deploy on the dashboard with its watch's verdict (None before the watch exists)."""

    deploy_id: int
    started_at: datetime
    service: str
    environment: str
    label: str  # the version when given, else the sha's first 12
    status: str
    percent: int | None
    verdict: str | None
    reason: str
    total_changes: int | None


@dataclass(frozen=True)
class ComparePage:
    deploy_id: int
    service: str
    environment: str
    sha: str


def deploy_list(
    *,
    uow_factory: UnitOfWorkFactory,
    public_url: str,
    service: str | None = None,
    environment: str | None = None,
    status: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> dict[str, Any]:
    """A page of deploys, newest first, with the cursor of the next page."""
    with uow_factory() as uow:
        deploys = uow.deploys.query(
            service=service, environment=environment, status=status, limit=limit, before_id=before
        )
    return {
        "deploys": [deploy_summary(d, public_url) for d in deploys],
        "next_before": deploys[-1].id if len(deploys) == limit else None,
    }


def dashboard_rows(*, uow_factory: UnitOfWorkFactory, limit: int) -> list[DashboardRow]:
    """The newest deploys with their watches, read in two statements."""
    with uow_factory() as uow:
        deploys = uow.deploys.query(limit=limit)
        watches = uow.watches.get_many([d.id for d in deploys if d.id is not None])
    rows = []
    for deploy in deploys:
        assert deploy.id is not None
        watch = watches.get(deploy.id)
        rows.append(
            DashboardRow(
                deploy_id=deploy.id,
                started_at=deploy.started_at,
                service=deploy.service,
                environment=deploy.environment,
                label=deploy.version or deploy.sha[:12],
                status=deploy.status.value,
                percent=deploy.percent,
                verdict=watch.verdict.value if watch is not None else None,
                reason=watch.reason if watch is not None else "",
                total_changes=deploy.total_changes,
            )
        )
    return rows


def deploy_detail(
    *,
    uow_factory: UnitOfWorkFactory,
    config: ShepherdConfig,
    public_url: str,
    deploy_id: int,
    now: datetime,
) -> dict[str, Any]:
    """Everything about one deploy: changes, people, guides, jobs, notifications, acks, incidents."""
    with uow_factory() as uow:
        deploy = uow.deploys.get(deploy_id)
        if deploy is None:
            raise NotFound(f"no deploy with id {deploy_id}")
        changes = uow.deploys.changes(deploy_id)
        people = uow.deploys.people(deploy_id)
        events = uow.deploys.events(deploy_id)
        jobs = uow.jobs.query(deploy_id=deploy_id)
        notifications = uow.notifications.for_deploy(deploy_id)
        acks = uow.notifications.acks(deploy_id)
        incidents = uow.incidents.query(deploy_id=deploy_id)
    service = config.service(deploy.service)
    guides = [] if service is None else guide_links(service, deploy, changes, public_url, now)
    return {
        **deploy_summary(deploy, public_url),
        "changes": [change_view(c) for c in changes],
        "guides": [{"title": title, "url": url, "kind": kind} for title, url, kind in guides],
        "people": [person_view(p) for p in people],
        "events": [event_view(e) for e in events],
        "jobs": [job_view(j) for j in jobs],
        "notifications": [notification_view(n) for n in notifications],
        "acks": [ack_view(a) for a in acks if a.kind is AckKind.WATCHING],
        "reports": [ack_view(a) for a in acks if a.kind is AckKind.WRONG],
        "suspect": any(a.kind is AckKind.WRONG for a in acks),
        "incidents": [incident_summary(i) for i in incidents],
    }


def compare_page(*, uow_factory: UnitOfWorkFactory, deploy_id: int) -> ComparePage:
    """What the old-vs-new page needs up front; its charts fetch the series themselves."""
    with uow_factory() as uow:
        deploy = uow.deploys.get(deploy_id)
    if deploy is None:
        raise NotFound(f"no deploy with id {deploy_id}")
    return ComparePage(deploy_id, deploy.service, deploy.environment, deploy.sha)
