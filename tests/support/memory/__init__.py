"""An in-memory unit of work and repositories, for service tests without a database.

A unit of work works on its own copy of the committed tables. Leaving `with uow:` normally
commits it (so does an explicit `commit()`); leaving by an exception, or `rollback()`,
discards what was not committed. A commit applies only the rows this unit of work changed,
so an inner unit of work that committed meanwhile (a cache write, say) keeps its rows.

    factory = FakeUnitOfWorkFactory()
    record_button(..., uow_factory=factory, clock=clock)
    assert factory.committed
    with factory() as uow:
        assert uow.notifications.acks(deploy_id)
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from tests.support.memory.alerts import FakeAlertRepository, FakeIncidentRepository
from tests.support.memory.circuits import FakeCircuitRepository
from tests.support.memory.delivery import FakeDeliveryRepository
from tests.support.memory.deploys import FakeDeployRepository, FakeNotificationRepository, FakeWatchRepository
from tests.support.memory.jobs import FakeJobQueue
from tests.support.memory.tables import Sequences, Tables, merge

__all__ = [
    "FakeAlertRepository",
    "FakeDeployRepository",
    "FakeIncidentRepository",
    "FakeJobQueue",
    "FakeNotificationRepository",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FakeWatchRepository",
    "Tables",
]


class FakeUnitOfWork:
    deploys: FakeDeployRepository
    jobs: FakeJobQueue
    notifications: FakeNotificationRepository
    watches: FakeWatchRepository
    alerts: FakeAlertRepository
    incidents: FakeIncidentRepository
    circuits: FakeCircuitRepository
    delivery: FakeDeliveryRepository

    def __init__(self, store: Tables, ids: Sequences) -> None:
        self._store, self._ids = store, ids
        self.committed = False  # some commit wrote this unit of work's rows
        self.rolled_back = False  # it ended by an exception (or rollback()) with writes discarded

    def __enter__(self) -> Self:
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def commit(self) -> None:
        merge(self._store, self._base, self._work)
        self.committed = True
        self._begin()  # later writes in the same block start from what is now committed

    def rollback(self) -> None:
        self.rolled_back = True
        self._begin()

    def _begin(self) -> None:
        self._base = self._store.copy()
        self._work = self._base.copy()
        tables, ids = self._work, self._ids
        self.deploys = FakeDeployRepository(tables, ids)
        self.jobs = FakeJobQueue(tables, ids)
        self.notifications = FakeNotificationRepository(tables, ids)
        self.watches = FakeWatchRepository(tables, ids)
        self.alerts = FakeAlertRepository(tables, ids)
        self.incidents = FakeIncidentRepository(tables, ids)
        self.circuits = FakeCircuitRepository(tables)
        self.delivery = FakeDeliveryRepository(tables)


class FakeUnitOfWorkFactory:
    """Makes units of work over one in-memory database; remembers them for assertions."""

    def __init__(self) -> None:
        self.tables = Tables()  # what is committed; read it directly in assertions
        self._ids = Sequences()
        self.made: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.tables, self._ids)
        self.made.append(uow)
        return uow

    @property
    def committed(self) -> bool:
        return any(uow.committed for uow in self.made)


if TYPE_CHECKING:  # mypy holds every fake to the Protocol it stands in for
    from shepherd.services import ports

    _tables, _ids = Tables(), Sequences()
    _deploys: ports.DeployRepository = FakeDeployRepository(_tables, _ids)
    _jobs: ports.JobQueue = FakeJobQueue(_tables, _ids)
    _notifications: ports.NotificationRepository = FakeNotificationRepository(_tables, _ids)
    _watches: ports.WatchRepository = FakeWatchRepository(_tables, _ids)
    _alerts: ports.AlertRepository = FakeAlertRepository(_tables, _ids)
    _incidents: ports.IncidentRepository = FakeIncidentRepository(_tables, _ids)
    _circuits: ports.CircuitRepository = FakeCircuitRepository(_tables)
    _delivery: ports.DeliveryHistory = FakeDeliveryRepository(_tables)
    _uow: ports.UnitOfWork = FakeUnitOfWork(_tables, _ids)
    _factory: ports.UnitOfWorkFactory = FakeUnitOfWorkFactory()
