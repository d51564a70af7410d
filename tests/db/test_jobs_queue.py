"""The jobs table and one job's lifecycle, on SQLite and PostgreSQL."""

import threading
from typing import Any

import pytest

from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.domain.deploys import DeployStatus
from shepherd.domain.jobs import JobState, LeaseLost, NewJob, PermanentFailure, RetryLater
from shepherd.services.jobs import JobContext, JobRunner
from shepherd.services.worker import Worker
from tests.support import FakeClock
from tests.support.databases import new_deploy


def runner(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock, **handlers: Any) -> JobRunner:
    return JobRunner(uow_factory=uow_factory, handlers=handlers, clock=clock, lease_seconds=30)


def enqueue(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock, *jobs: NewJob) -> list[int | None]:
    with uow_factory() as uow:
        ids = [uow.jobs.enqueue(job, now=clock()) for job in jobs]
        uow.commit()
    return ids


def state(uow_factory: SqlUnitOfWorkFactory, job_id: int | None) -> Any:
    with uow_factory() as uow:
        return next(j for j in uow.jobs.query(limit=1000) if j.id == job_id)


def test_job_is_written_with_the_domain_change_or_not_at_all(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    with pytest.raises(RuntimeError), uow_factory() as uow:
        uow.deploys.add(new_deploy(clock))
        uow.jobs.enqueue(NewJob(kind="x"), now=clock())
        raise RuntimeError("the request failed after both writes")
    with uow_factory() as uow:
        assert uow.jobs.query() == [] and uow.deploys.query() == []


def test_dedupe_key(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    first, second, other = enqueue(
        uow_factory,
        clock,
        NewJob(kind="x", dedupe_key="k"),
        NewJob(kind="x", dedupe_key="k"),
        NewJob(kind="x"),
    )
    assert first is not None and second is None and other is not None


def test_lease_takes_due_jobs_in_order_and_not_twice(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    later = clock.now.replace(hour=11)
    a, b, _ = enqueue(uow_factory, clock, NewJob(kind="x"), NewJob(kind="x"), NewJob(kind="x", run_at=later))
    jobs = runner(uow_factory, clock)
    assert [j.id for j in jobs.lease(5)] == [a, b]
    assert jobs.lease(5) == []
    clock.advance(31)  # leases of a and b ran out: another worker may take them
    assert [j.id for j in jobs.lease(5)] == [a, b]
    assert state(uow_factory, a).attempts == 2


def test_success_failure_retry_and_dead(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    calls: list[int] = []

    def flaky(ctx: JobContext) -> None:
        calls.append(ctx.job.attempts)
        raise RuntimeError("boom")

    (job_id,) = enqueue(uow_factory, clock, NewJob(kind="flaky", max_attempts=3))
    jobs = runner(uow_factory, clock, flaky=flaky)
    outcomes = []
    for _ in range(3):
        clock.advance(1000)
        (job,) = jobs.lease()
        outcomes.append(jobs.run(job))
    assert outcomes == ["retry", "retry", "dead"]
    dead = state(uow_factory, job_id)
    assert dead.state is JobState.DEAD and "gave up after 3 attempts: RuntimeError: boom" in dead.last_error
    assert calls == [1, 2, 3]


def test_retry_waits_with_backoff(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    def fails(ctx: JobContext) -> None:
        raise RuntimeError("down")

    (job_id,) = enqueue(uow_factory, clock, NewJob(kind="f"))
    jobs = runner(uow_factory, clock, f=fails)
    jobs.run(jobs.lease()[0])
    pending = state(uow_factory, job_id)
    delay = (pending.run_at - clock()).total_seconds()
    assert pending.state is JobState.PENDING and 1.0 <= delay < 3.0
    assert jobs.lease() == []


def test_retry_later_and_permanent_failure(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    def slow_down(ctx: JobContext) -> None:
        raise RetryLater(42, "rate limited")

    def hopeless(ctx: JobContext) -> None:
        raise PermanentFailure("channel_not_found")

    a, b = enqueue(uow_factory, clock, NewJob(kind="slow"), NewJob(kind="nope"))
    jobs = runner(uow_factory, clock, slow=slow_down, nope=hopeless)
    for job in jobs.lease(2):
        jobs.run(job)
    assert (state(uow_factory, a).run_at - clock()).total_seconds() == 42
    assert state(uow_factory, b).state is JobState.DEAD
    assert "channel_not_found" in state(uow_factory, b).last_error


def test_unknown_kind_is_dead_and_revivable(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    (job_id,) = enqueue(uow_factory, clock, NewJob(kind="mystery"))
    jobs = runner(uow_factory, clock)
    assert jobs.run(jobs.lease()[0]) == "dead"
    assert "no handler" in state(uow_factory, job_id).last_error
    with uow_factory() as uow:
        assert uow.jobs.revive(job_id, now=clock()) and not uow.jobs.revive(job_id, now=clock())
        uow.commit()
    assert state(uow_factory, job_id).state is JobState.PENDING


def test_self_rescheduling_job(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    def tick(ctx: JobContext) -> None:
        if ctx.payload["n"] < 3:
            ctx.reschedule(after_seconds=60, payload={"n": ctx.payload["n"] + 1})

    (job_id,) = enqueue(uow_factory, clock, NewJob(kind="tick", payload={"n": 1}))
    jobs = runner(uow_factory, clock, tick=tick)
    outcomes = []
    for _ in range(3):
        (job,) = jobs.lease()
        outcomes.append(jobs.run(job))
        assert jobs.lease() == []
        clock.advance(60)
    assert outcomes == ["rescheduled", "rescheduled", "done"]
    assert state(uow_factory, job_id).state is JobState.DONE


def test_finish_in_the_same_transaction_as_the_effect(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    def effect(ctx: JobContext) -> None:
        with ctx.transaction(finish=True) as uow:
            uow.deploys.add(new_deploy(clock, status=DeployStatus.SUCCEEDED))

    (job_id,) = enqueue(uow_factory, clock, NewJob(kind="effect"))
    jobs = runner(uow_factory, clock, effect=effect)
    assert jobs.run(jobs.lease()[0]) == "done"
    assert state(uow_factory, job_id).state is JobState.DONE
    with uow_factory() as uow:
        assert len(uow.deploys.query()) == 1


def test_a_worker_that_lost_its_lease_writes_nothing(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    stolen: list[int] = []

    def slow(ctx: JobContext) -> None:
        clock.advance(31)  # this worker stalls past its lease...
        (other,) = jobs.lease()  # ...and another worker takes the job
        stolen.append(other.attempts)
        with ctx.transaction(finish=True) as uow:
            uow.deploys.add(new_deploy(clock))

    (job_id,) = enqueue(uow_factory, clock, NewJob(kind="slow"))
    jobs = runner(uow_factory, clock, slow=slow)
    assert jobs.run(jobs.lease()[0]) == "lease_lost"
    assert stolen == [2]
    with uow_factory() as uow:
        assert uow.deploys.query() == []
        with pytest.raises(LeaseLost):
            uow.jobs.finish(job_id, "not-the-token", now=clock())


def test_a_job_whose_worker_keeps_dying_ends_dead(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    (job_id,) = enqueue(uow_factory, clock, NewJob(kind="crashy", max_attempts=2))
    jobs = runner(uow_factory, clock)
    for _ in range(2):  # leased, and its worker is never heard of again
        assert len(jobs.lease()) == 1
        clock.advance(31)
    assert jobs.lease() == []
    dead = state(uow_factory, job_id)
    assert dead.state is JobState.DEAD and "stopped responding 2 times" in dead.last_error


def test_serial_jobs_run_one_at_a_time_and_coalesce(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    a, b, c, other = enqueue(
        uow_factory,
        clock,
        NewJob(kind="sync", serial_key="deploy:1"),
        NewJob(kind="sync", serial_key="deploy:1", coalesce=True),  # absorbed by a
        NewJob(kind="other", serial_key="deploy:1"),
        NewJob(kind="sync", serial_key="deploy:2"),
    )
    assert b is None
    jobs = runner(uow_factory, clock, sync=lambda ctx: None, other=lambda ctx: None)
    first = jobs.lease(5)
    assert [j.id for j in first] == [a, other]  # c waits: deploy 1 has a job running
    for job in first:
        jobs.run(job)
    assert [j.id for j in jobs.lease(5)] == [c]


def test_twins_leased_at_once_by_two_workers_run_one_at_a_time(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    twin = NewJob(kind="sync", serial_key="deploy:1")
    # The fillers keep the first worker from locking the twin along with its other candidates.
    first, *_, second = enqueue(uow_factory, clock, twin, *[NewJob(kind="x")] * 3, twin)
    other_worker: list[list[int]] = []

    def lease_in_another_worker() -> None:
        with uow_factory() as uow:
            other_worker.append([j.id for j in uow.jobs.lease(now=clock(), seconds=30)])
            uow.commit()

    with uow_factory() as uow:
        assert [j.id for j in uow.jobs.lease(now=clock(), seconds=30)] == [first]
        other = threading.Thread(target=lease_in_another_worker)
        other.start()  # PostgreSQL: it picks the twin, then waits on the key's lock
        other.join(0.5)
        assert other.is_alive()
        uow.commit()
    other.join(10)
    assert len(other_worker) == 1 and second not in other_worker[0]  # the twin waits for the first


def test_settling_a_job_leases_the_next_one_in_the_same_transaction(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    def effect(ctx: JobContext) -> None:
        with ctx.transaction(finish=True) as uow:
            uow.deploys.add(new_deploy(clock))

    a, b, c = enqueue(uow_factory, clock, NewJob(kind="plain"), NewJob(kind="effect"), NewJob(kind="plain"))
    jobs = runner(uow_factory, clock, plain=lambda ctx: None, effect=effect)
    outcome, second = jobs.run_then_lease(jobs.lease()[0])  # settled by the runner
    assert outcome == "done" and second is not None and second.id == b
    assert state(uow_factory, b).state is JobState.RUNNING and second.lease_token is not None
    outcome, third = jobs.run_then_lease(second)  # settled by the handler's own last transaction
    assert outcome == "done" and third is not None and third.id == c
    assert jobs.run_then_lease(third) == ("done", None)
    assert [state(uow_factory, j).state for j in (a, b, c)] == [JobState.DONE] * 3


def test_the_worker_leaves_no_job_leased_when_it_stops(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    first, second = enqueue(uow_factory, clock, NewJob(kind="plain"), NewJob(kind="plain"))
    worker = Worker(runner(uow_factory, clock, plain=lambda ctx: None))
    assert worker.run_until_idle(max_jobs=1) == 1
    assert state(uow_factory, first).state is JobState.DONE
    assert state(uow_factory, second).state is JobState.PENDING
    assert worker.run_until_idle() == 1
