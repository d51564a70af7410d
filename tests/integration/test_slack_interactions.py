"""POST /slack/interactions: signed button presses become acks shown on every message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.slack import TOKEN, FakeSlack, running_fake_slack
from tests.support.slack_world import ANA, BRUNO, SECRET, press, slack_config
from tests.support.world import World


@pytest.fixture
def world_with_secret(make_world: Callable[..., World], shop_repo: Any) -> Any:
    with running_fake_slack() as slack:
        slack.users["bruno@example.com"] = BRUNO
        world = make_world(
            slack_config(shop_repo[0]),
            slack_token=TOKEN,
            slack_api_url=slack.url,
            slack_signing_secret=SECRET,
        )
        yield world, slack


def start(world: World) -> int:
    deploy_id = int(world.start(world.shas.second, previous_sha=world.shas.first)["id"])
    world.run_jobs()
    return deploy_id


def test_ack_button_is_recorded_once_and_shown_everywhere(world_with_secret: Any) -> None:
    world, slack = world_with_secret
    deploy_id = start(world)
    first = press(world, "shepherd_ack", deploy_id, ANA)
    assert first.status_code == 200 and first.json()["recorded"] == [True]
    assert press(world, "shepherd_ack", deploy_id, ANA).json()["recorded"] == [False]
    world.run_jobs()
    for message in (m for m in slack.messages if m.thread_ts is None):
        assert "Watching: Ana Lima" in message.body  # the configured name, not Slack's
    assert [a["name"] for a in world.detail(deploy_id)["acks"]] == ["Ana Lima"]


def test_something_wrong_posts_in_the_thread_and_marks_the_deploy(world_with_secret: Any) -> None:
    world, slack = world_with_secret
    deploy_id = start(world)
    press(world, "shepherd_wrong", deploy_id, BRUNO)
    world.run_jobs()
    (reply,) = [m for m in slack.messages if m.thread_ts is not None]
    assert "Bruno Costa says something is wrong with checkout → production" in reply.text
    assert reply.channel == slack.channels["#checkout"]
    detail = world.detail(deploy_id)
    assert detail["suspect"] is True and detail["reports"][0]["name"] == "Bruno Costa"
    assert detail["acks"] == []


@pytest.mark.parametrize(("secret", "age"), [("wrong-secret", 0), (SECRET, 400)])
def test_forged_or_stale_presses_are_refused(world_with_secret: Any, secret: str, age: float) -> None:
    world, _ = world_with_secret
    deploy_id = start(world)
    response = press(world, "shepherd_ack", deploy_id, ANA, secret=secret, age=age)
    assert response.status_code == 401
    assert world.detail(deploy_id)["acks"] == []


def test_unknown_deploy_and_bad_values(world_with_secret: Any) -> None:
    world, _ = world_with_secret
    assert press(world, "shepherd_ack", 999, ANA).status_code == 404
    assert press(world, "shepherd_ack", "abc", ANA).status_code == 422
    unsigned = world.client.post("/slack/interactions", content=b"payload=%7B%7D")
    assert unsigned.status_code == 401


def test_interactions_are_refused_without_a_signing_secret(world: World) -> None:
    response = world.client.post("/slack/interactions", content=b"payload=%7B%7D")
    assert (
        response.status_code == 401 and "SHEPHERD_SLACK_SIGNING_SECRET" in response.json()["error"]["message"]
    )


def test_fake_slack_is_reachable(world_with_secret: Any) -> None:
    _, slack = world_with_secret
    assert isinstance(slack, FakeSlack) and slack.url.startswith("http://127.0.0.1:")
