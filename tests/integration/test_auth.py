"""Tokens and secrets that are not ASCII are refused like any wrong one, not with a 500."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.world import World


def test_a_non_ascii_token_is_a_401(make_world: Callable[..., World]) -> None:
    world = make_world(alert_webhook_secret="alert-secret-123")
    wrong = {"Authorization": "Bearer t\u00e9st-token-123".encode()}  # httpx sends str headers as ASCII
    body = {"service": "checkout", "environment": "production", "sha": world.shas.second}
    api = world.client.post("/api/v1/deploys", json=body, headers=wrong)
    assert api.status_code == 401 and api.json()["error"]["code"] == "unauthorized"
    alerts = world.client.post("/webhooks/generic/s\u00e9cret", json={"alerts": []})
    assert alerts.status_code == 401
    assert alerts.json()["error"]["message"].startswith("the secret in the URL does not match")
    flagger = world.client.post("/webhooks/flagger/event?token=t\u00e9st", json={"name": "checkout"})
    assert flagger.status_code == 401
