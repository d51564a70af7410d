"""The jobs table in memory: dedupe and coalesce on enqueue, leases, settles guarded by the token."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from shepherd.domain.circuits import destination_of
from shepherd.domain.jobs import Job, JobState, LeaseLost, NewJob
from tests.support.memory.tables import Sequences, Tables

_ERROR_LIMIT = 4000  # what the SQL queue keeps of an error


class FakeJobQueue:
    def __init__(self, tables: Tables, ids: Sequences) -> None:
        self._t, self._ids = tables, ids

    def enqueue(self, job: NewJob, *, now: datetime) -> int | None:
        run_at = job.run_at or now
        if job.coalesce and job.serial_key and self._pending_twin(job, run_at):
            return None
        if job.dedupe_key is not None and any(j.dedupe_key == job.dedupe_key for j in self._t.jobs.values()):
            return None
        job_id = self._ids.next("jobs")
        self._t.jobs[job_id] = Job(
            id=job_id,
            kind=job.kind,
            payload=dict(job.payload),
            state=JobState.PENDING,
            attempts=0,
            max_attempts=job.max_attempts,
            run_at=run_at,
            created_at=now,
            updated_at=now,
            dedupe_key=job.dedupe_key,
            deploy_id=job.deploy_id,
            serial_key=job.serial_key,
            destination=job.destination or destination_of(job.kind),
        )
        return job_id

    def _pending_twin(self, job: NewJob, run_at: datetime) -> bool:
        return any(
            (j.kind, j.serial_key) == (job.kind, job.serial_key)
            and j.state in (JobState.PENDING, JobState.PARKED)
            and j.run_at <= run_at
            for j in self._t.jobs.values()
        )

    def query(self, *, state: str | None = None, deploy_id: int | None = None, limit: int = 100) -> list[Job]:
        found = [
            j
            for j in sorted(self._t.jobs.values(), key=lambda j: -j.id)
            if (not state or j.state == state) and (deploy_id is None or j.deploy_id == deploy_id)
        ]
        return found[:limit]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in self._t.jobs.values():
            counts[job.state.value] = counts.get(job.state.value, 0) + 1
        return counts

    def next_run_at(self) -> datetime | None:
        return min((j.run_at for j in self._t.jobs.values() if j.state is JobState.PENDING), default=None)

    def lease(self, *, now: datetime, seconds: float, limit: int = 1) -> list[Job]:
        leased: list[Job] = []
        for job in self._due(now)[: limit * 4]:
            if len(leased) == limit:
                break
            if job.state is JobState.RUNNING and job.attempts >= job.max_attempts:
                error = f"the worker running it stopped responding {job.attempts} times"
                self._put(
                    job,
                    state=JobState.DEAD,
                    finished_at=now,
                    updated_at=now,
                    lease_token=None,
                    last_error=error,
                )
                continue
            if job.serial_key is not None and self._busy(job, now):
                continue
            taken = self._put(
                job,
                state=JobState.RUNNING,
                lease_token=uuid.uuid4().hex,
                leased_until=now + timedelta(seconds=seconds),
                attempts=job.attempts + 1,
                updated_at=now,
            )
            leased.append(taken)
        return leased

    def lease_job(self, job_id: int, *, now: datetime, seconds: float) -> Job | None:
        job = self._t.jobs.get(job_id)
        if job is None or job.state is not JobState.PENDING:
            return None
        if job.serial_key is not None and self._busy(job, now):
            return None
        return self._put(
            job,
            state=JobState.RUNNING,
            lease_token=uuid.uuid4().hex,
            leased_until=now + timedelta(seconds=seconds),
            attempts=job.attempts + 1,
            updated_at=now,
        )

    def _due(self, now: datetime) -> list[Job]:
        due = [
            j
            for j in self._t.jobs.values()
            if (j.state is JobState.PENDING and j.run_at <= now)
            or (j.state is JobState.RUNNING and j.leased_until is not None and j.leased_until < now)
        ]
        return sorted(due, key=lambda j: (j.run_at, j.id))

    def _busy(self, job: Job, now: datetime) -> bool:
        """A twin of its serial key runs under a live lease (including one leased just now)."""
        return any(
            j.id != job.id
            and j.serial_key == job.serial_key
            and j.state is JobState.RUNNING
            and j.leased_until is not None
            and j.leased_until >= now
            for j in self._t.jobs.values()
        )

    def extend(self, job_id: int, token: str, *, until: datetime) -> None:
        self._guarded(job_id, token, leased_until=until)

    def finish(self, job_id: int, token: str, *, now: datetime) -> None:
        self._guarded(job_id, token, state=JobState.DONE, finished_at=now, updated_at=now, lease_token=None)

    def retry(
        self, job_id: int, token: str, *, now: datetime, run_at: datetime, error: str, refund: bool = False
    ) -> None:
        job = self._held(job_id, token)
        self._put(
            job,
            state=JobState.PENDING,
            run_at=run_at,
            last_error=error[:_ERROR_LIMIT],
            updated_at=now,
            lease_token=None,
            leased_until=None,
            attempts=job.attempts - 1 if refund else job.attempts,
        )

    def reschedule(
        self, job_id: int, token: str, *, now: datetime, run_at: datetime, payload: dict[str, Any]
    ) -> None:
        self._guarded(
            job_id,
            token,
            state=JobState.PENDING,
            run_at=run_at,
            payload=dict(payload),
            attempts=0,
            last_error=None,
            updated_at=now,
            lease_token=None,
            leased_until=None,
        )

    def bury(self, job_id: int, token: str, *, now: datetime, error: str) -> None:
        self._guarded(
            job_id,
            token,
            state=JobState.DEAD,
            last_error=error[:_ERROR_LIMIT],
            finished_at=now,
            updated_at=now,
            lease_token=None,
        )

    def revive(self, job_id: int, *, now: datetime) -> bool:
        job = self._t.jobs.get(job_id)
        if job is None or job.state is not JobState.DEAD:
            return False
        self._put(job, state=JobState.PENDING, attempts=0, run_at=now, updated_at=now, finished_at=None)
        return True

    def park(self, job_id: int, token: str, *, now: datetime, error: str) -> None:
        job = self._held(job_id, token)
        self._put(
            job,
            state=JobState.PARKED,
            last_error=error[:_ERROR_LIMIT],
            updated_at=now,
            lease_token=None,
            leased_until=None,
            attempts=job.attempts - 1,
        )

    def release(self, destination: str, *, now: datetime, limit: int | None = None) -> list[int]:
        waiting = sorted(
            j.id for j in self._t.jobs.values() if j.destination == destination and j.state is JobState.PARKED
        )[:limit]
        for job_id in waiting:
            self._put(self._t.jobs[job_id], state=JobState.PENDING, run_at=now, updated_at=now)
        return waiting

    def parked(self) -> dict[str, tuple[int, datetime]]:
        out: dict[str, tuple[int, datetime]] = {}
        for job in self._t.jobs.values():
            if job.state is JobState.PARKED and job.destination is not None:
                count, oldest = out.get(job.destination, (0, job.created_at))
                out[job.destination] = (count + 1, min(oldest, job.created_at))
        return out

    def _held(self, job_id: int, token: str) -> Job:
        job = self._t.jobs.get(job_id)
        if job is None or job.lease_token != token:
            raise LeaseLost(f"job {job_id}: lease lost")
        return job

    def _guarded(self, job_id: int, token: str, **values: Any) -> None:
        self._put(self._held(job_id, token), **values)

    def _put(self, job: Job, **values: Any) -> Job:
        changed = replace(job, **values)
        self._t.jobs[job.id] = changed
        return changed
