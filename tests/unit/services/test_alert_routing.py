"""Alerts in, suspects ranked, pages opened, grouped and resolved: the routing rules, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from shepherd.domain.alerts import Alert, AlertStatus, IncidentState, PageState, Severity
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.deploys import DeployStatus
from shepherd.domain.jobs import JobKind
from shepherd.services.alert_routing import BATCH, register_jobs
from shepherd.services.alerts import AlertDeps, receive_alerts
from shepherd.services.jobs import HandlerRegistry
from tests.support.builders import Store, shop_config

CONFIG = shop_config(slack_channel="#checkout")


def alert(fingerprint: str, starts: datetime, *, service: str | None = "checkout", **values: Any) -> Alert:
    base = Alert(
        source="alertmanager",
        fingerprint=fingerprint,
        name="HighErrorRatio",
        status=AlertStatus.FIRING,
        service=service,
        environment="production",
        severity=Severity.CRITICAL,
        starts_at=starts,
        summary="Error ratio above 20% on checkout",
    )
    return replace(base, **values)


def deployed(store: Store, minutes_ago: float) -> int:
    """A finished deploy of checkout to production that started `minutes_ago`."""
    started = store.clock() - timedelta(minutes=minutes_ago)
    deploy = store.deploy(status=DeployStatus.SUCCEEDED, started_at=started)
    assert deploy.id is not None
    return deploy.id


def route(store: Store, *alerts: Alert, config: ShepherdConfig = CONFIG) -> None:
    """The webhook's part, then every routing job until none is due (other jobs stay queued)."""
    if alerts:
        receive_alerts(alerts, uow_factory=store.uow_factory, clock=store.clock)
    registry = HandlerRegistry()
    register_jobs(registry, AlertDeps(config=config, pagerduty=True))
    runner = store.runner(registry)
    while due := [j for j in runner.lease(limit=10) if j.kind == JobKind.ROUTE_ALERTS]:
        for job in due:
            runner.run(job)


def test_the_webhook_stores_what_changed_and_queues_one_routing_job_per_service() -> None:
    store = Store()
    now = store.clock()
    batch = [
        alert("a", now),
        alert("b", now),
        alert("c", now, service="search"),
        alert("x", now, service=None),
    ]
    received = receive_alerts(batch, uow_factory=store.uow_factory, clock=store.clock)
    assert received.as_json() == {"alerts": 4, "changed": 3, "unmapped": 1}
    again = receive_alerts(batch[:1], uow_factory=store.uow_factory, clock=store.clock)  # a redelivery
    assert again.changed == 0
    assert sorted(j.payload["service"] for j in store.jobs(JobKind.ROUTE_ALERTS)) == ["checkout", "search"]


def test_an_alert_after_a_deploy_opens_one_page_and_incident_and_pages_once() -> None:
    store = Store()
    deploy_id = deployed(store, minutes_ago=6)
    route(store, alert("fp-1", store.clock()))
    (page,) = store.uow_factory.tables.pages.values()
    assert (page.deploy_id, page.state, page.dedup_key) == (deploy_id, PageState.OPEN, "fp-1")
    assert page.reasons[0] == f"checkout {'b' * 7} was deployed 6 min before the alert started"
    (incident,) = store.uow_factory.tables.incidents.values()
    assert (incident.id, incident.trigger, incident.title) == (
        page.incident_id,
        "page",
        "HighErrorRatio on checkout",
    )
    (stored,) = store.uow_factory.tables.alerts.values()
    assert (stored.routed_status, stored.page_id, stored.ranking[0]["deploy_id"]) == (
        "firing",
        page.id,
        deploy_id,
    )
    assert [j.payload["action"] for j in store.jobs(JobKind.PAGE_PAGERDUTY)] == ["trigger"]
    assert [j.payload for j in store.jobs(JobKind.SYNC_MESSAGES)] == [{"deploy_id": deploy_id}]
    assert store.timeline(deploy_id, "page") == [f"paged the people of deploy {'b' * 7}: {page.reasons[0]}"]


