"""End to end with the real Prometheus: a deploy whose new version errs fails its watch.

The example app switches from good to bad, Prometheus scrapes it every second, the watch
judges every second; the authors get a DM with a chart (fake Slack), and the verdict API
and `shepherd gate` agree.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from typer.testing import CliRunner

from shepherd.adapters.config_file import parse_config
from shepherd.entrypoints.cli import app
from shepherd.entrypoints.web.app import create_app
from tests.fakes.slack import TOKEN, running_fake_slack
from tests.integration.prometheus_harness import DemoMetricsApp, RunningPrometheus
from tests.support import live_server
from tests.support.world import READ_TOKEN, World


def config(repo: Any) -> Any:
    query = (
        'sum(rate(http_requests_total{service="shop",version="{version}",code="500"}[10s]))'
        ' / sum(rate(http_requests_total{service="shop",version="{version}"}[10s]))'
    )
    volume = 'sum(rate(http_requests_total{service="shop",version="{version}"}[10s]))'
    return parse_config(
        f"""
policies: {{watch_minutes: 2, watch_interval_seconds: 1}}
people:
  - {{name: Bruno Costa, emails: [bruno@example.com], slack_user_id: U02BRUNO}}
services:
  - name: checkout
    repository: {repo}
    paths: ["services/checkout/**", "libs/"]
    slack_channel: "#checkout"
    checks:
      - name: error ratio
        query: '{query}'
        weight_query: '{volume}'
        kind: ratio
        tolerance: 0.2
        critical: true
"""
    )


def test_real_prometheus_failing_deploy(
    make_world: Any, shop_repo: Any, demo_metrics_app: DemoMetricsApp, prometheus: RunningPrometheus
) -> None:
    with running_fake_slack() as slack:
        world: World = make_world(
            config(shop_repo[0]), slack_token=TOKEN, slack_api_url=slack.url, prometheus_url=prometheus.url
        )
        world.clock.now = datetime.now(UTC)
        first = int(world.start(world.shas.first, version="v1")["id"])
        world.event(first, "succeeded")
        world.run_jobs()
        demo_metrics_app.set_traffic({"v1": 0.5, "v2": 0.5})
        demo_metrics_app.set_error_ratio("v2", 0.2)  # the new version breaks
        world.clock.now = datetime.now(UTC)
        deploy_id = int(world.start(world.shas.second, version="v2", previous_sha=world.shas.first)["id"])
        verdict = _watch_until_judged(world, deploy_id)
        assert verdict["verdict"] == "fail", verdict
        check = verdict["checks"][0]
        assert check["mode"] == "canary" and check["candidate"] > 0.1 and check["baseline"] < 0.02
        dms = [m for m in slack.dm("U02BRUNO") if "unhealthy" in m.body]
        assert dms and any(u.data.startswith(b"\x89PNG") for u in slack.uploads.values())
        with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
            gate = CliRunner().invoke(
                app,
                ["gate", str(deploy_id), "--timeout", "10s", "--poll", "1s"],
                env={"SHEPHERD_URL": url, "SHEPHERD_READ_TOKEN": READ_TOKEN},
            )
        assert gate.exit_code == 1 and "verdict: fail" in gate.stderr


def _watch_until_judged(world: World, deploy_id: int, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    verdict: dict[str, Any] = {}
    while time.monotonic() < deadline:
        time.sleep(1.0)
        world.clock.now = datetime.now(UTC)  # the watch's time is Prometheus' time here
        world.run_jobs()
        verdict = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
        if verdict["verdict"] in ("fail", "pass", "inconclusive") and verdict["checks"]:
            return verdict
    return verdict
