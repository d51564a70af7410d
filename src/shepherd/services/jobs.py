"""Running one leased job: its transactions, its outcome, its retries.

A handler does its slow I/O outside transactions and writes through `ctx.transaction()`,
which first re-checks the lease: a worker that lost its lease writes nothing. A handler
that wants its last write and the job's completion to be one atomic step (exactly once
for database effects) uses `ctx.transaction(finish=True)`; a self-rescheduling job calls
`ctx.reschedule` first, and that transaction then records its next run instead (a watch tick:
its state and its next tick commit together, and the tick costs one transaction less).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from shepherd.domain.jobs import (
    Job,
    JobKind,
    JobOutcome,
    LeaseLost,
    PermanentFailure,
    RetryLater,
    Transient,
    backoff_seconds,
)
from shepherd.services.circuits import Circuits
from shepherd.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("shepherd.jobs")


@dataclass
class _Next:
    seconds: float
    payload: dict[str, Any]


class JobContext:
    def __init__(self, job: Job, runner: JobRunner, *, lease_next: bool = False) -> None:
        self.job = job
        self._runner = runner
        self.finished = False
        self.next: _Next | None = None
        self.lease_next = lease_next
        self.leased: Job | None = None  # the next job, leased in the transaction that settled this one

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """For short reads and writes that need no lease check (e.g. caches)."""
        return self._runner.uow_factory

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    def now(self) -> Any:
        return self._runner.clock()

    @contextmanager
    def transaction(self, *, finish: bool = False) -> Iterator[UnitOfWork]:
        """A unit of work that commits only while this worker still holds the lease."""
        token = self.job.lease_token
        assert token is not None
        with self._runner.uow_factory() as uow:
            yield uow
            now = self._runner.clock()
            if finish and self.next is not None:
                run_at = now + timedelta(seconds=self.next.seconds)
                uow.jobs.reschedule(self.job.id, token, now=now, run_at=run_at, payload=self.next.payload)
            elif finish:
                uow.jobs.finish(self.job.id, token, now=now)
            else:
                uow.jobs.extend(self.job.id, token, until=now + timedelta(seconds=self._runner.lease_seconds))
            leased = self._runner.lease_next_in(uow, self) if finish else None
        if finish:
            self.finished, self.leased = True, leased

    def reschedule(self, *, after_seconds: float, payload: dict[str, Any] | None = None) -> None:
        """Run this job again later (self-rescheduling jobs such as a watch tick)."""
        self.next = _Next(after_seconds, dict(payload if payload is not None else self.job.payload))


Handler = Callable[[JobContext], None]
_UNSETTLED = (JobOutcome.PARKED, JobOutcome.LEASE_LOST)
D = TypeVar("D")


@dataclass(frozen=True)
class _Bound(Generic[D]):
    """A handler with the dependencies its capability gave it (no closures in bootstrap)."""

    run: Callable[[JobContext, D], None]
    deps: D

    def __call__(self, ctx: JobContext) -> None:
        self.run(ctx, self.deps)


class HandlerRegistry:
    """Which handler runs each job kind. Each capability registers its own (`register_jobs`)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: JobKind, run: Callable[[JobContext, D], None], deps: D) -> None:
        if kind in self._handlers:
            raise ValueError(f"job kind {kind!r} has a handler already")
        self._handlers[kind] = _Bound(run, deps)

    def missing(self) -> list[JobKind]:
        """Kinds nobody registered: a job of one of them would die with 'no handler'."""
        return [kind for kind in JobKind if kind not in self._handlers]

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    def __getitem__(self, kind: str) -> Handler:
        return self._handlers[kind]

    def __setitem__(self, kind: str, handler: Handler) -> None:
        """Replace or add a handler as it is (tests and benchmarks: a slow or failing stand-in)."""
        self._handlers[kind] = handler


