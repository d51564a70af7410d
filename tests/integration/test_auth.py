"""Tokens and secrets that are not ASCII are refused like any wrong one, not with a 500."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.world import READ, World


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


READS = [
    "/api/v1/deploys",
    "/api/v1/deploys/1",
    "/api/v1/deploys/1/verdict",
    "/api/v1/deploys/1/series",
    "/api/v1/deploys/1/rollbacks",
    "/api/v1/verdict?service=checkout",
    "/api/v1/jobs",
    "/api/v1/incidents",
    "/api/v1/incidents/1",
    "/api/v1/incidents/1/postmortem",
    "/metrics",
]


def test_reads_need_a_token_and_the_read_token_reads_but_never_writes(world: World) -> None:
    world.start(world.shas.second)
    for path in READS:
        anonymous = world.client.get(path, headers={"Authorization": ""})
        assert anonymous.status_code == 401, path
        assert "SHEPHERD_READ_TOKEN" in anonymous.json()["error"]["message"], path
        assert world.client.get(path, headers=READ).status_code in (200, 404), path
    body = {"service": "checkout", "environment": "production", "sha": world.shas.second}
    assert world.client.post("/api/v1/deploys", json=body, headers=READ).status_code == 401
    assert world.client.get("/healthz", headers={"Authorization": ""}).status_code == 200  # stays open


def test_metrics_can_be_public_and_the_api_docs_can_be_off(make_world: Callable[..., World]) -> None:
    world = make_world(metrics_public=True, api_docs=False)
    assert world.client.get("/metrics", headers={"Authorization": ""}).status_code == 200
    assert world.client.get("/openapi.json").status_code == 404
    assert world.client.get("/docs").status_code == 404
