"""POST /slack/interactions: signed button presses become acks shown on every message."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.slack import TOKEN, FakeSlack, running_fake_slack
from tests.integration.conftest import World
from tests.integration.test_notifications import ANA, BRUNO, slack_config

SECRET = "slack-signing-secret"


@pytest.fixture
def world_with_secret(make_world: Callable[..., World], demo_repo: Any) -> Any:
    with running_fake_slack() as slack:
        slack.users["bruno@example.com"] = BRUNO
        world = make_world(
            slack_config(demo_repo[0]),
            slack_token=TOKEN,
            slack_api_url=slack.url,
            slack_signing_secret=SECRET,
        )
        yield world, slack


def press(
    world: World,
    action: str,
    deploy_id: int | str,
    user: str,
    *,
    secret: str = SECRET,
    age: float = 0,
    response_url: str | None = None,
) -> Any:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "name": "slackname"},
        "actions": [{"action_id": action, "value": str(deploy_id)}],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time() - age))
    signature = (
        "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return world.client.post("/slack/interactions", content=body, headers=headers)


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
