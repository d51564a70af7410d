"""Slack outages of any length, on a controllable clock: nothing dead, nothing twice, all out soon after.

While Slack is down the deploy's jobs park on the Slack circuit (no attempts spent); a probe
(`auth.test`) asks every few seconds; when it answers, one job goes first and then the rest.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from shepherd.domain.jobs import NewJob
from shepherd.domain.notify import Ack, AckKind
from tests.fakes.slack import TOKEN, FakeSlack
from tests.support.slack_world import deploy, slack_config
from tests.support.world import World

STEP = 10  # seconds of fake time between worker rounds while down: the probe interval at most


def keys(slack: FakeSlack) -> list[str]:
    return [m.args["metadata"]["event_payload"]["key"] for m in slack.messages]


def posts(slack: FakeSlack) -> list[tuple[str, str | None, str]]:
    """Each message as Slack keeps it apart: its channel, its thread, its key."""
    return [(m.channel, m.thread_ts, m.args["metadata"]["event_payload"]["key"]) for m in slack.messages]


def jobs(world: World, state: str | None = None) -> list[Any]:
    with world.shepherd.uow_factory() as uow:
        return list(uow.jobs.query(state=state, limit=10_000))


def ride_out(world: World, seconds: int, step: int = STEP) -> None:
    for _ in range(seconds // step):
        world.clock.advance(step)
        world.run_jobs()


def held(world: World) -> list[Any]:
    """Slack jobs still to run now: parked ones, and pending ones already due."""
    now = world.clock()
    return [
        j
        for j in jobs(world)
        if j.destination == "slack"
        and (j.state.value == "parked" or (j.state.value == "pending" and j.run_at <= now))
    ]


def recover(world: World, slack: FakeSlack) -> float:
    """Slack answers again: fake seconds until nothing for Slack is held (one worker round a second)."""
    slack.up()
    waited = 0.0
    while held(world) and waited < 120:
        world.clock.advance(1)
        waited += 1
        world.run_jobs()
    return waited


@pytest.mark.parametrize(
    ("outage", "step"), [(5 * 60, STEP), (2 * 3600, 60), (8 * 3600, 120)], ids=["5min", "2h", "8h"]
)
def test_an_outage_of_any_length_delays_delivery_and_loses_nothing(
    sworld: World, slack: FakeSlack, outage: int, step: int
) -> None:
    slack.down(503)
    deploy_id = deploy(sworld)
    ride_out(sworld, outage, step)
    calls = Counter(c.method for c in slack.calls)
    assert slack.messages == [] and jobs(sworld, "dead") == []
    # While down, the probe does the asking: each job tried once, then parked.
    assert calls["auth.test"] >= outage // step - 2  # one per worker round: the probe was due
    assert sum(n for method, n in calls.items() if method != "auth.test") <= 4
    assert {j.state.value for j in jobs(sworld) if j.kind == "sync_messages"} == {"parked"}
    waited = recover(sworld, slack)
    assert waited <= 30, (
        f"messages out {waited:g} s after Slack came back",
        [(j.kind, j.state.value, j.last_error) for j in jobs(sworld)],
        len(slack.messages),
        Counter(c.method for c in slack.calls),
    )
    sworld.run_jobs()
    sent = posts(slack)
    assert len(sent) == len(set(sent)), Counter(sent).most_common(3)  # nothing twice
    assert jobs(sworld, "dead") == []
    assert all(j.attempts <= 1 for j in jobs(sworld) if j.kind == "sync_messages")
    assert deploy_id in {j.deploy_id for j in jobs(sworld, "done")}


def test_a_deploy_acked_during_the_outage_gets_no_stale_reminder(sworld: World, slack: FakeSlack) -> None:
    slack.down(500)
    deploy_id = deploy(sworld)
    ride_out(sworld, 3 * 3600, 60)  # reminders and escalation fell due meanwhile
    sworld.event(deploy_id, "succeeded")
    with sworld.shepherd.uow_factory() as uow:  # pressed in a Slack message sent before the outage
        uow.notifications.add_ack(
            Ack(
                deploy_id=deploy_id,
                slack_user="U01ANA",
                name="Ana Lima",
                acked_at=sworld.clock(),
                kind=AckKind.WATCHING,
            )
        )
    recover(sworld, slack)
    sworld.run_jobs()
    sent = keys(slack)
    assert not [k for k in sent if k.startswith(("reminder", "escalation"))], sent
    assert "Live everywhere" in slack.messages[0].body  # the latest state, posted once
    assert not [m for m in slack.messages if m.updates]  # nothing to update: it was current


def test_the_circuit_is_shared_and_probed(sworld: World, slack: FakeSlack) -> None:
    slack.down(503)
    deploy(sworld)
    with sworld.shepherd.uow_factory() as uow:
        circuit = uow.circuits.get("slack")
        parked = uow.jobs.parked()
    assert circuit.state.value == "open" and "503" in (circuit.last_error or "")
    assert parked["slack"][0] >= 1
    before = len(slack.method_calls("auth.test"))
    sworld.clock.advance(4)
    sworld.run_jobs()
    assert len(slack.method_calls("auth.test")) == before  # not due yet
    sworld.clock.advance(2)
    sworld.run_jobs()
    assert len(slack.method_calls("auth.test")) == before + 1


def test_healthz_stays_200_and_says_what_is_down_and_metrics_count_what_waits(
    sworld: World, slack: FakeSlack
) -> None:
    slack.down(503)
    deploy(sworld)
    sworld.clock.advance(90)
    health = sworld.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["down"] == ["slack"]
    slack_health = health.json()["destinations"]["slack"]
    assert slack_health["state"] == "open" and slack_health["parked_jobs"] >= 1
    assert slack_health["oldest_parked_seconds"] >= 90 and "503" in slack_health["last_error"]
    metrics = sworld.client.get("/metrics").text
    assert 'shepherd_destination_up{destination="slack"} 0' in metrics
    assert 'shepherd_destination_state{destination="slack",state="open"} 1' in metrics
    assert 'shepherd_parked_jobs{destination="slack"} ' in metrics and "shepherd_dead_jobs 0" in metrics
    assert 'shepherd_oldest_parked_seconds{destination="slack"} 9' in metrics
    slack.up()
    sworld.clock.advance(10)
    sworld.run_jobs()
    assert sworld.client.get("/healthz").json()["down"] == []
    assert 'shepherd_destination_up{destination="slack"} 1' in sworld.client.get("/metrics").text


def test_a_retry_after_an_outage_never_adopts_another_deploys_message(
    sworld: World, slack: FakeSlack
) -> None:
    deploy(sworld)
    # The next deploy's summary meets a 500: maybe posted, maybe not. Its retry looks in the
    # channel for its key, where the first deploy's summary has the same key ("channel").
    slack.fail_next(1, status=500, method="chat.postMessage")
    second = deploy(sworld, sworld.shas.second, previous_sha=sworld.shas.first, idempotency_key="again")
    sworld.clock.advance(10)
    sworld.run_jobs()
    summaries = [m for m in slack.posts(slack.channels["#checkout"]) if posts_key(m) == "channel"]
    assert [m.args["metadata"]["event_payload"]["deploy_id"] for m in summaries] == [1, second]


def posts_key(message: Any) -> str:
    return str(message.args["metadata"]["event_payload"]["key"])


def test_the_ops_channel_hears_how_long_slack_was_down_and_how_much_was_held(
    make_world: Callable[..., World], slack: FakeSlack, shop_repo: Any
) -> None:
    world = make_world(
        slack_config(shop_repo[0]), slack_token=TOKEN, slack_api_url=slack.url, slack_ops_channel="#ops"
    )
    slack.down(503)
    deploy(world)
    ride_out(world, 40 * 60, 60)
    recover(world, slack)
    world.run_jobs()
    (notice,) = [m for m in slack.posts(slack.channels["#ops"])]
    assert "slack is back after 4" in notice.body  # about 41 minutes
    assert "held" in notice.body and "none was lost" in notice.body
    recover(world, slack)
    assert len(slack.posts(slack.channels["#ops"])) == 1  # once per outage


def test_real_worker_threads_deliver_within_seconds_of_a_short_outage(
    sworld: World, slack: FakeSlack
) -> None:
    """The embedded worker's threads and its probe thread, in real time: Slack down for 3 s."""

    def tick(seconds: float) -> None:  # the world's clock follows real time while we wait
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.05)
            sworld.clock.advance(0.05)

    worker = sworld.shepherd.worker(concurrency=2)
    worker.start()
    try:
        slack.down(503)
        sworld.start(sworld.shas.second, previous_sha=sworld.shas.first)
        tick(3.0)
        assert slack.messages == [] and [j for j in jobs(sworld, "parked") if j.kind == "sync_messages"]
        slack.up()
        back = time.monotonic()
        while len([m for m in slack.messages if m.thread_ts is None]) < 4 and time.monotonic() - back < 20:
            tick(0.1)
        waited = time.monotonic() - back
    finally:
        worker.stop()
    assert len([m for m in slack.messages if m.thread_ts is None]) == 4
    assert waited <= 8, f"{waited:.1f} s after Slack came back"  # a probe every 5 s, then at once
    sent = posts(slack)
    assert len(sent) == len(set(sent))


def test_the_dashboard_says_what_is_down_and_lists_dead_jobs_with_their_reasons(
    sworld: World, slack: FakeSlack
) -> None:
    slack.down(503)
    deploy(sworld)
    with sworld.shepherd.uow_factory() as uow:
        uow.jobs.enqueue(NewJob(kind="no_such_kind"), now=sworld.clock())
    sworld.run_jobs()
    page = sworld.client.get("/").text
    assert "slack is down" in page and "go out as soon as it answers" in page
    assert "Dead jobs: 1" in page and "no handler for job kind" in page
