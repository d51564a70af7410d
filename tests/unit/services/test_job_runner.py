"""What the job runner makes of each handler outcome, on the in-memory jobs table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shepherd.domain.errors import NotifierUnavailable
from shepherd.domain.jobs import Job, JobOutcome, JobState, NewJob, PermanentFailure, RetryLater
from shepherd.services.jobs import HandlerRegistry, JobContext, JobRunner
from tests.support.builders import Store

Handler = Callable[[JobContext], None]


def setup(store: Store, handler: Handler | None, **job: Any) -> tuple[JobRunner, int]:
    registry = HandlerRegistry()
    if handler is not None:
        registry["test"] = handler
    with store.uow_factory() as uow:
        job_id = uow.jobs.enqueue(NewJob(kind="test", **job), now=store.clock())
    assert job_id is not None
    return store.runner(registry), job_id


def row(store: Store, job_id: int) -> Job:
    return store.uow_factory.tables.jobs[job_id]


def run_once(store: Store, runner: JobRunner) -> JobOutcome:
    (job,) = runner.lease()
    return runner.run(job)


def test_a_handler_that_returns_is_done() -> None:
    store = Store()
    runner, job_id = setup(store, lambda ctx: None)
    assert run_once(store, runner) is JobOutcome.DONE
    done = row(store, job_id)
    assert (done.state, done.finished_at, done.lease_token) == (JobState.DONE, store.clock(), None)


@pytest.mark.parametrize("error", [RuntimeError("boom"), NotifierUnavailable("slack 503")])
def test_a_failure_retries_after_backoff_until_the_last_attempt_then_is_dead(error: Exception) -> None:
    store = Store()

    def fails(ctx: JobContext) -> None:
        raise error

    runner, job_id = setup(store, fails, max_attempts=3)
    outcomes = []
    for _ in range(3):
        outcomes.append(run_once(store, runner))
        pending = row(store, job_id)
        if pending.state is JobState.PENDING:
            delay = (pending.run_at - store.clock()).total_seconds()
            assert (
                2 ** (pending.attempts - 1) <= delay < 3 * 2 ** (pending.attempts - 1)
            )  # 2 s × 2^(n-1) × [0.5, 1.5)
            assert runner.lease() == []  # not before its time
            store.clock.advance(delay)
    assert outcomes == [JobOutcome.RETRY, JobOutcome.RETRY, JobOutcome.DEAD]
    dead = row(store, job_id)
    assert dead.state is JobState.DEAD and dead.last_error is not None
    assert dead.last_error.startswith(f"gave up after 3 attempts: {type(error).__name__}: ")


def test_retry_later_waits_exactly_that_long_and_uses_no_attempt() -> None:
    store = Store()

    def rate_limited(ctx: JobContext) -> None:
        raise RetryLater(42, "rate limited")

    runner, job_id = setup(store, rate_limited, max_attempts=1)
    for _ in range(3):  # more waits than attempts: waiting is not failing
        assert run_once(store, runner) is JobOutcome.WAIT
        waiting = row(store, job_id)
        assert (waiting.run_at - store.clock()).total_seconds() == 42 and waiting.attempts == 0
        store.clock.advance(42)
    assert row(store, job_id).last_error == "retry later: rate limited"


def test_a_permanent_failure_or_an_unknown_kind_is_dead_at_once() -> None:
    store = Store()

    def hopeless(ctx: JobContext) -> None:
        raise PermanentFailure("channel_not_found")

    runner, job_id = setup(store, hopeless)
    assert run_once(store, runner) is JobOutcome.DEAD
    assert row(store, job_id).last_error == "permanent failure: channel_not_found"
    runner, job_id = setup(store, None)
    assert run_once(store, runner) is JobOutcome.DEAD
    assert row(store, job_id).last_error == "no handler for job kind 'test'"


def test_a_self_rescheduling_job_runs_again_later_with_fresh_attempts() -> None:
    store = Store()

    def tick(ctx: JobContext) -> None:
        if ctx.payload["n"] < 3:
            ctx.reschedule(after_seconds=60, payload={"n": ctx.payload["n"] + 1})

    runner, job_id = setup(store, tick, payload={"n": 1})
    outcomes = []
    for _ in range(3):
        outcomes.append(run_once(store, runner))
        assert row(store, job_id).attempts == 0 or row(store, job_id).state is JobState.DONE
        store.clock.advance(60)
    assert outcomes == [JobOutcome.RESCHEDULED, JobOutcome.RESCHEDULED, JobOutcome.DONE]


def test_the_last_write_and_the_jobs_end_commit_together() -> None:
    store = Store()

    def effect(ctx: JobContext) -> None:
        ctx.reschedule(after_seconds=10)
        with ctx.transaction(finish=True) as uow:
            uow.notifications.cache_slack_user("ana@example.com", "U01ANA", now=ctx.now())

    runner, job_id = setup(store, effect)
    assert run_once(store, runner) is JobOutcome.RESCHEDULED
    assert store.uow_factory.tables.slack_users == {"ana@example.com": ("U01ANA", store.clock())}
    assert row(store, job_id).state is JobState.PENDING


def test_a_worker_that_lost_its_lease_writes_nothing() -> None:
    store = Store()
    taken: list[Job] = []

    def stalls(ctx: JobContext) -> None:
        store.clock.advance(31)  # past its lease...
        taken.extend(runner.lease())  # ...so another worker takes the job
        with ctx.transaction(finish=True) as uow:
            uow.notifications.cache_slack_user("ana@example.com", "U01ANA", now=ctx.now())

    runner, job_id = setup(store, stalls)
    (job,) = runner.lease()
    assert runner.run(job) is JobOutcome.LEASE_LOST
    assert store.uow_factory.tables.slack_users == {}
    assert [t.attempts for t in taken] == [2] and row(store, job_id).lease_token == taken[0].lease_token
    assert runner.extend(job) is False and runner.extend(taken[0]) is True


def test_settling_a_job_leases_the_next_in_the_same_transaction() -> None:
    store = Store()
    runner, first = setup(store, lambda ctx: None)
    with store.uow_factory() as uow:
        second = uow.jobs.enqueue(NewJob(kind="test"), now=store.clock())
    (job,) = runner.lease()
    commits = len(store.uow_factory.made)
    outcome, leased = runner.run_then_lease(job)
    assert outcome is JobOutcome.DONE and leased is not None and leased.id == second
    assert len(store.uow_factory.made) == commits + 1  # one transaction settled one job and leased the next
    assert row(store, first).state is JobState.DONE
