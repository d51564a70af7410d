"""Use cases: alerts in (`receive_alerts`), and the `route_alerts` job that finds their authors.

A webhook only stores each alert's latest state and enqueues one routing job per service, in
one transaction: Alertmanager gets its answer in milliseconds and retries nothing. The job
(services/alert_routing.py) does the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shepherd.domain.alerts import Alert, Page
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.services.ports import Clock, UnitOfWorkFactory

log = logging.getLogger("shepherd.alerts")


@dataclass(frozen=True)
class Received:
    alerts: int
    changed: int
    unmapped: int  # no label named a configured service

    def as_json(self) -> dict[str, int]:
        return {"alerts": self.alerts, "changed": self.changed, "unmapped": self.unmapped}


def route_job(service: str) -> NewJob:
    return NewJob(
        kind=JobKind.ROUTE_ALERTS, payload={"service": service}, serial_key=f"alerts:{service}", coalesce=True
    )


def pager_job(page: Page, action: str, now: datetime) -> NewJob:
    return NewJob(
        kind=JobKind.PAGE_PAGERDUTY,
        payload={"page_id": page.id, "action": action},
        dedupe_key=f"pagerduty:{page.id}:{action}:{now.timestamp():.6f}",
        serial_key=f"pagerduty:{page.id}",  # trigger and resolve reach PagerDuty in order
        deploy_id=page.deploy_id,
        max_attempts=12,
    )


def receive_alerts(alerts: Sequence[Alert], *, uow_factory: UnitOfWorkFactory, clock: Clock) -> Received:
    """Store what changed and wake the router of each service concerned: one transaction."""
    now = clock()
    with uow_factory() as uow:
        news = uow.alerts.record_many([a for a in alerts if a.service is not None], now=now)
        changed, services = len(news), {a.service for a in news if a.service is not None}
        for service in sorted(services):
            uow.jobs.enqueue(route_job(service), now=now)
    unmapped = sum(a.service is None for a in alerts)
    if unmapped:
        log.info("%d of %d alerts name no configured service; ignored", unmapped, len(alerts))
    return Received(len(alerts), changed, unmapped)


@dataclass(frozen=True)
class AlertDeps:
    config: ShepherdConfig
    pagerduty: bool  # any routing key configured: worth enqueuing PagerDuty jobs