class JobRunner:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        handlers: HandlerRegistry,
        clock: Clock,
        lease_seconds: float,
        rng: random.Random | None = None,
        circuits: Circuits | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.circuits = circuits  # None: no destination has a circuit (jobs back off on their own)
        self.handlers = handlers
        self.clock = clock
        self.lease_seconds = lease_seconds
        self._rng = rng or random.Random()

    def lease(self, limit: int = 1) -> list[Job]:
        with self.uow_factory() as uow:
            jobs = uow.jobs.lease(now=self.clock(), seconds=self.lease_seconds, limit=limit)
        return jobs

    def lease_job(self, job_id: int) -> Job | None:
        with self.uow_factory() as uow:
            job = uow.jobs.lease_job(job_id, now=self.clock(), seconds=self.lease_seconds)
        return job

    def lease_next_in(self, uow: UnitOfWork, ctx: JobContext) -> Job | None:
        """The next due job, leased in the transaction settling `ctx`'s job, if its worker asked."""
        if not ctx.lease_next or ctx.leased is not None:
            return None
        jobs = uow.jobs.lease(now=self.clock(), seconds=self.lease_seconds, limit=1)
        return jobs[0] if jobs else None

    def extend(self, job: Job) -> bool:
        assert job.lease_token is not None
        until = self.clock() + timedelta(seconds=self.lease_seconds)
        try:
            with self.uow_factory() as uow:
                uow.jobs.extend(job.id, job.lease_token, until=until)
        except LeaseLost:
            return False
        return True

    def run(self, job: Job) -> JobOutcome:
        """Run a leased job and settle it; returns what happened (for logs and tests)."""
        return self._run(JobContext(job, self))

    def run_then_lease(self, job: Job) -> tuple[JobOutcome, Job | None]:
        """`run`, and lease the next due job in the transaction that settles this one.

        A worker's loop would otherwise spend a transaction of its own on every lease.
        """
        ctx = JobContext(job, self, lease_next=True)
        return self._run(ctx), ctx.leased

    def _run(self, ctx: JobContext) -> JobOutcome:
        job = ctx.job
        handler = self.handlers.get(job.kind)
        if handler is None:
            return self._settle(ctx, JobOutcome.DEAD, error=f"no handler for job kind {job.kind!r}")
        circuits = self.circuits if job.destination is not None else None
        seen = circuits.lets_through(job) if circuits is not None else None
        if circuits is not None and seen is None:
            return self._park(ctx, f"waiting: {job.destination} is down", outage=False)
        try:
            handler(ctx)
        except Exception as exc:
            outcome = self._failed(ctx, exc)
            if circuits is not None and seen is not None and outcome not in _UNSETTLED:
                circuits.delivered(job, seen)  # it answered, if with a no: the trial is over
            return outcome
        if circuits is not None and seen is not None:
            circuits.delivered(job, seen)
        if ctx.finished:
            return JobOutcome.DONE if ctx.next is None else JobOutcome.RESCHEDULED
        if ctx.next is not None:
            return self._settle(ctx, JobOutcome.RESCHEDULED, after=ctx.next.seconds, payload=ctx.next.payload)
        return self._settle(ctx, JobOutcome.DONE)

    def _failed(self, ctx: JobContext, error: Exception) -> JobOutcome:
        """How a job that raised is settled follows from the error's type."""
        job = ctx.job
        if self.circuits is not None and job.destination is not None and isinstance(error, Transient):
            # Its destination is down: every job for it waits for the circuit, spending nothing.
            retry_after = error.seconds if isinstance(error, RetryLater) else None
            text = f"{type(error).__name__}: {error}"
            return self._park(ctx, text, outage=True, retry_after=retry_after)
        if isinstance(error, LeaseLost):
            log.warning("job %s (%s): lease lost; another worker has it", job.id, job.kind)
            return JobOutcome.LEASE_LOST
        if isinstance(error, RetryLater):  # asked to wait (e.g. Retry-After): not a failed attempt
            return self._settle(ctx, JobOutcome.WAIT, error=f"retry later: {error}", after=error.seconds)
        if isinstance(error, PermanentFailure):
            return self._settle(ctx, JobOutcome.DEAD, error=f"permanent failure: {error}")
        if isinstance(error, Transient):
            log.warning("job %s (%s) attempt %s: %s; will retry", job.id, job.kind, job.attempts, error)
        else:
            log.error("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempts, exc_info=error)
        delay = backoff_seconds(job.attempts, rng=self._rng)
        return self._retry(ctx, delay, f"{type(error).__name__}: {error}")

    def _park(
        self, ctx: JobContext, error: str, *, outage: bool, retry_after: float | None = None
    ) -> JobOutcome:
        assert self.circuits is not None
        try:
            with self.uow_factory() as uow:
                self.circuits.park(uow, ctx.job, error=error, outage=outage, retry_after=retry_after)
        except LeaseLost:
            return JobOutcome.LEASE_LOST
        return JobOutcome.PARKED

    def _retry(self, ctx: JobContext, seconds: float, error: str) -> JobOutcome:
        job = ctx.job
        if job.attempts >= job.max_attempts:
            return self._settle(ctx, JobOutcome.DEAD, error=f"gave up after {job.attempts} attempts: {error}")
        return self._settle(ctx, JobOutcome.RETRY, error=error, after=seconds)

    def _settle(
        self,
        ctx: JobContext,
        outcome: JobOutcome,
        *,
        error: str = "",
        after: float = 0.0,
        payload: dict[str, Any] | None = None,
    ) -> JobOutcome:
        job, token = ctx.job, ctx.job.lease_token
        assert token is not None
        now = self.clock()
        run_at = now + timedelta(seconds=after)
        try:
            with self.uow_factory() as uow:
                if outcome is JobOutcome.DONE:
                    uow.jobs.finish(job.id, token, now=now)
                elif outcome is JobOutcome.DEAD:
                    uow.jobs.bury(job.id, token, now=now, error=error)
                elif outcome in (JobOutcome.RETRY, JobOutcome.WAIT):
                    uow.jobs.retry(
                        job.id, token, now=now, run_at=run_at, error=error, refund=outcome is JobOutcome.WAIT
                    )
                else:
                    uow.jobs.reschedule(job.id, token, now=now, run_at=run_at, payload=payload or {})
                leased = self.lease_next_in(uow, ctx)
            ctx.leased = ctx.leased or leased
        except LeaseLost:
            log.warning("job %s: lease lost before recording outcome %s", job.id, outcome)
            return JobOutcome.LEASE_LOST
        if outcome is JobOutcome.DEAD:
            log.error("job %s (%s) is dead: %s", job.id, job.kind, error)
        return outcome
