"""The `route_alerts` job: from a service's new alert states to pages of the likely deploys.

Serial per service, so two runs never race to open the same page. Each run routes one round of
at most BATCH alerts in one transaction and, when more are waiting, queues itself again behind
whatever else is due: an alert storm on one service cannot hold back other services' pages or
the messages that carry them. Within a round the suspects of an environment are read once, the
timeline gets one line per page (not one per alert), and each deploy's messages are synced once:
at once for a new, reopened or resolved page, else at most every UPDATE_EVERY (a page counting
its alerts up in a storm must not burn Slack's chat.update budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shepherd.domain.alerts import Candidate, Page, PageState, Severity, StoredAlert, Suspect, rank
from shepherd.domain.circuits import SLACK
from shepherd.domain.config import Service
from shepherd.domain.jobs import JobKind
from shepherd.domain.text import plural
from shepherd.services.alert_notes import note_job
from shepherd.services.alerts import AlertDeps, pager_job, route_job
from shepherd.services.incidents import note, open_incident, resolve_if_settled
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.notify import sync_job
from shepherd.services.ports import UnitOfWork

BATCH = 200  # alerts routed per round (one transaction)
UPDATE_EVERY = timedelta(seconds=30)  # page messages are brought up to date at most this often


@dataclass
class Round:
    uow: UnitOfWork
    deps: AlertDeps
    service: Service
    now: datetime
    slack_down: bool = False  # then every page goes to PagerDuty too: Slack alone cannot carry it
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)  # by environment
    pages: dict[int, Page | None] = field(default_factory=dict)  # deploy id → its grouping page
    joined: dict[int, list[str]] = field(default_factory=dict)  # page id → alert names that joined
    ended: dict[int, list[str]] = field(default_factory=dict)  # page id → alert names that resolved
    sync_now: set[int] = field(default_factory=set)
    sync_later: set[int] = field(default_factory=set)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.service.policy(self.deps.config.policies).correlation_minutes)

    def pages_paged(self, alert_severity: Severity) -> bool:
        loud = alert_severity.rank >= self.deps.config.alerts.page_threshold.rank
        return self.deps.pagerduty and (loud or self.slack_down)


def route_alerts(ctx: JobContext, deps: AlertDeps) -> None:
    name = str(ctx.payload["service"])
    service = deps.config.service(name)
    with ctx.transaction() as uow:
        pending = uow.alerts.unrouted(service=name, limit=BATCH)
        if service is None:  # removed from the config since: remember we saw them, page nobody
            for stored in pending:
                _mark(uow, stored, None, [])
        else:
            slack_down = not uow.circuits.get(SLACK).delivering
            _route_round(Round(uow, deps, service, ctx.now(), slack_down), pending)
        if len(pending) == BATCH:
            uow.jobs.enqueue(route_job(name), now=ctx.now())


def _route_round(r: Round, pending: list[StoredAlert]) -> None:
    for stored in pending:
        if stored.alert.firing:
            _firing(r, stored)
        else:
            _resolved(r, stored)
    for page_id, names in r.joined.items():
        _summary_note(r, page_id, names, "joined the page")
    for page_id, names in r.ended.items():
        _summary_note(r, page_id, names, "resolved")
    for deploy_id in r.sync_now:
        r.uow.jobs.enqueue(sync_job(deploy_id), now=r.now)
    for deploy_id in r.sync_later - r.sync_now:
        r.uow.jobs.enqueue(sync_job(deploy_id, r.now + UPDATE_EVERY), now=r.now)


def _mark(uow: UnitOfWork, stored: StoredAlert, page: Page | None, ranking: list[dict[str, object]]) -> None:
    assert stored.id is not None
    page_id = page.id if page is not None else stored.page_id
    uow.alerts.mark_routed(stored.id, status=stored.alert.status.value, page_id=page_id, ranking=ranking)


def _firing(r: Round, stored: StoredAlert) -> None:
    alert = stored.alert
    suspects = rank(alert, _candidates(r, alert.environment or r.service.production_environment), r.window)
    page = _page_for(r, stored, suspects[0]) if suspects else None
    _mark(r.uow, stored, page, [s.as_json() for s in suspects])
    quiet = r.deps.config.alerts.quiet_note and r.service.slack_channel
    if page is None and quiet and stored.id is not None and stored.routed_status is None:
        r.uow.jobs.enqueue(note_job(stored.id, r.service.slack_channel or ""), now=r.now)


def _candidates(r: Round, environment: str) -> list[Candidate]:
    """Recent deploys of the service and of what it depends on (`rank` keeps those in the window)."""
    if environment in r.candidates:
        return r.candidates[environment]
    out = []
    names = [(r.service.name, False)] + [(d, True) for d in r.service.depends_on]
    for name, dependency in names:
        watched = r.deps.config.service(name)
        for deploy in r.uow.deploys.query(service=name, environment=environment, limit=20):
            assert deploy.id is not None
            watch = r.uow.watches.get(deploy.id) if watched is not None and watched.checks else None
            changes = tuple(r.uow.deploys.changes(deploy.id, limit=200))
            verdict, why = (watch.verdict, watch.reason) if watch else (None, "")
            out.append(Candidate(deploy, changes, verdict, why, dependency))
    r.candidates[environment] = out
    return out


def _page_for(r: Round, stored: StoredAlert, top: Suspect) -> Page:
    """Join the top suspect's page of this grouping window, or open one."""
    if top.deploy_id not in r.pages:
        r.pages[top.deploy_id] = r.uow.alerts.grouping_page(deploy_id=top.deploy_id, at=r.now)
    page = r.pages[top.deploy_id]
    if page is None:
        page = r.pages[top.deploy_id] = _open_page(r, stored, top)
        return page
    assert page.id is not None
    alert = stored.alert
    reopened, louder = page.state is PageState.RESOLVED, alert.severity.rank > Severity(page.severity).rank
    if reopened or louder:
        page.state, page.resolved_at, page.updated_at = PageState.OPEN, None, r.now
        page.severity = alert.severity.value if louder else page.severity
        r.uow.alerts.save_page(page)
        if r.pages_paged(alert.severity):
            r.uow.jobs.enqueue(pager_job(page, "trigger", r.now), now=r.now)
        r.sync_now.add(page.deploy_id)
    r.joined.setdefault(page.id, []).append(alert.name)
    r.sync_later.add(page.deploy_id)
    return page


