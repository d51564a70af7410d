"""The jobs table: enqueue inside the caller's transaction; lease and settle in the worker's.

Leasing uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so workers never wait on each other;
SQLite transactions are already serialized (BEGIN IMMEDIATE), so a plain select is enough.
Every settle is guarded by the lease token: a worker whose lease expired changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from shepherd.adapters.db.tables import JobRow
from shepherd.domain.jobs import Job, JobState, LeaseLost, NewJob

_ERROR_LIMIT = 4000


class SqlJobQueue:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.enqueued = 0  # the unit of work wakes the worker after commit when > 0

    def enqueue(self, job: NewJob, *, now: datetime) -> int | None:
        """Add a job; None when its dedupe key is taken or a pending twin absorbs it (coalesce)."""
        run_at = job.run_at or now
        if job.coalesce and job.serial_key and self._pending_twin(job, run_at):
            return None
        values: dict[str, Any] = {
            "kind": job.kind,
            "payload": job.payload,
            "dedupe_key": job.dedupe_key,
            "state": JobState.PENDING.value,
            "attempts": 0,
            "max_attempts": job.max_attempts,
            "run_at": run_at,
            "deploy_id": job.deploy_id,
            "serial_key": job.serial_key,
            "created_at": now,
            "updated_at": now,
        }
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(JobRow).values(**values).on_conflict_do_nothing().returning(JobRow.id)
        job_id = self._session.execute(statement).scalar_one_or_none()
        if job_id is not None:
            self.enqueued += 1
        return job_id

    def _pending_twin(self, job: NewJob, run_at: datetime) -> bool:
        """A pending job of the same kind and key that will run no later: it will see our state too."""
        twin = select(JobRow.id).where(
            JobRow.kind == job.kind,
            JobRow.serial_key == job.serial_key,
            JobRow.state == JobState.PENDING.value,
            JobRow.run_at <= run_at,
        )
        return self._session.execute(twin.limit(1)).first() is not None

    def query(self, *, state: str | None = None, deploy_id: int | None = None, limit: int = 100) -> list[Job]:
        query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
        if state:
            query = query.where(JobRow.state == state)
        if deploy_id is not None:
            query = query.where(JobRow.deploy_id == deploy_id)
        return [_job(row) for row in self._session.scalars(query)]

    def counts(self) -> dict[str, int]:
        rows = self._session.execute(select(JobRow.state, func.count()).group_by(JobRow.state))
        return {state: count for state, count in rows}

    def next_run_at(self) -> datetime | None:
        query = select(func.min(JobRow.run_at)).where(JobRow.state == JobState.PENDING.value)
        return self._session.execute(query).scalar_one_or_none()

    # -- worker side -------------------------------------------------------------------

    def lease(self, *, now: datetime, seconds: float, limit: int = 1) -> list[Job]:
        """Take due jobs: pending ones whose time has come, and running ones whose lease ran out.

        Jobs sharing a serial key (e.g. all Slack work of one deploy) never run at the same time.
        """
        due = or_(
            (JobRow.state == JobState.PENDING.value) & (JobRow.run_at <= now),
            (JobRow.state == JobState.RUNNING.value) & (JobRow.leased_until < now),
        )
        free = or_(JobRow.serial_key.is_(None), ~_busy_key(JobRow.serial_key, now, exclude=JobRow.id))
        query = select(JobRow).where(due, free).order_by(JobRow.run_at, JobRow.id).limit(limit * 4)
        postgres = self._session.get_bind().dialect.name == "postgresql"
        if postgres:
            query = query.with_for_update(skip_locked=True, of=JobRow)
        leased: list[Job] = []
        keys: set[str] = set()
        for row in self._session.scalars(query).all():
            if len(leased) == limit:
                break
            if row.state == JobState.RUNNING.value and row.attempts >= row.max_attempts:
                # Its worker died (or hung) on every attempt: stop feeding it workers.
                row.state, row.finished_at, row.updated_at = JobState.DEAD.value, now, now
                row.last_error = f"the worker running it stopped responding {row.attempts} times"
                row.lease_token = None
                continue
            if row.serial_key is not None:
                if row.serial_key in keys or (postgres and not self._key_still_free(row, now)):
                    continue
                keys.add(row.serial_key)
            row.state = JobState.RUNNING.value
            row.lease_token = uuid.uuid4().hex
            row.leased_until = now + timedelta(seconds=seconds)
            row.attempts += 1
            row.updated_at = now
            leased.append(_job(row))
        self._session.flush()
        return leased

    def _key_still_free(self, row: JobRow, now: datetime) -> bool:
        # Two workers may pick twins of one key at once: the advisory lock makes the second
        # wait for the first to commit, and the fresh statement below then sees its lease.
        self._session.execute(select(func.pg_advisory_xact_lock(func.hashtext(row.serial_key))))
        busy = select(_busy_key(literal(row.serial_key), now, exclude=literal(row.id)))
        return not self._session.execute(busy).scalar_one()

    def extend(self, job_id: int, token: str, *, until: datetime) -> None:
        self._guarded(job_id, token, leased_until=until)

    def finish(self, job_id: int, token: str, *, now: datetime) -> None:
        self._guarded(
            job_id,
            token,
            state=JobState.DONE.value,
            finished_at=now,
            updated_at=now,
            lease_token=None,
        )

    def retry(
        self, job_id: int, token: str, *, now: datetime, run_at: datetime, error: str, refund: bool = False
    ) -> None:
        """Back to pending; `refund` gives the attempt back (the job was told to wait, it did not fail)."""
        extra = {"attempts": JobRow.attempts - 1} if refund else {}
        self._guarded(
            job_id,
            token,
            **extra,
            state=JobState.PENDING.value,
            run_at=run_at,
            last_error=error[:_ERROR_LIMIT],
            updated_at=now,
            lease_token=None,
            leased_until=None,
        )

    def reschedule(
        self, job_id: int, token: str, *, now: datetime, run_at: datetime, payload: dict[str, Any]
    ) -> None:
        """A self-rescheduling job's next run: a fresh set of attempts."""
        self._guarded(
            job_id,
            token,
            state=JobState.PENDING.value,
            run_at=run_at,
            payload=payload,
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
            state=JobState.DEAD.value,
            last_error=error[:_ERROR_LIMIT],
            finished_at=now,
            updated_at=now,
            lease_token=None,
        )

    def revive(self, job_id: int, *, now: datetime) -> bool:
        """A dead job back to pending with fresh attempts (`shepherd jobs retry`)."""
        result = self._session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == JobState.DEAD.value)
            .values(
                state=JobState.PENDING.value,
                attempts=0,
                run_at=now,
                updated_at=now,
                finished_at=None,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def _guarded(self, job_id: int, token: str, **values: Any) -> None:
        result = self._session.execute(
            update(JobRow).where(JobRow.id == job_id, JobRow.lease_token == token).values(**values)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise LeaseLost(f"job {job_id}: lease lost")


def _busy_key(key: Any, now: datetime, *, exclude: Any) -> Any:
    running = aliased(JobRow)
    return (
        select(running.id)
        .where(
            running.serial_key == key,
            running.state == JobState.RUNNING.value,
            running.leased_until >= now,
            running.id != exclude,
        )
        .exists()
    )


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload or {}),
        state=JobState(row.state),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        run_at=row.run_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        dedupe_key=row.dedupe_key,
        lease_token=row.lease_token,
        leased_until=row.leased_until,
        last_error=row.last_error,
        deploy_id=row.deploy_id,
        serial_key=row.serial_key,
        finished_at=row.finished_at,
    )