def test_an_alert_storm_is_one_page_in_rounds_with_one_note_per_page_and_round() -> None:
    store = Store()
    deploy_id = deployed(store, minutes_ago=6)
    route(store, *(alert(f"fp-{i}", store.clock(), labels={"instance": str(i)}) for i in range(BATCH + 50)))
    assert len(store.uow_factory.tables.pages) == 1 and len(store.jobs(JobKind.PAGE_PAGERDUTY)) == 1
    assert all(a.routed_status == "firing" for a in store.uow_factory.tables.alerts.values())
    assert store.timeline(deploy_id, "alert")[1:] == [
        f"{BATCH - 1} alerts joined the page (page #1): HighErrorRatio",  # the first one opened it
        "50 alerts joined the page (page #1): HighErrorRatio",
    ]


def test_a_louder_alert_on_the_page_pages_again_and_a_later_one_after_grouping_opens_another() -> None:
    store = Store()
    deployed(store, minutes_ago=6)
    route(store, alert("warn", store.clock(), severity=Severity.WARNING))
    route(store, alert("crit", store.clock()))
    (page,) = store.uow_factory.tables.pages.values()
    assert (
        page.severity == "critical" and len(store.jobs(JobKind.PAGE_PAGERDUTY)) == 1
    )  # a warning pages no one
    store.clock.advance(31 * 60)  # past the page's 30 minutes of grouping, still within the hour
    route(store, alert("later", store.clock()))
    assert len(store.uow_factory.tables.pages) == 2 and len(store.uow_factory.tables.incidents) == 1


def test_no_deploy_in_the_window_pages_nobody_and_the_channel_may_hear_of_it() -> None:
    store = Store()
    deployed(store, minutes_ago=90)
    route(store, alert("fp-late", store.clock()))
    (stored,) = store.uow_factory.tables.alerts.values()
    assert (stored.ranking, stored.page_id, stored.routed_status) == ([], None, "firing")
    assert store.uow_factory.tables.pages == {} and store.jobs(JobKind.ALERT_NOTE) == []
    quiet = shop_config(slack_channel="#checkout", alerts={"quiet_note": True})
    route(store, alert("fp-quiet", store.clock()), config=quiet)
    route(
        store, alert("fp-quiet", store.clock(), summary="still bad"), config=quiet
    )  # routed before: no note
    assert [j.payload["channel"] for j in store.jobs(JobKind.ALERT_NOTE)] == ["#checkout"]


def test_an_alert_on_a_dependent_service_suspects_the_dependencys_deploy() -> None:
    store = Store()
    deploy_id = deployed(store, minutes_ago=6)
    route(store, alert("fp-search", store.clock(), service="search"))
    (page,) = store.uow_factory.tables.pages.values()
    assert (page.deploy_id, page.service) == (deploy_id, "search")
    assert "(search depends on checkout)" in page.reasons[0]


def test_when_every_alert_of_a_page_resolves_the_page_and_its_incident_resolve() -> None:
    store = Store()
    deploy_id = deployed(store, minutes_ago=6)
    starts = store.clock()
    route(store, alert("a", starts), alert("b", starts))
    store.clock.advance(600)
    route(store, alert("a", starts, status=AlertStatus.RESOLVED, ends_at=store.clock()))
    (page,) = store.uow_factory.tables.pages.values()
    assert page.state is PageState.OPEN  # b still fires
    route(store, alert("b", starts, status=AlertStatus.RESOLVED, ends_at=store.clock()))
    (page,) = store.uow_factory.tables.pages.values()
    (incident,) = store.uow_factory.tables.incidents.values()
    assert (page.state, page.resolved_at) == (PageState.RESOLVED, store.clock())
    assert (incident.state, incident.resolution) == (IncidentState.RESOLVED, "every alert resolved")
    assert [j.payload["action"] for j in store.jobs(JobKind.PAGE_PAGERDUTY)] == ["trigger", "resolve"]
    assert f"page #{page.id}: every alert resolved" in store.timeline(deploy_id, "page")


def test_alerts_of_a_service_no_longer_configured_are_marked_seen_and_page_nobody() -> None:
    store = Store()
    deployed(store, minutes_ago=6)
    route(store, alert("gone", store.clock(), service="billing"))
    (stored,) = store.uow_factory.tables.alerts.values()
    assert stored.routed_status == "firing" and store.uow_factory.tables.pages == {}