def _open_page(r: Round, stored: StoredAlert, top: Suspect) -> Page:
    alert, uow = stored.alert, r.uow
    deploy = uow.deploys.get(top.deploy_id)
    assert deploy is not None
    title = f"{alert.name} on {r.service.name}"
    incident = open_incident(uow, deploy=deploy, trigger="page", title=title, now=r.now)
    grouping = r.service.policy(r.deps.config.policies).grouping_minutes
    page = uow.alerts.add_page(
        Page(
            deploy_id=top.deploy_id,
            service=r.service.name,
            opened_at=r.now,
            group_until=r.now + timedelta(minutes=grouping),
            dedup_key=alert.fingerprint,
            severity=alert.severity.value,
            reasons=list(top.reasons),
            score=top.score,
            updated_at=r.now,
            incident_id=incident.id,
        )
    )
    note(
        uow, top.deploy_id, alert.starts_at, "alert", f"{alert.name} firing: {alert.summary}", alert=stored.id
    )
    why = f"paged the people of deploy {deploy.sha[:7]}: {top.reasons[0]}"
    if r.slack_down and r.pages_paged(alert.severity):
        why += " (Slack is down: through PagerDuty too)"
    note(uow, top.deploy_id, r.now, "page", why, page=page.id)
    if r.pages_paged(alert.severity):
        uow.jobs.enqueue(pager_job(page, "trigger", r.now), now=r.now)
    r.sync_now.add(top.deploy_id)
    return page


def _resolved(r: Round, stored: StoredAlert) -> None:
    _mark(r.uow, stored, None, stored.ranking)
    page = r.uow.alerts.page(stored.page_id) if stored.page_id is not None else None
    if page is None or page.id is None:
        return
    r.ended.setdefault(page.id, []).append(stored.alert.name)
    r.sync_later.add(page.deploy_id)
    if page.state is PageState.OPEN and r.uow.alerts.firing_on_page(page.id) == 0:
        page.state, page.resolved_at, page.updated_at = PageState.RESOLVED, r.now, r.now
        r.uow.alerts.save_page(page)
        r.pages[page.deploy_id] = page
        note(r.uow, page.deploy_id, r.now, "page", f"page #{page.id}: every alert resolved", page=page.id)
        if r.deps.pagerduty:
            r.uow.jobs.enqueue(pager_job(page, "resolve", r.now), now=r.now)
        resolve_if_settled(r.uow, deploy_id=page.deploy_id, now=r.now)
        r.sync_now.add(page.deploy_id)


def _summary_note(r: Round, page_id: int, names: list[str], what: str) -> None:
    page = r.uow.alerts.page(page_id)
    if page is None:
        return
    distinct = sorted(set(names))
    shown = ", ".join(distinct[:5]) + (f" and {len(distinct) - 5} more" if len(distinct) > 5 else "")
    text = f"{plural(len(names), 'alert')} {what} (page #{page_id}): {shown}"
    note(r.uow, page.deploy_id, r.now, "alert", text, page=page_id, count=len(names))


def register_jobs(registry: HandlerRegistry, deps: AlertDeps) -> None:
    registry.register(JobKind.ROUTE_ALERTS, route_alerts, deps)
