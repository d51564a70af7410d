"""The watch against a fake metrics source and the fake Datadog, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shepherd.adapters.config_file import parse_config
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.jobs import JobKind
from shepherd.domain.watch import MetricsError, Point, Series
from shepherd.services.watch import WatchDeps, run_watch
from tests.fakes.datadog import API_KEY, APP_KEY, FakeDatadog, FakeSeries, running_fake_datadog
from tests.fakes.metrics import FakeMetricsSource, MetricsCall
from tests.fakes.slack import TOKEN, FakeSlack, running_fake_slack
from tests.support.world import World

ERRORS = 'errors{version="{version}"}'
VOLUME = 'requests{version="{version}"}'


def watch_config(
    repo: Path, *, query: str = ERRORS, source: str = "prometheus", checks: bool = True
) -> ShepherdConfig:
    check = (
        f"""
    checks:
      - name: error ratio
        source: {source}
        query: '{query}'
        weight_query: '{VOLUME}'
        kind: ratio
        tolerance: 0.2
        critical: true"""
        if checks
        else ""
    )
    return parse_config(
        f"""
policies: {{watch_minutes: 10, watch_interval_seconds: 60}}
people:
  - {{name: Ana Lima, emails: [ana@example.com], slack_user_id: U01ANA}}
  - {{name: Bruno Costa, emails: [bruno@example.com], slack_user_id: U02BRUNO}}
services:
  - name: checkout
    repository: {repo}
    paths: ["services/checkout/**", "libs/"]
    slack_channel: "#checkout"{check}
