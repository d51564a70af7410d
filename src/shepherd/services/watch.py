"""Use case: watch a deploy (the self-rescheduling `watch` job).

Every interval, for the watch window: query each check for the new and the old version
(same window, when the query can be split by version) or for the window after against the
window before (and the same pair a week earlier), judge, store, and tell people when the
verdict changes. State lives in the database, so a restart loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shepherd.domain.config import Check, Service, ShepherdConfig
from shepherd.domain.deploys import Deploy, DeployStatus
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.domain.watch import (
    MIN_STEPS,
    CheckKind,
    CheckResult,
    CheckSpec,
    Direction,
    MetricsError,
    Outcome,
    Point,
    StoredCheck,
    TimelineEntry,
    Verdict,
    Watch,
    WatchMode,
    windows,
)
from shepherd.domain.watch.judge import Look, Schedule, judge_check, judge_deploy
from shepherd.services.incidents import open_incident
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.metrics_port import MetricsSource
from shepherd.services.notify import sync_job
from shepherd.services.parallel import InOrder, Parallel
from shepherd.services.ports import UnitOfWork
from shepherd.services.watch_queries import CheckQueries, Side, fetch_all

log = logging.getLogger("shepherd.watch")


def watch_job(deploy_id: int, run_at: datetime | None = None) -> NewJob:
    return NewJob(
        kind=JobKind.WATCH,
        payload={"deploy_id": deploy_id},
        serial_key=f"watch:{deploy_id}",
        coalesce=True,
        deploy_id=deploy_id,
        run_at=run_at,
    )


@dataclass(frozen=True)
class WatchDeps:
    config: ShepherdConfig
    sources: Mapping[str, MetricsSource]
    queries: Parallel = field(default_factory=InOrder)  # how a look's metric queries are waited on


def run_watch(ctx: JobContext, deps: WatchDeps) -> None:
    now = ctx.now()
    loaded = _load(ctx, deps, int(ctx.payload["deploy_id"]))
    if loaded is None:
        return
    deploy, service, watch = loaded
    if watch.finished:
        return
    stop = _stop_reason(deploy, service)
    if stop is not None:
        _finish_early(ctx, watch, stop)
        return
    assert service is not None
    stored = _looks(deps, deploy, watch, service.checks, now)
    judgement = judge_deploy([s.result for s in stored], finished=now >= watch.ends_at)
    after = replace(
        watch,
        verdict=judgement.verdict,
        score=judgement.score,
        reason=judgement.reason,
        looks=watch.looks + 1,
        last_look_at=now,
        failed_at=watch.failed_at or (now if judgement.verdict is Verdict.FAIL else None),
        # A failure is final, as a failed canary analysis is: the page has gone out, and a later
        # look that happens to pass must not tell the gates to promote a version that failed.
        finished=now >= watch.ends_at or judgement.verdict is Verdict.FAIL,
    )
    if not after.finished:
        ctx.reschedule(
            after_seconds=min(watch.interval_seconds, max(1.0, (watch.ends_at - now).total_seconds()))
        )
    _record(ctx, watch, after, stored)


def _load(ctx: JobContext, deps: WatchDeps, deploy_id: int) -> tuple[Deploy, Service | None, Watch] | None:
    with ctx.uow_factory() as uow:  # a read: the write that ends the tick re-checks the lease
        deploy = uow.deploys.get(deploy_id)
        watch = uow.watches.get(deploy_id) if deploy is not None else None
    if deploy is None:
        return None
    service = deps.config.service(deploy.service)
    if watch is None:  # the first look
        with ctx.transaction() as uow:
            watch = start_watch(uow, deploy, service, deps.config)
    return deploy, service, watch


def start_watch(uow: UnitOfWork, deploy: Deploy, service: Service | None, config: ShepherdConfig) -> Watch:
    assert deploy.id is not None
    policy = service.policy(config.policies) if service is not None else config.policies
    minutes, interval = policy.watch_minutes, policy.watch_interval_seconds
    previous = uow.deploys.last_succeeded(
        service=deploy.service, environment=deploy.environment, before=deploy
    )
    stable = (previous.version or previous.sha) if previous is not None else None
    watch = Watch(
        deploy_id=deploy.id,
        started_at=deploy.started_at,
        ends_at=deploy.started_at + timedelta(minutes=minutes),
        interval_seconds=interval,
        stable_version=stable,
    )
    uow.watches.save(watch)
    return watch


def _stop_reason(deploy: Deploy, service: Service | None) -> str | None:
    if service is None:
        return f"service {deploy.service!r} is no longer in shepherd.yaml"
    if not service.checks:
        return f"no checks are configured for {service.name}: add `checks` in shepherd.yaml to be watched"
    if deploy.status in (DeployStatus.FAILED, DeployStatus.ROLLED_BACK):
        return f"the deploy {deploy.status.value.replace('_', ' ')}: nothing left to watch"
    return None


def _finish_early(ctx: JobContext, watch: Watch, reason: str) -> None:
    verdict = watch.verdict if watch.verdict is Verdict.FAIL else Verdict.INCONCLUSIVE
    _record(ctx, watch, replace(watch, verdict=verdict, reason=reason, finished=True), [])


def _record(ctx: JobContext, before: Watch, after: Watch, stored: Sequence[StoredCheck]) -> None:
    """The look's results, its verdict's effects and the job's next run (or its end), in one commit."""
    with ctx.transaction(finish=True) as uow:
        uow.watches.save_checks(stored)
        uow.watches.save(after)
        if after.verdict is not before.verdict or after.finished != before.finished:
            text = f"verdict {after.verdict.value}: {after.reason}"
            uow.watches.add_timeline(
                TimelineEntry(
                    at=ctx.now(),
                    kind="verdict",
                    text=text,
                    deploy_id=after.deploy_id,
                    data={"verdict": after.verdict.value, "score": after.score},
                )
            )
            uow.jobs.enqueue(sync_job(after.deploy_id), now=ctx.now())  # every message shows it
        if after.verdict is Verdict.FAIL and before.verdict is not Verdict.FAIL:
            deploy = uow.deploys.get(after.deploy_id)
            assert deploy is not None
            title = f"{deploy.service} {deploy.sha[:7]} failed its watch"
            open_incident(uow, deploy=deploy, trigger="verdict", title=title, now=ctx.now())


