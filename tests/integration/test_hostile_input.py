"""Hostile requests, as an attacker or a fuzzer sends them: never a 5xx, always the JSON error shape,
nothing written. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.slack_world import SECRET as SLACK_SECRET
from tests.support.world import AUTH, READ, World

GITHUB_SECRET = "github-secret-123"  # tests/conftest.py's make_settings
ALERT_SECRET = "alert-secret-for-paths"
TOO_BIG = str(2**64)
NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def hworld(make_world: Callable[..., World]) -> World:
    return make_world(slack_signing_secret=SLACK_SECRET, alert_webhook_secret=ALERT_SECRET)


def slack_headers(body: bytes, *, stamp: str | None = None, signature: bytes | None = None) -> dict[str, Any]:
    stamp = stamp or str(int(time.time()))
    mac = hmac.new(SLACK_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature or "v0=" + mac.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slack_form(payload: str) -> bytes:
    return urlencode({"payload": payload}).encode()


def github_headers(body: bytes) -> dict[str, str]:
    mac = hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={mac}", "X-GitHub-Event": "deployment_status"}


def written(world: World) -> dict[str, int]:
    with world.shepherd.uow_factory() as uow:
        deploys = uow.deploys.query(limit=1000)
        acks = sum(len(uow.notifications.acks(d.id)) for d in deploys if d.id is not None)
        return {"deploys": len(deploys), "jobs": len(uow.jobs.query(limit=10_000)), "acks": acks}


def refused(response: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    wanted = status if isinstance(status, tuple) else (status,)
    assert response.status_code in wanted, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}, body
    return dict(body["error"])


# (name, method, path, keyword arguments of the client call, expected statuses)
def hostile(slack_value: str) -> list[tuple[str, str, str, dict[str, Any], int | tuple[int, ...]]]:
    deploy = {"service": "checkout", "environment": "production", "sha": "a" * 40}
    slack_press = json.dumps(
        {
            "type": "block_actions",
            "user": {"id": "U1"},
            "actions": [{"action_id": "rollback", "value": slack_value}],
        }
    )
    return [
        (
            "non-ASCII bearer",
            "POST",
            "/api/v1/deploys",
            {"json": deploy, "headers": {"Authorization": "Bearer éé".encode()}},
            401,
        ),
        ("non-ASCII Flagger token", "POST", "/webhooks/flagger/event?token=%C3%A9", {"json": {}}, 401),
        (
            "non-ASCII GitHub signature",
            "POST",
            "/webhooks/github",
            {"content": b"{}", "headers": {"X-Hub-Signature-256": "sha256=é".encode()}},
            401,
        ),
        (
            "non-ASCII Slack signature",
            "POST",
            "/slack/interactions",
            {"content": b"payload=x", "headers": slack_headers(b"payload=x", signature="v0=é".encode())},
            401,
        ),
        ("non-ASCII path secret", "POST", "/webhooks/alertmanager/%C3%A9", {"json": {}}, 401),
        (
            "400-digit Slack timestamp",
            "POST",
            "/slack/interactions",
            {"content": b"payload=x", "headers": slack_headers(b"payload=x", stamp="9" * 400)},
            401,
        ),
        (
            "nested JSON, Flagger gate",
            "POST",
            "/webhooks/flagger/confirm-rollout",
            {"content": NESTED, "headers": READ},
            400,
        ),
        (
            "nested JSON, Flagger event",
            "POST",
            "/webhooks/flagger/event",
            {"content": NESTED, "headers": AUTH},
            400,
        ),
        (
            "nested JSON, GitHub (signed)",
            "POST",
            "/webhooks/github",
            {"content": NESTED, "headers": github_headers(NESTED)},
            400,
        ),
        (
            "nested JSON, Slack payload (signed)",
            "POST",
            "/slack/interactions",
            {"content": slack_form("[" * 50_000), "headers": slack_headers(slack_form("[" * 50_000))},
            (400, 422),
        ),
        (
            "nested JSON, API body",
            "POST",
            "/api/v1/deploys",
            {"content": NESTED, "headers": {**AUTH, "Content-Type": "application/json"}},
            400,
        ),
        ("id beyond 64 bits", "GET", f"/api/v1/deploys/{TOO_BIG}", {}, 422),
        (
            "event on an id beyond 64 bits",
            "POST",
            f"/api/v1/deploys/{TOO_BIG}/events",
            {"json": {"status": "succeeded"}, "headers": AUTH},
            422,
        ),
        ("incident id beyond 64 bits", "GET", f"/api/v1/incidents/{TOO_BIG}", {}, 422),
        ("rollbacks of an id beyond 64 bits", "GET", f"/api/v1/deploys/{TOO_BIG}/rollbacks", {}, 422),
        ("cursor beyond 64 bits", "GET", f"/api/v1/deploys?before={TOO_BIG}", {}, 422),
        ("page of an id beyond 64 bits", "GET", f"/deploys/{TOO_BIG}", {}, 422),
        (
            "Slack button value beyond 64 bits",
            "POST",
            "/slack/interactions",
            {"content": slack_form(slack_press), "headers": slack_headers(slack_form(slack_press))},
            (400, 422),
        ),
        (
            "Slack actions not a list",
            "POST",
            "/slack/interactions",
            {
                "content": slack_form('{"type":"block_actions","user":{"id":"U1"},"actions":5}'),
                "headers": slack_headers(
                    slack_form('{"type":"block_actions","user":{"id":"U1"},"actions":5}')
                ),
            },
            (400, 422),
        ),
        (
            "Slack user id a list",
            "POST",
            "/slack/interactions",
            {
                "content": slack_form(
                    '{"type":"block_actions","user":{"id":["x"]},"actions":[{"action_id":"shepherd_ack","value":"1"}]}'
                ),
                "headers": slack_headers(
                    slack_form(
                        '{"type":"block_actions","user":{"id":["x"]},"actions":[{"action_id":"shepherd_ack","value":"1"}]}'
                    )
                ),
            },
            (400, 422),
        ),
        (
            "percent: true",
            "POST",
            "/api/v1/deploys",
            {"json": {**deploy, "status": "progressing", "percent": True}, "headers": AUTH},
            422,
        ),
        (
            "invalid UTF-8 body",
            "POST",
            "/api/v1/deploys",
            {"content": b'{"service": "\xff\xfe"}', "headers": {**AUTH, "Content-Type": "application/json"}},
            400,
        ),
    ]


@pytest.mark.parametrize("case", range(len(hostile(TOO_BIG))), ids=[c[0] for c in hostile(TOO_BIG)])
def test_hostile_request_is_a_clear_4xx_and_writes_nothing(hworld: World, case: int) -> None:
    name, method, path, kwargs, status = hostile(TOO_BIG)[case]
    before = written(hworld)
    refused(hworld.client.request(method, path, **kwargs), status)
    assert written(hworld) == before, name


def test_an_id_beyond_64_bits_still_gets_the_gate_s_documented_200(hworld: World) -> None:
    response = hworld.client.get(f"/api/v1/deploys/{TOO_BIG}/verdict")
    known_nothing = hworld.client.get("/api/v1/deploys/999999/verdict")
    assert response.status_code == 200 and response.json() == known_nothing.json()


def test_invalid_utf8_and_deep_nesting_say_invalid_json(hworld: World) -> None:
    bad = hworld.client.post(
        "/api/v1/deploys", content=b'{"x": "\xff"}', headers={**AUTH, "Content-Type": "application/json"}
    )
    assert refused(bad, 400)["code"] == "invalid_json"
    deep = hworld.client.post("/webhooks/flagger/confirm-rollout", content=NESTED, headers=READ)
    assert refused(deep, 400)["code"] == "invalid_json"


def test_405_says_which_methods_are_allowed(hworld: World) -> None:
    response = hworld.client.put("/api/v1/deploys")
    assert refused(response, 405)["code"] == "method_not_allowed"
    assert "POST" in response.headers["allow"]
