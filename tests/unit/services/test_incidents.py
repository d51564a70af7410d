"""Incidents: one open per deploy, resolved only once nothing fires and the deploy no longer fails."""

from __future__ import annotations

from datetime import timedelta

from shepherd.domain.alerts import Incident, IncidentState, Page, PageState
from shepherd.domain.deploys import Deploy, DeployStatus
from shepherd.domain.jobs import JobKind
from shepherd.domain.watch import Verdict, Watch
from shepherd.services.incidents import open_incident, resolve, resolve_if_settled
from tests.support.builders import Store


def opened(store: Store, deploy: Deploy, trigger: str = "page") -> Incident:
    with store.uow_factory() as uow:
        return open_incident(uow, deploy=deploy, trigger=trigger, title="errors", now=store.clock())


def page(store: Store, incident: Incident, state: PageState = PageState.OPEN) -> None:
    now = store.clock()
    with store.uow_factory() as uow:
        uow.alerts.add_page(
            Page(incident.deploy_id, "checkout", now, now + timedelta(minutes=30), "fp", "critical", [], 0.9)
        )
        (added,) = uow.alerts.pages_for_deploy(incident.deploy_id)
        added.state, added.incident_id = state, incident.id
        uow.alerts.save_page(added)


def settle(store: Store, deploy_id: int) -> Incident | None:
    with store.uow_factory() as uow:
        return resolve_if_settled(uow, deploy_id=deploy_id, now=store.clock())


def failed_watch(store: Store, deploy: Deploy) -> None:
    assert deploy.id is not None
    with store.uow_factory() as uow:
        uow.watches.save(Watch(deploy.id, deploy.started_at, deploy.started_at, 60, verdict=Verdict.FAIL))


def test_a_page_and_a_failed_verdict_share_the_deploys_open_incident() -> None:
    store = Store()
    deploy = store.deploy()
    first = opened(store, deploy)
    assert opened(store, deploy, "verdict").id == first.id
    assert len(store.uow_factory.tables.incidents) == 1
    assert deploy.id is not None
    assert store.timeline(deploy.id, "incident") == [f"incident #{first.id} opened: errors"]


def test_an_open_page_keeps_the_incident_open_and_a_resolved_one_lets_it_go() -> None:
    store = Store()
    deploy = store.deploy()
    assert deploy.id is not None
    incident = opened(store, deploy)
    page(store, incident)
    assert settle(store, deploy.id) is None
    (only,) = store.uow_factory.tables.pages.values()
    only.state = PageState.RESOLVED
    resolved = settle(store, deploy.id)
    assert resolved is not None and resolved.resolution == "every alert resolved"
    assert store.uow_factory.tables.incidents[resolved.id or 0].state is IncidentState.RESOLVED
    assert [j.payload for j in store.jobs(JobKind.SYNC_MESSAGES)] == [{"deploy_id": deploy.id}]


def test_a_failed_verdict_keeps_it_open_until_the_deploy_is_rolled_back() -> None:
    store = Store()
    deploy = store.deploy()
    assert deploy.id is not None
    opened(store, deploy, "verdict")
    failed_watch(store, deploy)
    assert settle(store, deploy.id) is None
    store.uow_factory.tables.deploys[deploy.id].status = DeployStatus.ROLLED_BACK
    resolved = settle(store, deploy.id)
    assert resolved is not None and resolved.resolution == "the deploy was rolled back"


def test_resolving_twice_changes_nothing_the_second_time() -> None:
    store = Store()
    deploy = store.deploy()
    assert deploy.id is not None
    incident = opened(store, deploy)
    with store.uow_factory() as uow:
        resolve(uow, incident=incident, now=store.clock(), resolution="fixed")
    store.clock.advance(60)
    with store.uow_factory() as uow:
        again = resolve(uow, incident=incident, now=store.clock(), resolution="again")
    assert (again.resolution, again.resolved_at) == ("fixed", store.clock() - timedelta(seconds=60))
    assert len(store.timeline(deploy.id, "resolved")) == 1
    assert settle(store, deploy.id) is None  # no open incident left
