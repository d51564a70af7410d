"""Use case: the weekly delivery digest (`delivery_digest:` on a team or service in shepherd.yaml).

One job per team or service and week, queued for its weekday and hour (UTC) with a key of its
own, so however often workers start, each week is posted once. The job posts the last seven days'
keys with their bands and trend, the slowest changes and the failed deploys, and a chart of the
last 12 weeks, then queues next week's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shepherd.domain.config import Digest, ShepherdConfig
from shepherd.domain.delivery import Delivery, History, delivery
from shepherd.domain.errors import NotifierRejected
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.domain.notify import Image, SlowChange, digest_message
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.ports import Notifier, UnitOfWorkFactory
from shepherd.services.queries.dora import Scope, groups_of, load_history, report_of, scope_of

log = logging.getLogger("shepherd.digest")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CHART_WEEKS = 12
MAX_SLOWEST = 5


class DeliveryChart(Protocol):
    def weeks(self, groups: list[dict[str, object]], *, title: str) -> bytes:
        """A PNG of deploys per week (by outcome) and the median lead time."""
        ...


@dataclass(frozen=True)
class DigestDeps:
    config: ShepherdConfig
    notifier: Notifier
    chart: DeliveryChart | None
    public_url: str


def next_run(digest: Digest, after: datetime) -> datetime:
    """The digest's next weekday and hour (UTC) strictly after `after`."""
    day = after.replace(hour=digest.hour, minute=0, second=0, microsecond=0)
    day += timedelta(days=(WEEKDAYS.index(digest.weekday) - day.weekday()) % 7)
    return day if day > after else day + timedelta(days=7)


def digest_job(kind: str, name: str, digest: Digest, after: datetime) -> NewJob:
    at = next_run(digest, after)
    return NewJob(
        kind=JobKind.DELIVERY_DIGEST,
        payload={kind: name, "at": at.isoformat()},
        dedupe_key=f"digest:{kind}:{name}:{at:%Y-%m-%dT%H}",
        run_at=at,
    )


def schedule_digests(*, config: ShepherdConfig, uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Queue the next digest of every team and service that wants one; how many were new."""
    wanted = [("team", t.name, t.delivery_digest) for t in config.teams if t.delivery_digest]
    wanted += [("service", s.name, s.delivery_digest) for s in config.services if s.delivery_digest]
    queued = 0
    with uow_factory() as uow:
        for kind, name, digest in wanted:
            assert digest is not None
            queued += uow.jobs.enqueue(digest_job(kind, name, digest, now), now=now) is not None
    return queued


def post_digest(ctx: JobContext, deps: DigestDeps) -> None:
    kind = "team" if "team" in ctx.payload else "service"
    name = str(ctx.payload[kind])
    digest = _digest_of(deps.config, kind, name)
    if digest is None:  # taken out of shepherd.yaml since it was queued
        return
    at = datetime.fromisoformat(str(ctx.payload["at"]))
    if kind == "team":
        scope = scope_of(deps.config, service=None, team=name, environment=None)
    else:
        scope = scope_of(deps.config, service=name, team=None, environment=None)
    # One read for everything the message shows: the chart's weeks reach back past the week before.
    history = load_history(scope, since=at - timedelta(weeks=CHART_WEEKS), uow_factory=ctx.uow_factory)
    week = at - timedelta(days=7)
    report = report_of(scope, history, since=week, until=at, now=ctx.now())
    slowest = _slowest(ctx, delivery(history, since=week, until=at))
    message = digest_message(report, who=name, slowest=slowest, public_url=deps.public_url)
    key = f"digest:{kind}:{name}:{at:%Y-%m-%d}"
    try:
        if ctx.job.attempts > 1 and deps.notifier.find_posted(target=digest.channel, key=key, since=at):
            pass  # an earlier attempt posted it and then lost the answer
        else:
            image = _chart(deps, scope, history, at, name)
            deps.notifier.post(target=digest.channel, message=message, key=key, image=image)
    except NotifierRejected as exc:
        log.warning("%s refused the delivery digest of %s (%s)", digest.channel, name, exc.code)
    with ctx.transaction(finish=True) as uow:
        uow.jobs.enqueue(digest_job(kind, name, digest, at), now=ctx.now())


def _digest_of(config: ShepherdConfig, kind: str, name: str) -> Digest | None:
    found = config.team(name) if kind == "team" else config.service(name)
    return found.delivery_digest if found is not None else None


def _slowest(ctx: JobContext, week: Delivery) -> list[SlowChange]:
    """The week's changes that took longest to reach production, with their subjects."""
    slow = sorted(week.lead_changes, key=lambda item: -item[2])[:MAX_SLOWEST]
    out = []
    with ctx.uow_factory() as uow:
        for change, deploy, hours in slow:
            subjects = {c.sha: c.subject for c in uow.deploys.changes(deploy.id)}
            out.append(SlowChange(change.sha, subjects.get(change.sha, ""), hours, deploy.id))
    return out


def _chart(deps: DigestDeps, scope: Scope, history: History, at: datetime, name: str) -> Image | None:
    if deps.chart is None:
        return None
    groups = groups_of(scope, history, since=at - timedelta(weeks=CHART_WEEKS), until=at, by="week")
    data = deps.chart.weeks(groups, title=f"{name}: the last {CHART_WEEKS} weeks")
    return Image(f"delivery-{name}-{at:%Y-%m-%d}.png", data, f"{name}: deploys and lead time by week")


def register_jobs(registry: HandlerRegistry, deps: DigestDeps) -> None:
    registry.register(JobKind.DELIVERY_DIGEST, post_digest, deps)
