"""The jobs table: enqueue inside the caller's transaction; lease and settle in the worker's.

Leasing uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so workers never wait on each other;
SQLite transactions are already serialized (BEGIN IMMEDIATE), so a plain select is enough
(SQLite renders no FOR UPDATE). Every settle is guarded by the lease token: a worker whose
lease expired changes nothing.

The worker's statements are Core, built once at import: every watch tick leases and settles
a job, and building an ORM statement (and the ORM's UPDATE bookkeeping) cost several times
what the database does with it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import CursorResult, Executable, Row, Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from shepherd.adapters.db.tables import JobRow
from shepherd.domain.circuits import destination_of
from shepherd.domain.jobs import Job, JobState, LeaseLost, NewJob

_ERROR_LIMIT = 4000
_T: Table = JobRow.__table__  # type: ignore[assignment]
_PENDING, _RUNNING, _PARKED = JobState.PENDING.value, JobState.RUNNING.value, JobState.PARKED.value
_DONE, _DEAD = JobState.DONE.value, JobState.DEAD.value


def _busy_key(key: Any, now: Any, *, exclude: Any) -> Any:
    running = _T.alias("running")
    return (
        select(running.c.id)
        .where(
            running.c.serial_key == key,
            running.c.state == _RUNNING,
            running.c.leased_until >= now,
            running.c.id != exclude,
        )
        .exists()
    )


def _due(state: str, column: Any, *, strict: bool) -> Any:
    """Due jobs in one state, oldest first; one index range each (an OR of both sorted them all)."""
    now = bindparam("now", type_=_T.c.run_at.type)
    free = or_(_T.c.serial_key.is_(None), ~_busy_key(_T.c.serial_key, now, exclude=_T.c.id))
    reached = column < now if strict else column <= now
    columns = (_T.c.id, _T.c.state, _T.c.attempts, _T.c.max_attempts, _T.c.serial_key, _T.c.run_at)
    return (
        select(*columns)  # only what choosing needs: _TAKE returns the rows it takes
        .where(_T.c.state == state, reached, free)
        .order_by(_T.c.run_at, _T.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=_T)
    )


_PENDING_DUE = _due(_PENDING, _T.c.run_at, strict=False)
_LEASE_EXPIRED = _due(_RUNNING, _T.c.leased_until, strict=True)  # its worker died or hung
_TAKE = (  # unless a twin of its key is running: a fresh statement after the key's lock sees it
    update(_T)
    .where(
        _T.c.id == bindparam("job_id"),
        or_(
            _T.c.serial_key.is_(None),
            ~_busy_key(_T.c.serial_key, bindparam("now", type_=_T.c.run_at.type), exclude=_T.c.id),
        ),
    )
    .values(
        state=_RUNNING,
        lease_token=bindparam("token"),
        leased_until=bindparam("until"),
        attempts=_T.c.attempts + 1,
        updated_at=bindparam("now"),
    )
    .returning(*_T.c)
)
_TAKE_PENDING = _TAKE.where(_T.c.state == _PENDING)
_GIVE_UP = (
    update(_T)
    .where(_T.c.id == bindparam("job_id"))
    .values(
        state=_DEAD,
        finished_at=bindparam("now"),
        updated_at=bindparam("now"),
        lease_token=None,
        last_error=bindparam("error"),
    )
)
_PENDING_TWIN = (
    select(_T.c.id)
    .where(
        _T.c.kind == bindparam("kind"),
        _T.c.serial_key == bindparam("key"),
        _T.c.state.in_((_PENDING, _PARKED)),  # a parked twin is released before this would run
        _T.c.run_at <= bindparam("run_at", type_=_T.c.run_at.type),
    )
    .limit(1)
)
_KEY_LOCK = select(func.pg_advisory_xact_lock(func.hashtext(bindparam("key"))))


@cache
def _insert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_T).on_conflict_do_nothing().returning(_T.c.id)


@cache
def _guarded_update(keys: frozenset[str], refund: bool) -> Update:
    """UPDATE … WHERE id and lease token match, setting `keys` from bind parameters `v_<key>`."""
    values: dict[str, Any] = {key: bindparam(f"v_{key}", type_=_T.c[key].type) for key in keys}
    if refund:
        values["attempts"] = _T.c.attempts - 1
    return (
        update(_T)
        .where(_T.c.id == bindparam("job_id"), _T.c.lease_token == bindparam("token"))
        .values(values)
    )


class SqlJobQueue:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.enqueued = 0  # the unit of work wakes the worker after commit when > 0

    def _run(self, statement: Executable, params: dict[str, Any]) -> CursorResult[Any]:
        # Core on the session's connection: same transaction, none of the ORM's overhead.
        return self._session.connection().execute(statement, params)

    def enqueue(self, job: NewJob, *, now: datetime) -> int | None:
        """Add a job; None when its dedupe key is taken or a pending twin absorbs it (coalesce)."""
        run_at = job.run_at or now
        if job.coalesce and job.serial_key and self._pending_twin(job, run_at):
            return None
        values: dict[str, Any] = {
            "kind": job.kind,
            "payload": job.payload,
            "dedupe_key": job.dedupe_key,
            "state": _PENDING,
            "attempts": 0,
            "max_attempts": job.max_attempts,
            "run_at": run_at,
            "deploy_id": job.deploy_id,
            "serial_key": job.serial_key,
            "destination": job.destination or destination_of(job.kind),
            "created_at": now,
            "updated_at": now,
        }
        statement = _insert(self._session.get_bind().dialect.name)
        job_id: int | None = self._run(statement, values).scalar_one_or_none()
        if job_id is not None:
            self.enqueued += 1
        return job_id

    def _pending_twin(self, job: NewJob, run_at: datetime) -> bool:
        """A pending job of the same kind and key that will run no later: it will see our state too."""
        params = {"kind": job.kind, "key": job.serial_key, "run_at": run_at}
        return self._run(_PENDING_TWIN, params).first() is not None

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
        query = select(func.min(JobRow.run_at)).where(JobRow.state == _PENDING)
        return self._session.execute(query).scalar_one_or_none()

    # -- worker side -------------------------------------------------------------------

    def lease(self, *, now: datetime, seconds: float, limit: int = 1) -> list[Job]:
        """Take due jobs: pending ones whose time has come, and running ones whose lease ran out.

        Jobs sharing a serial key (e.g. all Slack work of one deploy) never run at the same time.
        """
        leased: list[Job] = []
        keys: set[str] = set()
        until = now + timedelta(seconds=seconds)
        for row in self._candidates(now, limit * 4):
            if len(leased) == limit:
                break
            if row.state == _RUNNING and row.attempts >= row.max_attempts:
                # Its worker died (or hung) on every attempt: stop feeding it workers.
                error = f"the worker running it stopped responding {row.attempts} times"
                self._run(_GIVE_UP, {"job_id": row.id, "now": now, "error": error})
                continue
            if row.serial_key is not None:
                if row.serial_key in keys:
                    continue
                self._lock_key(row.serial_key)
            params = {"job_id": row.id, "token": uuid.uuid4().hex, "until": until, "now": now}
            taken = self._run(_TAKE, params).first()
            if taken is None:  # a twin of its key was leased meanwhile
                continue
            if taken.serial_key is not None:
                keys.add(taken.serial_key)
            leased.append(_job(taken))
        return leased

    def lease_job(self, job_id: int, *, now: datetime, seconds: float) -> Job | None:
        """Lease one pending job by id, due or not: a command running the jobs it just queued."""
        params = {
            "job_id": job_id,
            "token": uuid.uuid4().hex,
            "until": now + timedelta(seconds=seconds),
            "now": now,
        }
        taken = self._run(_TAKE_PENDING, params).first()
        return _job(taken) if taken is not None else None

    def _candidates(self, now: datetime, limit: int) -> list[Row[Any]]:
        params = {"now": now, "limit": limit}
        rows = [*self._run(_PENDING_DUE, params), *self._run(_LEASE_EXPIRED, params)]
        return sorted(rows, key=lambda row: (row.run_at, row.id))[:limit]

    def _lock_key(self, key: str) -> None:
        # Two workers may pick twins of one key at once: the advisory lock makes the second
        # wait for the first to commit, and its _TAKE (a fresh statement) then sees the lease.
        # SQLite needs none: the transaction holds the write lock, no one else can lease.
        if self._session.get_bind().dialect.name == "postgresql":
            self._run(_KEY_LOCK, {"key": key})

    def extend(self, job_id: int, token: str, *, until: datetime) -> None:
        self._guarded(job_id, token, leased_until=until)

    def finish(self, job_id: int, token: str, *, now: datetime) -> None:
        self._guarded(job_id, token, state=_DONE, finished_at=now, updated_at=now, lease_token=None)

    def retry(
        self, job_id: int, token: str, *, now: datetime, run_at: datetime, error: str, refund: bool = False
    ) -> None:
        """Back to pending; `refund` gives the attempt back (the job was told to wait, it did not fail)."""
        self._guarded_values(
            job_id,
            token,
            {
                "state": _PENDING,
                "run_at": run_at,
                "last_error": error[:_ERROR_LIMIT],
                "updated_at": now,
                "lease_token": None,
                "leased_until": None,
            },
            refund=refund,
        )

    def reschedule(
        self, job_id: int, token: str, *, now: datetime, run_at: datetime, payload: dict[str, Any]
    ) -> None:
        """A self-rescheduling job's next run: a fresh set of attempts."""
        self._guarded(
            job_id,
            token,
            state=_PENDING,
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
            state=_DEAD,
            last_error=error[:_ERROR_LIMIT],
            finished_at=now,
            updated_at=now,
            lease_token=None,
        )

    def park(self, job_id: int, token: str, *, now: datetime, error: str) -> None:
        """Its destination is down: wait for the circuit, and the attempt it just made is given back."""
        values = {
            "state": _PARKED,
            "last_error": error[:_ERROR_LIMIT],
            "updated_at": now,
            "lease_token": None,
            "leased_until": None,
        }
        self._guarded_values(job_id, token, values, refund=True)

    def release(self, destination: str, *, now: datetime, limit: int | None = None) -> list[int]:
        """Parked jobs of a destination due now, oldest first (`limit` 1: the half-open trial)."""
        chosen = (
            select(_T.c.id)
            .where(_T.c.destination == destination, _T.c.state == _PARKED)
            .order_by(_T.c.id)
            .limit(limit)
        )
        ids = [row.id for row in self._run(chosen, {})]
        if ids:
            self._run(
                update(_T).where(_T.c.id.in_(ids)).values(state=_PENDING, run_at=now, updated_at=now), {}
            )
            self.enqueued += len(ids)  # wakes the worker after commit
        return ids

    def parked(self) -> dict[str, tuple[int, datetime]]:
        """Per destination: how many jobs are parked and since when the oldest was created."""
        query = (
            select(_T.c.destination, func.count().label("n"), func.min(_T.c.created_at).label("oldest"))
            .where(_T.c.state == _PARKED)
            .group_by(_T.c.destination)
        )
        return {row.destination: (row.n, row.oldest) for row in self._run(query, {})}

    def revive(self, job_id: int, *, now: datetime) -> bool:
        """A dead job back to pending with fresh attempts (`shepherd jobs retry`)."""
        result = self._session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == _DEAD)
            .values(state=_PENDING, attempts=0, run_at=now, updated_at=now, finished_at=None)
        )
        return bool(getattr(result, "rowcount", 0))

    def _guarded(self, job_id: int, token: str, **values: Any) -> None:
        self._guarded_values(job_id, token, values)

    def _guarded_values(
        self, job_id: int, token: str, values: dict[str, Any], *, refund: bool = False
    ) -> None:
        statement = _guarded_update(frozenset(values), refund)
        params = {"job_id": job_id, "token": token, **{f"v_{k}": v for k, v in values.items()}}
        if self._run(statement, params).rowcount != 1:
            raise LeaseLost(f"job {job_id}: lease lost")


def _job(row: JobRow | Row[Any]) -> Job:
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
        destination=row.destination,
    )
