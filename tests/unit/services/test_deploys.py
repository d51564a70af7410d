"""Recording deploy starts and lifecycle events: idempotency, furthest state, the work enqueued."""

from __future__ import annotations

from typing import Any

import pytest

from shepherd.domain.alerts import Incident
from shepherd.domain.deploys import DeployStatus
from shepherd.domain.jobs import JobKind
from shepherd.services.deploys import ReportDeployEvent, StartDeploy, record_deploy_event, record_deploy_start
from shepherd.services.errors import Conflict, Invalid, NotFound, UnknownEnvironment, UnknownService
from shepherd.services.incidents import open_incident
from tests.support.builders import SHA_1, SHA_2, Store, shop_config

CONFIG = shop_config()


@pytest.fixture
def store() -> Store:
    return Store()


def start(store: Store, **values: Any) -> tuple[int, bool]:
    values = {"service": "checkout", "environment": "production", "sha": SHA_2, **values}
    command = StartDeploy(**values)
    deploy, created = record_deploy_start(
        command, uow_factory=store.uow_factory, config=CONFIG, clock=store.clock
    )
    assert deploy.id is not None
    return deploy.id, created


def event(store: Store, deploy_id: int, status: str, **values: Any) -> tuple[bool, bool]:
    """(whether the deploy moved, whether the event is new)."""
    command = ReportDeployEvent(deploy_id=deploy_id, status=DeployStatus(status), **values)
    _, recorded, created = record_deploy_event(command, uow_factory=store.uow_factory, clock=store.clock)
    return recorded.applied, created


def test_a_start_is_the_deploy_its_started_event_and_its_watch_and_attribution_in_one_commit(
    store: Store,
) -> None:
    deploy_id, created = start(store, previous_sha=SHA_1.upper(), deployer="ci")
    assert created and store.uow_factory.committed
    deploy = store.uow_factory.tables.deploys[deploy_id]
    assert (deploy.status, deploy.previous_sha, deploy.deployer) == (DeployStatus.STARTED, SHA_1, "ci")
    events = list(store.uow_factory.tables.events.values())
    assert [(e.status, e.applied) for e in events] == [(DeployStatus.STARTED, True)]
    assert [j.kind for j in store.jobs()] == [JobKind.WATCH, JobKind.ATTRIBUTE]


def test_an_idempotency_key_gives_the_same_deploy_and_no_new_work(store: Store) -> None:
    first, _ = start(store, idempotency_key="run-7")
    again, created = start(store, idempotency_key="run-7")
    short, _ = start(store, sha=SHA_2[:10], idempotency_key="run-7")  # the same deploy, a short sha
    assert again == short == first and not created
    assert (len(store.uow_factory.tables.deploys), len(store.jobs())) == (1, 2)


def test_a_key_reused_for_another_deploy_is_a_conflict_naming_the_first(store: Store) -> None:
    first, _ = start(store, idempotency_key="run-9")
    with pytest.raises(Conflict) as raised:
        start(store, environment="staging", idempotency_key="run-9")
    assert raised.value.details == {"deploy_id": first}
    with pytest.raises(Conflict):
        start(store, sha=SHA_1, idempotency_key="run-9")
    assert len(store.uow_factory.tables.deploys) == 1


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"service": "nope"}, UnknownService),
        ({"environment": "moon"}, UnknownEnvironment),
        ({"sha": "not-a-sha"}, Invalid),
        ({"previous_sha": "xyz"}, Invalid),
    ],
)
def test_bad_starts_are_refused_and_write_nothing(
    store: Store, values: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        start(store, **values)
    assert store.uow_factory.tables.deploys == {} and store.jobs() == []


def test_events_move_the_deploy_only_further_and_each_applied_one_syncs_the_messages(store: Store) -> None:
    deploy_id, _ = start(store)
    assert event(store, deploy_id, "progressing", percent=10, stage="canary") == (True, True)
    assert event(store, deploy_id, "progressing", percent=50) == (True, True)
    deploy = store.uow_factory.tables.deploys[deploy_id]
    assert (deploy.status, deploy.percent, deploy.stage) == (DeployStatus.PROGRESSING, 50, "canary")
    assert event(store, deploy_id, "succeeded") == (True, True)
    store.clock.advance(60)
    assert event(store, deploy_id, "progressing", percent=70) == (False, True)  # late: kept, not applied
    deploy = store.uow_factory.tables.deploys[deploy_id]
    assert deploy.status is DeployStatus.SUCCEEDED and deploy.finished_at is not None
    events = sorted(store.uow_factory.tables.events.values(), key=lambda e: e.id or 0)
    assert [e.applied for e in events] == [True, True, True, True, False]
    assert len(store.jobs(JobKind.SYNC_MESSAGES)) == 1  # coalesced: one pending sync sees every state


def test_a_repeated_event_key_changes_nothing(store: Store) -> None:
    deploy_id, _ = start(store)
    assert event(store, deploy_id, "succeeded", idempotency_key="done") == (True, True)
    jobs = len(store.jobs())
    assert event(store, deploy_id, "failed", idempotency_key="done") == (True, False)  # the first one
    assert store.uow_factory.tables.deploys[deploy_id].status is DeployStatus.SUCCEEDED
    assert (len(store.uow_factory.tables.events), len(store.jobs())) == (2, jobs)


def test_bad_events_are_refused(store: Store) -> None:
    deploy_id, _ = start(store)
    with pytest.raises(Invalid):
        event(store, deploy_id, "progressing", percent=101)
    with pytest.raises(NotFound):
        event(store, deploy_id + 1, "succeeded")
    assert len(store.uow_factory.tables.events) == 1


def test_a_rollback_event_resolves_the_deploys_incident(store: Store) -> None:
    deploy_id, _ = start(store)
    with store.uow_factory() as uow:
        deploy = uow.deploys.get(deploy_id)
        assert deploy is not None
        incident = open_incident(uow, deploy=deploy, trigger="verdict", title="bad", now=store.clock())
    event(store, deploy_id, "rolled_back")
    assert incident.id is not None
    resolved: Incident = store.uow_factory.tables.incidents[incident.id]
    assert (resolved.state.value, resolved.resolution) == ("resolved", "the deploy was rolled back")
