"""The watch job's verdict transitions: running, pass at the end, fail at once and for good."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shepherd.domain.alerts import IncidentState
from shepherd.domain.deploys import DeployStatus
from shepherd.domain.jobs import JobKind, JobOutcome
from shepherd.domain.watch import MetricsUnavailable, Point, Series, Verdict, WatchMode
from shepherd.services.jobs import HandlerRegistry, JobRunner
from shepherd.services.watch import WatchDeps, register_jobs, watch_job
from tests.fakes.metrics import FakeMetricsSource, MetricsCall
from tests.support.builders import SHA_1, Store, shop_config

CHECK = {
    "name": "error ratio",
    "source": "prometheus",
    "query": 'errors{version="{version}"}',
    "kind": "ratio",
    "tolerance": 0.2,
    "critical": True,
}
POLICIES = {"watch_minutes": 10, "watch_interval_seconds": 60}


def errors(bad_version: str | None) -> Any:
    """An error ratio per version: 5% for the bad one, 0.4% for the others, with a little wobble."""

    def answer(call: MetricsCall) -> list[Series]:
        version = call.query.split('version="')[1].split('"')[0]
        level = 0.05 if version == bad_version else 0.004
        t, points = call.start.timestamp(), []
        while t <= call.end.timestamp():
            points.append(Point(t, level * (1 + 0.1 * ((t // call.step_seconds) % 3))))
            t += call.step_seconds
        return [Series({"version": version}, tuple(points))]

    return answer


def watched(
    store: Store, source: FakeMetricsSource, *, checks: bool = True, **deploy: Any
) -> tuple[int, JobRunner]:
    """v1 went out an hour ago and succeeded; v2 starts now with its watch queued, as a start queues it."""
    an_hour_ago = store.clock() - timedelta(hours=1)
    store.deploy(sha=SHA_1, version="v1", status=DeployStatus.SUCCEEDED, started_at=an_hour_ago)
    new = store.deploy(version="v2", previous_sha=SHA_1, **deploy)
    assert new.id is not None
    with store.uow_factory() as uow:
        uow.jobs.enqueue(watch_job(new.id), now=store.clock())
    config = shop_config(policies=POLICIES, checks=[CHECK] if checks else [])
    registry = HandlerRegistry()
    register_jobs(registry, WatchDeps(config=config, sources={"prometheus": source}))
    return new.id, store.runner(registry)


def watch_for(store: Store, runner: JobRunner, minutes: int) -> list[JobOutcome]:
    """A look a minute (the other jobs a look queues stay queued)."""
    outcomes = []
    for _ in range(minutes + 1):
        outcomes += [runner.run(job) for job in runner.lease(limit=10) if job.kind == JobKind.WATCH]
        store.clock.advance(60)
    return outcomes


def verdict_notes(store: Store, deploy_id: int) -> list[str]:
    return [t.split(":")[0] for t in store.timeline(deploy_id, "verdict")]


def test_a_regressing_version_fails_in_canary_mode_for_good_and_opens_an_incident() -> None:
    store = Store()
    source = FakeMetricsSource(default=errors("v2"))
    deploy_id, runner = watched(store, source)
    outcomes = watch_for(store, runner, 6)
    watch = store.uow_factory.tables.watches[deploy_id]
    assert watch.verdict is Verdict.FAIL and watch.finished and watch.failed_at is not None
    assert outcomes[-1] is JobOutcome.DONE and set(outcomes[:-1]) == {JobOutcome.RESCHEDULED}
    assert watch_for(store, runner, 3) == []  # a failure is final: no more looks
    (check,) = store.uow_factory.tables.checks.values()
    assert check.mode == WatchMode.CANARY and "on v2 vs v1" in check.result.reason
    assert any('version="v1"' in q for q in source.queries())  # the stable version, same window
    assert verdict_notes(store, deploy_id)[-1] == "verdict fail"
    (incident,) = store.uow_factory.tables.incidents.values()
    assert (incident.trigger, incident.state) == ("verdict", IncidentState.OPEN)
    assert incident.title == f"checkout {'b' * 7} failed its watch"


def test_a_healthy_version_keeps_running_then_passes_when_the_window_ends() -> None:
    store = Store()
    deploy_id, runner = watched(store, FakeMetricsSource(default=errors(None)))
    watch_for(store, runner, 5)
    assert store.uow_factory.tables.watches[deploy_id].verdict is Verdict.RUNNING
    outcomes = watch_for(store, runner, 6)
    watch = store.uow_factory.tables.watches[deploy_id]
    assert (watch.verdict, watch.finished, outcomes[-1]) == (Verdict.PASS, True, JobOutcome.DONE)
    assert watch.stable_version == "v1" and watch.ends_at == watch.started_at + timedelta(minutes=10)
    assert store.uow_factory.tables.incidents == {}
    assert verdict_notes(store, deploy_id)[-1] == "verdict pass"


def test_a_failing_query_is_inconclusive_with_the_error() -> None:
    store = Store()
    source = FakeMetricsSource(default=MetricsUnavailable("prometheus", "errors", "connection refused"))
    deploy_id, runner = watched(store, source)
    watch_for(store, runner, 3)
    (check,) = store.uow_factory.tables.checks.values()
    assert (
        check.result.reason.startswith("the query failed: ") and "connection refused" in check.result.reason
    )
    assert store.uow_factory.tables.watches[deploy_id].verdict is not Verdict.FAIL


@pytest.mark.parametrize(
    ("checks", "status", "reason"),
    [
        (False, DeployStatus.STARTED, "no checks are configured for checkout"),
        (True, DeployStatus.FAILED, "the deploy failed: nothing left to watch"),
        (True, DeployStatus.ROLLED_BACK, "the deploy rolled back: nothing left to watch"),
    ],
)
def test_with_nothing_to_watch_the_watch_stops_at_once_inconclusive(
    checks: bool, status: DeployStatus, reason: str
) -> None:
    store = Store()
    source = FakeMetricsSource(default=errors(None))
    deploy_id, runner = watched(store, source, checks=checks, status=status)
    assert watch_for(store, runner, 2) == [JobOutcome.DONE]
    watch = store.uow_factory.tables.watches[deploy_id]
    assert (watch.verdict, watch.finished) == (Verdict.INCONCLUSIVE, True)
    assert watch.reason.startswith(reason) and source.calls == []
    assert store.jobs(JobKind.SYNC_MESSAGES)  # people hear why
