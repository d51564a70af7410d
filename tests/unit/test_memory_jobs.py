"""The in-memory jobs table keeps the SQL queue's rules, so service tests can trust what it queues."""

from __future__ import annotations

from shepherd.domain.jobs import JobState, NewJob
from tests.support import FakeClock
from tests.support.memory import FakeUnitOfWorkFactory


def enqueue(factory: FakeUnitOfWorkFactory, clock: FakeClock, *jobs: NewJob) -> list[int | None]:
    with factory() as uow:
        return [uow.jobs.enqueue(job, now=clock()) for job in jobs]


def lease(factory: FakeUnitOfWorkFactory, clock: FakeClock, limit: int = 5) -> list[int]:
    with factory() as uow:
        return [j.id for j in uow.jobs.lease(now=clock(), seconds=30, limit=limit)]


def test_dedupe_keys_and_coalescing_twins_add_nothing() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FakeClock()
    later = clock.now.replace(hour=11)
    ids = enqueue(
        factory,
        clock,
        NewJob(kind="x", dedupe_key="k"),
        NewJob(kind="x", dedupe_key="k"),
        NewJob(kind="sync", serial_key="deploy:1"),
        NewJob(kind="sync", serial_key="deploy:1", coalesce=True),  # the pending one runs no later
        NewJob(kind="sync", serial_key="deploy:2", run_at=later),
        NewJob(kind="sync", serial_key="deploy:2", coalesce=True),  # runs sooner than its twin: kept
    )
    assert [i is not None for i in ids] == [True, False, True, False, True, True]


def test_leases_take_due_jobs_oldest_first_one_per_serial_key_and_expire() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FakeClock()
    later = clock.now.replace(hour=11)
    a, b, c, d = enqueue(
        factory,
        clock,
        NewJob(kind="sync", serial_key="deploy:1"),
        NewJob(kind="sync", serial_key="deploy:1"),
        NewJob(kind="x"),
        NewJob(kind="x", run_at=later),
    )
    assert lease(factory, clock) == [a, c]  # b waits for its twin; d is not due
    assert lease(factory, clock) == []
    clock.advance(31)  # the leases ran out: their workers died, another may take them
    assert lease(factory, clock) == [a, c]
    assert factory.tables.jobs[a].attempts == 2 and b is not None and d is not None


def test_a_job_whose_worker_keeps_dying_is_dead_when_it_would_be_leased_again() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FakeClock()
    (job_id,) = enqueue(factory, clock, NewJob(kind="crashy", max_attempts=2))
    for _ in range(2):
        assert lease(factory, clock) == [job_id]
        clock.advance(31)
    assert lease(factory, clock) == []
    assert job_id is not None
    dead = factory.tables.jobs[job_id]
    assert (
        dead.state is JobState.DEAD and dead.last_error == "the worker running it stopped responding 2 times"
    )
    with factory() as uow:
        assert uow.jobs.revive(job_id, now=clock()) and not uow.jobs.revive(job_id, now=clock())
        assert uow.jobs.counts() == {"pending": 1} and uow.jobs.next_run_at() == clock()
