"""Alerts find their authors: webhook → suspects → page (Slack DMs, PagerDuty) → resolve, both DBs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from shepherd.domain.jobs import NewJob
from tests.fakes.pagerduty import FakePagerDuty, running_fake_pagerduty
from tests.fakes.slack import TOKEN, FakeSlack, running_fake_slack
from tests.support.alert_world import SECRET, alert_config, pages_to
from tests.support.world import AUTH, World


def am_body(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    """An Alertmanager v4 webhook body, shaped like the recorded one."""
    return {
        "receiver": "shepherd",
        "status": status,
        "alerts": list(alerts),
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]} if alerts else {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRatio"}',
        "truncatedAlerts": 0,
    }


def am_alert(
    fingerprint: str, starts: datetime, *, status: str = "firing", ends: datetime | None = None, **labels: str
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRatio", "service": "checkout", "severity": "critical", **labels},
        "annotations": {
            "summary": "Error ratio above 20% on checkout",
            "runbook_url": "https://runbooks/errors",
        },
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": (ends.isoformat().replace("+00:00", "Z") if ends else "0001-01-01T00:00:00Z"),
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=errors",
        "fingerprint": fingerprint,
    }


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with running_fake_slack() as fake:
        yield fake


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    with running_fake_pagerduty() as fake:
        yield fake


@pytest.fixture
def alert_world(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack, pagerduty: FakePagerDuty
) -> World:
    return make_world(
        alert_config(shop_repo[0]),
        slack_token=TOKEN,
        slack_api_url=slack.url,
        pagerduty_events_url=pagerduty.url,
        alert_webhook_secret=SECRET,
    )


def second_deploy(world: World, *, minutes_before_alert: float = 6) -> int:
    first = int(world.start(world.shas.first)["id"])
    world.event(first, "succeeded")
    world.run_jobs()
    world.clock.advance(3600)
    second = int(world.start(world.shas.second, previous_sha=world.shas.first)["id"])
    world.event(second, "succeeded")
    world.run_jobs()
    world.clock.advance(minutes_before_alert * 60)
    return second


def post(world: World, body: dict[str, Any], path: str = "/webhooks/alertmanager") -> dict[str, Any]:
    response = world.client.post(
        path, content=json.dumps(body), headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_alert_after_a_deploy_pages_its_authors_and_merger_once_and_resolves(
    alert_world: World, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    world = alert_world
    deploy_id = second_deploy(world)
    started = world.clock() - timedelta(minutes=1)
    assert post(world, am_body(am_alert("fp-1", started))) == {
        "ok": True,
        "alerts": 1,
        "changed": 1,
        "unmapped": 0,
    }
    world.run_jobs()
    for user in ("DU01ANA", "DU02BRUNO", "DU03CHEN"):  # authors, co-author and merger of deploy 2
        page = pages_to(slack, user)
        assert len(page) == 1, user
        assert "HighErrorRatio" in page[0].body and "Roll back" in page[0].body
    assert not pages_to(slack, "DU04DORA")  # an owner, not a person of this change
    thread = [
        m for m in slack.posts(slack.channels["#checkout"]) if m.thread_ts and "suspected deploy" in m.text
    ]
    assert len(thread) == 1
    assert "was deployed 5 min before the alert started" in thread[0].body
    incident = pagerduty.open_incident("fp-1")
    assert incident is not None and len(pagerduty.events) == 1
    # Alertmanager repeats itself: nothing new, nobody paged again.
    post(world, am_body(am_alert("fp-1", started)))
    world.run_jobs()
    assert len(pages_to(slack, "DU02BRUNO")) == 1 and len(pagerduty.events) == 1
    world.clock.advance(300)
    ended = world.clock()
    post(world, am_body(am_alert("fp-1", started, status="resolved", ends=ended), status="resolved"))
    world.run_jobs()
    assert pagerduty.open_incident("fp-1") is None
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "resolve"]
    updated = pages_to(slack, "DU02BRUNO")[0]
    assert "Resolved" in updated.body
    detail = world.detail(deploy_id)
    assert detail["status"] == "succeeded"


def test_an_alert_storm_is_one_page_per_suspect_deploy(
    alert_world: World, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    world = alert_world
    second_deploy(world)
    started = world.clock() - timedelta(minutes=1)
    for batch in range(4):
        alerts = [am_alert(f"fp-{batch}-{i}", started, instance=f"10.0.{batch}.{i}") for i in range(50)]
        assert post(world, am_body(*alerts))["changed"] == 50
    world.run_jobs()
    assert len(pages_to(slack, "DU02BRUNO")) == 1
    assert len(pagerduty.events) == 1
    [page] = pages_to(slack, "DU02BRUNO")
    assert "200 of 200 alerts firing" in page.body
    more = [am_alert(f"fp-late-{i}", started, instance=f"10.1.0.{i}") for i in range(50)]
    post(world, am_body(*more))
    world.run_jobs()
    assert "200 of 200 alerts firing" in page.body  # not at once: at most every 30 s
    world.clock.advance(30)
    world.run_jobs()
    assert "250 of 250 alerts firing" in page.body and len(pagerduty.events) == 1
    with world.shepherd.uow_factory() as uow:
        notes = [e for e in uow.watches.timeline(2) if e.kind == "alert"]
        assert len(notes) <= 3  # one line per page and round, not one per alert


def test_no_deploy_in_the_window_pages_nobody(
    alert_world: World, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    world = alert_world
    second_deploy(world, minutes_before_alert=90)
    post(world, am_body(am_alert("fp-late", world.clock())))
    world.run_jobs()
    assert not [m for m in slack.messages if "suspected deploy" in m.text] and not pagerduty.events
    with world.shepherd.uow_factory() as uow:
        [stored] = uow.alerts.recent()
        assert stored.ranking == [] and stored.page_id is None and stored.routed_status == "firing"


def test_an_alert_on_a_dependent_service_suspects_the_dependency(
    alert_world: World, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    world = alert_world
    second_deploy(world)
    post(world, am_body(am_alert("fp-search", world.clock(), service="search")))
    world.run_jobs()
    page = pages_to(slack, "DU02BRUNO")
    assert len(page) == 1 and "search depends on checkout" in page[0].body


def test_auth_path_secret_and_bad_payloads(alert_world: World) -> None:
    world = alert_world
    body = json.dumps(am_body(am_alert("fp-x", world.clock())))
    assert world.client.post("/webhooks/alertmanager", content=body).status_code == 401
    wrong = world.client.post(
        "/webhooks/alertmanager", content=body, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401 and "does not match" in wrong.json()["error"]["message"]
    assert world.client.post("/webhooks/alertmanager", content=body, headers=AUTH).status_code == 200
    assert world.client.post(f"/webhooks/datadog/{SECRET}x", content=body).status_code == 401
    truncated = world.client.post(
        "/webhooks/alertmanager",
        content=body[: len(body) // 2],
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert truncated.status_code == 422
    assert truncated.json()["error"]["message"].startswith("alertmanager webhook: ")
    with world.shepherd.uow_factory() as uow:
        assert [a.alert.fingerprint for a in uow.alerts.recent()] == ["fp-x"]


def test_a_quiet_note_in_the_channel_when_configured_and_no_deploy_explains_it(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    world = make_world(
        alert_config(shop_repo[0], extra="alerts: {quiet_note: true}"),
        slack_token=TOKEN,
        slack_api_url=slack.url,
        alert_webhook_secret=SECRET,
    )
    second_deploy(world, minutes_before_alert=90)
    body = am_body(am_alert("fp-quiet", world.clock()))
    post(world, body)
    world.run_jobs()
    post(world, body)  # redelivered: nothing new
    world.run_jobs()
    notes = [m for m in slack.posts(slack.channels["#checkout"]) if "no recent deploy" in m.body]
    assert len(notes) == 1
    assert "No deploy of checkout in the 1 hour before it, so Shepherd paged nobody." in notes[0].body
    assert not [m for m in slack.messages if "suspected deploy" in m.text]


def test_while_slack_is_down_a_page_below_the_paging_severity_goes_to_pagerduty_too(
    alert_world: World, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    world = alert_world
    second_deploy(world)
    slack.down(503)
    world.clock.advance(60)  # a Slack job meets the outage and opens the circuit
    with world.shepherd.uow_factory() as uow:
        uow.jobs.enqueue(
            NewJob(kind="slack_reply", payload={"url": f"{slack.url}r/1", "text": "hi"}), now=world.clock()
        )
    world.run_jobs()
    started = world.clock() - timedelta(minutes=1)
    post(world, am_body(am_alert("fp-warn", started, severity="warning")))  # Slack only, normally
    world.run_jobs()
    assert [e["event_action"] for e in pagerduty.events] == ["trigger"]
    assert not pages_to(slack, "DU02BRUNO")
    world.clock.advance(5 * 60)
    world.run_jobs()
    slack.up()
    world.clock.advance(10)
    world.run_jobs()
    (late,) = pages_to(slack, "DU02BRUNO")  # and in Slack once it is back, saying so
    assert f"Late: raised at {started + timedelta(minutes=1):%H:%M} UTC" in late.body


def test_with_slack_up_a_warning_page_stays_in_slack(
    alert_world: World, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    world = alert_world
    second_deploy(world)
    post(world, am_body(am_alert("fp-warn", world.clock() - timedelta(minutes=1), severity="warning")))
    world.run_jobs()
    assert len(pages_to(slack, "DU02BRUNO")) == 1 and pagerduty.events == []
    assert "Late" not in pages_to(slack, "DU02BRUNO")[0].body


def test_a_pagerduty_outage_parks_the_page_and_it_goes_out_when_pagerduty_answers(
    alert_world: World, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    world = alert_world
    second_deploy(world)
    pagerduty.fail_next(3, status=503)  # the trigger, then two probes
    post(world, am_body(am_alert("fp-pd", world.clock() - timedelta(minutes=1))))
    world.run_jobs()
    assert not pagerduty.events and len(pages_to(slack, "DU02BRUNO")) == 1  # Slack is fine
    for _ in range(3):
        world.clock.advance(6)
        world.run_jobs()
    assert [e["event_action"] for e in pagerduty.events] == ["trigger"]
    with world.shepherd.uow_factory() as uow:
        (job,) = [j for j in uow.jobs.query(limit=100) if j.kind == "page_pagerduty"]
    assert job.state.value == "done" and job.attempts == 1