"""
    )


def ratio_series(
    bad_version: str, *, bad: float = 0.05, good: float = 0.004
) -> Callable[[MetricsCall], list[Series]]:
    def answer(call: MetricsCall) -> list[Series]:
        version = call.query.split('version="')[1].split('"')[0]
        level = bad if version == bad_version else good
        t, points = call.start.timestamp(), []
        while t <= call.end.timestamp():
            wobble = 1 + 0.3 * math.sin(t / 97.0)
            value = 200.0 * wobble if call.query.startswith("requests") else level * wobble
            points.append(Point(t, value))
            t += call.step_seconds
        return [Series({"version": version}, tuple(points))]

    return answer


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with running_fake_slack() as fake:
        yield fake


def world_with(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack, source: Any, **kw: Any
) -> World:
    world = make_world(watch_config(shop_repo[0], **kw), slack_token=TOKEN, slack_api_url=slack.url)
    # The process's own query pool: a look's queries go out together, as in production.
    assert world.shepherd.queries is not None
    deps = WatchDeps(
        config=world.shepherd.config, sources={"prometheus": source}, queries=world.shepherd.queries
    )
    world.shepherd.runner.handlers[JobKind.WATCH] = lambda ctx: run_watch(ctx, deps)
    return world


def two_deploys(world: World) -> int:
    first = int(world.start(world.shas.first, version="v1")["id"])
    world.event(first, "succeeded")
    world.run_jobs()
    return int(world.start(world.shas.second, version="v2", previous_sha=world.shas.first)["id"])


def watch_for(world: World, minutes: int) -> None:
    for _ in range(minutes):
        world.clock.advance(60)
        world.run_jobs()


def test_a_regressing_version_fails_and_its_authors_get_a_chart(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    source = FakeMetricsSource(default=ratio_series("v2"))
    world = world_with(make_world, shop_repo, slack, source)
    deploy_id = two_deploys(world)
    watch_for(world, 4)
    verdict = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
    assert verdict["verdict"] == "fail" and verdict["checks"][0]["outcome"] == "fail"
    assert verdict["checks"][0]["mode"] == "canary"
    assert "on v2 vs v1" in verdict["checks"][0]["reason"]  # the versions by name
    assert any('version="v1"' in q for q in source.queries())  # the stable version, same window
    alerts = [m for m in slack.messages if "looks unhealthy" in m.text or "unhealthy" in m.body]
    assert {m.channel for m in alerts} >= {"DU02BRUNO", slack.channels["#checkout"]}
    assert slack.uploads and all(u.data.startswith(b"\x89PNG") for u in slack.uploads.values())
    summary = [m for m in slack.posts(slack.channels["#checkout"]) if m.thread_ts is None][-1]
    assert "🔥 Health: failing" in summary.body
    series = world.client.get(f"/api/v1/deploys/{deploy_id}/series").json()
    assert series["checks"][0]["candidate"] and series["checks"][0]["baseline"]
    dashboard = world.client.get("/").text  # the watch's verdict, and the way to the charts
    assert "class='verdict fail'" in dashboard and f"href='/deploys/{deploy_id}/compare'" in dashboard


def test_a_healthy_deploy_passes_at_the_end_of_the_watch(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    world = world_with(make_world, shop_repo, slack, FakeMetricsSource(default=ratio_series("none")))
    deploy_id = two_deploys(world)
    watch_for(world, 5)
    assert world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()["verdict"] == "running"
    watch_for(world, 7)
    verdict = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
    assert verdict["verdict"] == "pass" and verdict["finished"] is True and verdict["score"] == 100
    summary = [m for m in slack.posts(slack.channels["#checkout"]) if m.thread_ts is None][-1]
    assert "💚 Health: all clear after 10 minutes" in summary.body
    assert not [m for m in slack.messages if "unhealthy" in m.body]
    jobs = [j for j in world.detail(deploy_id)["jobs"] if j["kind"] == "watch"]
    assert jobs[0]["state"] == "done"  # it stopped rescheduling itself


def test_a_check_without_data_is_inconclusive_and_authors_hear_why(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    empty = FakeMetricsSource(default=lambda call: [])
    world = world_with(make_world, shop_repo, slack, empty)
    deploy_id = two_deploys(world)
    watch_for(world, 11)
    verdict = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
    assert verdict["verdict"] == "inconclusive" and verdict["checks"][0]["outcome"] == "nodata"
    told = [m for m in slack.messages if "could not judge" in m.body]
    assert told and any("misconfiguration" in m.body for m in told)


def test_a_failing_query_is_inconclusive_with_the_error(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    broken = FakeMetricsSource(default=MetricsError("Prometheus", ERRORS, "bad_data: parse error"))
    world = world_with(make_world, shop_repo, slack, broken)
    deploy_id = two_deploys(world)
    watch_for(world, 3)
    check = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()["checks"][0]
    assert check["outcome"] == "inconclusive" and "parse error" in check["reason"]


def test_daily_cycle_is_not_a_regression_in_before_after_mode(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    day = 86400.0

    def cycle(call: MetricsCall) -> list[Series]:
        points, t = [], call.start.timestamp()
        while t <= call.end.timestamp():
            phase = (t % day) / day  # errors follow the time of day, the same every day
            value = 200.0 if call.query.startswith("requests") else 0.01 + 0.02 * phase
            points.append(Point(t, value))
            t += call.step_seconds
        return [Series({}, tuple(points))]

    world = world_with(make_world, shop_repo, slack, FakeMetricsSource(default=cycle), query="errors")
    world.clock.now = world.clock.now.replace(hour=11)
    deploy_id = two_deploys(world)
    watch_for(world, 11)
    verdict = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
    assert verdict["checks"][0]["mode"] == "before_after"
    assert verdict["verdict"] == "pass", verdict


def test_before_after_without_week_ago_data_still_says_before_and_after(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    """A service too new for a week of history: the reason must not talk of versions it did not split."""
    deploy_at = 0.0  # set once the world (and its clock) exists

    def step_up(call: MetricsCall) -> list[Series]:
        if call.end.timestamp() < deploy_at - 86400:
            return []  # no data a week ago
        points, t = [], call.start.timestamp()
        while t <= call.end.timestamp():
            ratio = 0.05 if t >= deploy_at else 0.004
            points.append(Point(t, 200.0 if call.query.startswith("requests") else ratio))
            t += call.step_seconds
        return [Series({}, tuple(points))]

    world = world_with(make_world, shop_repo, slack, FakeMetricsSource(default=step_up), query="errors")
    deploy_at = world.clock.now.timestamp()
    deploy_id = two_deploys(world)
    watch_for(world, 4)
    check = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()["checks"][0]
    assert check["mode"] == "before_after" and check["outcome"] == "fail", check
    assert "after the deploy vs before" in check["reason"] and "version" not in check["reason"]


def test_without_checks_the_watch_stops_at_once(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    world = world_with(make_world, shop_repo, slack, FakeMetricsSource(), checks=False)
    deploy_id = two_deploys(world)
    world.run_jobs()
    verdict = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
    assert verdict["verdict"] == "inconclusive" and "no checks are configured" in verdict["reason"]
    assert not [m for m in slack.messages if "could not judge" in m.body]


def test_datadog_through_its_documented_api(
    make_world: Callable[..., World], shop_repo: Any, slack: FakeSlack
) -> None:
    with running_fake_datadog() as datadog:
        world = make_world(
            watch_config(shop_repo[0], source="datadog"),
            slack_token=TOKEN,
            slack_api_url=slack.url,
            datadog_api_url=datadog.url,
            datadog_api_key=API_KEY,
            datadog_app_key=APP_KEY,
        )
        start = world.clock().timestamp()
        _feed(datadog, start)
        deploy_id = two_deploys(world)
        watch_for(world, 4)
        verdict = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
    assert verdict["verdict"] == "fail", verdict
    assert all(call.api_key == API_KEY for call in datadog.calls)


def _feed(datadog: FakeDatadog, start: float) -> None:
    times = [start - 600 + 30 * i for i in range(80)]
    for version, level in (("v1", 0.004), ("v2", 0.05)):
        datadog.add(
            ERRORS.replace("{version}", version),
            FakeSeries("errors", [(t, level) for t in times], interval=30),
        )
        datadog.add(
            VOLUME.replace("{version}", version),
            FakeSeries("requests", [(t, 200.0) for t in times], interval=30),
        )
