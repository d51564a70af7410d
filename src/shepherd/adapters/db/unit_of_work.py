"""The SQL unit of work: the one owner of commit.

Leaving `with uow:` normally commits; leaving it by an exception writes nothing. So nobody
else calls commit: a request, a job's transaction or a CLI command that fails halfway leaves
the database as it found it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from shepherd.adapters.db.alerts import SqlAlertRepository
from shepherd.adapters.db.circuits import SqlCircuitRepository
from shepherd.adapters.db.delivery import SqlDeliveryRepository
from shepherd.adapters.db.incidents import SqlIncidentRepository
from shepherd.adapters.db.jobs import SqlJobQueue
from shepherd.adapters.db.notifications import SqlNotificationRepository
from shepherd.adapters.db.repositories import SqlDeployRepository
from shepherd.adapters.db.watches import SqlWatchRepository


class SqlUnitOfWork:
    session: Session
    deploys: SqlDeployRepository
    jobs: SqlJobQueue
    notifications: SqlNotificationRepository
    watches: SqlWatchRepository
    alerts: SqlAlertRepository
    incidents: SqlIncidentRepository
    circuits: SqlCircuitRepository
    delivery: SqlDeliveryRepository

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        on_jobs_committed: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_jobs_committed = on_jobs_committed

    def __enter__(self) -> Self:
        self.session = self._sessions()
        self.deploys = SqlDeployRepository(self.session)
        self.jobs = SqlJobQueue(self.session)
        self.notifications = SqlNotificationRepository(self.session)
        self.watches = SqlWatchRepository(self.session)
        self.alerts = SqlAlertRepository(self.session)
        self.incidents = SqlIncidentRepository(self.session)
        self.circuits = SqlCircuitRepository(self.session)
        self.delivery = SqlDeliveryRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
        finally:
            try:
                self.session.rollback()  # no-op after commit; undoes anything uncommitted
            finally:
                self.session.close()

    def commit(self) -> None:
        """Commit now. Only tests of the repositories call this mid-block; code leaves the block."""
        self.session.commit()
        if self.jobs.enqueued and self._on_jobs_committed is not None:
            self.jobs.enqueued = 0
            self._on_jobs_committed()

    def rollback(self) -> None:
        self.session.rollback()
        self.jobs.enqueued = 0


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._listeners: list[Callable[[], None]] = []

    def on_jobs_committed(self, listener: Callable[[], None]) -> None:
        """Called after a commit that enqueued jobs: wakes the worker in this process."""
        self._listeners.append(listener)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, on_jobs_committed=self._notify)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