def spec_of(check: Check) -> CheckSpec:
    return CheckSpec(
        name=check.name,
        kind=CheckKind(check.kind),
        direction=Direction(check.direction),
        tolerance=check.tolerance,
        critical=check.critical,
        min_points=check.min_points,
    )


def _looks(
    deps: WatchDeps, deploy: Deploy, watch: Watch, checks: Sequence[Check], now: datetime
) -> list[StoredCheck]:
    """Every check judged once: all their queries go out together, then each is judged."""
    prepared = [_prepare(deps, deploy, watch, check, now) for check in checks]
    plans = [p for p in prepared if isinstance(p, CheckQueries)]
    fetched = iter(fetch_all(deps.queries, plans))
    return [p if isinstance(p, StoredCheck) else _judged(p, next(fetched), watch, now) for p in prepared]


def _prepare(
    deps: WatchDeps, deploy: Deploy, watch: Watch, check: Check, now: datetime
) -> StoredCheck | CheckQueries:
    """The check's queries for this look, or its result already when there is nothing to ask."""
    spec = spec_of(check)
    canary = check.by_version and watch.stable_version is not None
    mode = WatchMode.CANARY if canary else WatchMode.BEFORE_AFTER
    span = windows(deploy_start=watch.started_at, now=now, canary=canary, step_seconds=watch.step_seconds)
    if span is None:
        result = _unjudged(spec, Outcome.INCONCLUSIVE, "collecting data: judged once a few points are in")
        return StoredCheck(watch.deploy_id, result, mode, (), (), now)
    source = deps.sources.get(check.source)
    if source is None:
        result = _unjudged(spec, Outcome.NODATA, f"no {check.source} source configured (see the settings)")
        return StoredCheck(watch.deploy_id, result, mode, (), (), now)
    version = deploy.version or deploy.sha
    old = watch.stable_version or version
    sides = [Side(version, span.candidate), Side(old if canary else version, span.baseline)]
    sides += [Side(version, w) for w in span.seasonal or ()]
    values = {
        "service": deploy.service,
        "environment": deploy.environment,
        "stable_version": old,
        "sha": deploy.sha,
    }
    return CheckQueries(check, source, values, tuple(sides), watch.step_seconds, mode)


def _judged(
    plan: CheckQueries, fetched: list[list[Point]] | MetricsError, watch: Watch, now: datetime
) -> StoredCheck:
    spec = spec_of(plan.check)
    if isinstance(fetched, MetricsError):
        result = _unjudged(spec, Outcome.INCONCLUSIVE, f"the query failed: {fetched}")
        return StoredCheck(watch.deploy_id, result, plan.mode, (), (), now)
    candidate, baseline, *week = fetched
    seasonal = (week[0], week[1]) if len(week) == 2 and week[0] and week[1] else None
    before_after = plan.mode == WatchMode.BEFORE_AFTER  # also without week-ago data: it words the reason
    names = (_short(plan.sides[1].version), _short(plan.sides[0].version))
    look = watch_look(watch, now)
    result = judge_check(
        spec, baseline, candidate, seasonal=seasonal, before_after=before_after, names=names, look=look
    )
    return StoredCheck(watch.deploy_id, result, plan.mode, tuple(baseline), tuple(candidate), now)


def watch_look(watch: Watch, now: datetime) -> Look:
    """Where `now` sits in the watch's schedule of looks: the first once MIN_STEPS points are in,
    then one every interval, the last at the end of the watch (the judge spends its level by it)."""
    horizon = (watch.ends_at - watch.started_at).total_seconds()
    first = min(horizon, MIN_STEPS * watch.step_seconds)
    schedule = Schedule(first=first, every=watch.interval_seconds, horizon=horizon)
    return Look(elapsed=(now - watch.started_at).total_seconds(), schedule=schedule)


def _short(version: str) -> str:
    """A commit sha as people write it (7 characters); a version name as it is."""
    is_sha = len(version) == 40 and all(c in "0123456789abcdef" for c in version.lower())
    return version[:7] if is_sha else version


def _unjudged(spec: CheckSpec, outcome: Outcome, reason: str) -> CheckResult:
    return CheckResult(name=spec.name, outcome=outcome, reason=reason, critical=spec.critical)


def register_jobs(registry: HandlerRegistry, deps: WatchDeps) -> None:
    registry.register(JobKind.WATCH, run_watch, deps)
