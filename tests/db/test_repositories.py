"""Deploy repository on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import timedelta

import pytest

from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.domain.deploys import (
    Change,
    Changeset,
    DeployEvent,
    DeployPerson,
    DeployStatus,
    PersonRef,
    Role,
)
from shepherd.domain.errors import DuplicateKey
from tests.support import FakeClock
from tests.support.databases import new_deploy


def test_add_get_save_roundtrip(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    with uow_factory() as uow:
        deploy = uow.deploys.add(new_deploy(clock, idempotency_key="k1", attribution_notes=["n"]))
        uow.commit()
    assert deploy.id is not None
    with uow_factory() as uow:
        loaded = uow.deploys.get(deploy.id)
        assert loaded == deploy
        assert loaded.started_at.tzinfo is not None
        uow.deploys.save(replace(loaded, status=DeployStatus.SUCCEEDED, percent=100))
        uow.commit()
    with uow_factory() as uow:
        again = uow.deploys.get(deploy.id, for_update=True)
        assert again is not None and again.status is DeployStatus.SUCCEEDED and again.percent == 100
        assert uow.deploys.by_idempotency_key("k1") == again


class Halfway(Exception):
    pass


def test_work_left_by_an_exception_is_rolled_back(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    with pytest.raises(Halfway), uow_factory() as uow:
        uow.deploys.add(new_deploy(clock))
        raise Halfway
    with uow_factory() as uow:
        assert uow.deploys.query() == []


def test_leaving_the_block_normally_commits(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    with uow_factory() as uow:
        uow.deploys.add(new_deploy(clock))
    with uow_factory() as uow:
        assert len(uow.deploys.query()) == 1


def test_duplicate_idempotency_key(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    with uow_factory() as uow:
        uow.deploys.add(new_deploy(clock, idempotency_key="same"))
        uow.commit()
    with pytest.raises(DuplicateKey), uow_factory() as uow:
        uow.deploys.add(new_deploy(clock, idempotency_key="same"))


def test_query_filters_and_cursor(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    with uow_factory() as uow:
        for i in range(5):
            status = DeployStatus.SUCCEEDED if i % 2 else DeployStatus.FAILED
            uow.deploys.add(new_deploy(clock, service="api" if i < 3 else "web", status=status))
        uow.commit()
    with uow_factory() as uow:
        assert [d.id for d in uow.deploys.query()] == [5, 4, 3, 2, 1]
        assert [d.id for d in uow.deploys.query(service="web")] == [5, 4]
        assert [d.id for d in uow.deploys.query(status="succeeded")] == [4, 2]
        assert [d.id for d in uow.deploys.query(limit=2, before_id=4)] == [3, 2]
        assert uow.deploys.query(environment="staging") == []


def test_last_succeeded_ignores_later_and_other_environments(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    with uow_factory() as uow:
        old = uow.deploys.add(new_deploy(clock, sha="1" * 40, status=DeployStatus.SUCCEEDED))
        uow.deploys.add(new_deploy(clock, sha="2" * 40, status=DeployStatus.FAILED))
        uow.deploys.add(new_deploy(clock, sha="3" * 40, environment="staging", status=DeployStatus.SUCCEEDED))
        clock.advance(60)
        current = uow.deploys.add(new_deploy(clock, sha="4" * 40, started_at=clock()))
        clock.advance(60)
        uow.deploys.add(new_deploy(clock, sha="5" * 40, status=DeployStatus.SUCCEEDED, started_at=clock()))
        uow.commit()
    with uow_factory() as uow:
        found = uow.deploys.last_succeeded(service="api", environment="production", before=current)
        assert found is not None and found.id == old.id


def test_events_and_changeset(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    ana = PersonRef(name="Ana", email="ana@example.com", person="Ana")
    change = Change(
        sha="c" * 40,
        subject="s",
        author=ana,
        coauthors=(),
        authored_at=clock(),
        committed_at=clock(),
        files=("a.py",),
        pr_number=3,
        merger=ana,
        path_rules=("payments",),
    )
    person = DeployPerson(ref=ana, roles={Role.AUTHOR, Role.MERGER}, change_shas=["c" * 40], merged_prs={3})
    changeset = Changeset(
        base_sha=None,
        head_sha="c" * 40,
        changes=(change,),
        total_commits=1,
        total_changes=1,
        people=(person,),
    )
    with uow_factory() as uow:
        deploy = uow.deploys.add(new_deploy(clock))
        assert deploy.id is not None
        event = DeployEvent(
            deploy_id=deploy.id,
            status=DeployStatus.PROGRESSING,
            percent=10,
            source="api",
            occurred_at=clock(),
            received_at=clock() + timedelta(seconds=1),
            applied=True,
            idempotency_key="e1",
        )
        uow.deploys.add_event(event)
        uow.deploys.store_changeset(deploy.id, changeset)
        uow.deploys.store_changeset(deploy.id, changeset)  # a retried job writes the same again
        uow.commit()
    with uow_factory() as uow:
        assert uow.deploys.changes(deploy.id) == [change]
        assert uow.deploys.people(deploy.id) == [person]
        events = uow.deploys.events(deploy.id)
        assert [(e.status, e.percent) for e in events] == [(DeployStatus.PROGRESSING, 10)]
        assert uow.deploys.event_by_key("e1") == events[0]
