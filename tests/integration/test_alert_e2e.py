"""End to end with the real Prometheus and Alertmanager: a rule fires after a deploy.

Prometheus scrapes the demo app and evaluates an error-ratio rule every second; Alertmanager
posts its v4 webhook to a live Shepherd with a bearer token; the authors and merger of the deploy
get the page (fake Slack), PagerDuty (fake) gets one trigger, and the resolve closes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shepherd.entrypoints.web.app import create_app
from tests.fakes.pagerduty import running_fake_pagerduty
from tests.fakes.slack import TOKEN, running_fake_slack
from tests.integration.alertmanager_harness import alerting_stack, error_ratio_rule, find_alertmanager
from tests.integration.prometheus_harness import DemoMetricsApp, find_prometheus
from tests.support import live_server, need
from tests.support.alert_world import SECRET, alert_config, pages_to
from tests.support.world import World


def wait_for_alert(world: World, status: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with world.shepherd.uow_factory() as uow:
            if any(a.alert.status.value == status for a in uow.alerts.recent()):
                return
        time.sleep(0.2)
    raise AssertionError(f"no {status} alert reached Shepherd within {timeout:g} s")


def deploy_now(world: World) -> int:
    world.clock.now = datetime.now(UTC)
    first = int(world.start(world.shas.first)["id"])
    world.event(first, "succeeded")
    world.run_jobs()
    world.clock.now = datetime.now(UTC)
    second = int(world.start(world.shas.second, previous_sha=world.shas.first)["id"])
    world.event(second, "succeeded")
    world.run_jobs()
    return second


def test_alertmanager_pages_the_authors_of_the_deploy_and_resolves(
    make_world: Callable[..., World], shop_repo: Any, tmp_path: Path
) -> None:
    need(find_prometheus(), "the prometheus binary (apt-get install prometheus)")
    need(find_alertmanager(), "the alertmanager binary (apt-get install prometheus-alertmanager)")
    rule = error_ratio_rule()
    rule["labels"] = {"service": "checkout", "severity": "critical"}  # the shop app is our checkout
    with running_fake_slack() as slack, running_fake_pagerduty() as pagerduty, DemoMetricsApp() as app:
        world = make_world(
            alert_config(shop_repo[0]),
            slack_token=TOKEN,
            slack_api_url=slack.url,
            pagerduty_events_url=pagerduty.url,
            alert_webhook_secret=SECRET,
        )
        deploy_id = deploy_now(world)
        with (
            live_server(create_app(world.shepherd, embedded_worker=False)) as url,
            alerting_stack(app, url, SECRET, tmp_path, rules=[rule]) as stack,
        ):
            app.set_error_ratio("v1", 1.0)
            wait_for_alert(world, "firing")
            world.clock.now = datetime.now(UTC)
            world.run_jobs()
            for user in ("DU01ANA", "DU02BRUNO", "DU03CHEN"):
                assert len(pages_to(slack, user)) == 1, (user, stack.diagnostics())
            [trigger] = pagerduty.events
            assert trigger["event_action"] == "trigger" and pagerduty.open_incident(trigger["dedup_key"])
            app.set_error_ratio("v1", 0.0)
            wait_for_alert(world, "resolved")
            world.clock.now = datetime.now(UTC)
            world.run_jobs()
        assert [e["event_action"] for e in pagerduty.events] == ["trigger", "resolve"]
        assert pagerduty.open_incident(trigger["dedup_key"]) is None
        assert "Resolved" in pages_to(slack, "DU02BRUNO")[0].body
        with world.shepherd.uow_factory() as uow:
            [incident] = uow.incidents.query(deploy_id=deploy_id)
            assert incident.trigger == "page" and incident.state.value == "resolved"
