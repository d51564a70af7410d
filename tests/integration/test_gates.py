"""Gates: the verdict for Argo Rollouts, Flagger's webhooks, and `shepherd gate` for CI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shepherd.domain.watch import Verdict
from shepherd.entrypoints.cli import app
from shepherd.entrypoints.web.app import create_app
from tests.support import live_server
from tests.support.verdicts import set_verdict, start
from tests.support.world import READ, READ_TOKEN, TOKEN, World


def test_verdict_is_always_200_for_argo_rollouts(world: World) -> None:
    deploy_id = start(world)
    fresh = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()
    assert fresh["verdict"] == "running" and fresh["checks"] == []
    set_verdict(world, deploy_id, Verdict.FAIL)
    failed = world.client.get(f"/api/v1/deploys/{deploy_id}/verdict")
    assert failed.status_code == 200
    body = failed.json()
    assert body["verdict"] == "fail" and body["score"] == 0 and body["checks"][0]["outcome"] == "fail"
    unknown = world.client.get("/api/v1/deploys/999/verdict")
    assert unknown.status_code == 200 and unknown.json()["verdict"] == "inconclusive"
    latest = world.client.get("/api/v1/verdict?service=checkout&environment=production").json()
    assert latest["deploy_id"] == deploy_id and latest["verdict"] == "fail"
    series = world.client.get(f"/api/v1/deploys/{deploy_id}/series").json()
    assert series["checks"][0]["candidate"][0][1] == 0.03 and series["checks"][0]["mode"] == "canary"


FLAGGER = {
    "name": "checkout",
    "namespace": "shop",
    "phase": "Progressing",
    "metadata": {"environment": "production"},
}


@pytest.mark.parametrize(
    "hook", ["confirm-rollout", "pre-rollout", "rollout", "confirm-traffic-increase", "confirm-promotion"]
)
def test_flagger_gates_proceed_or_hold_with_a_reason(world: World, hook: str) -> None:
    assert world.client.post(f"/webhooks/flagger/{hook}", json=FLAGGER).status_code == 401  # a read
    world.client.headers.update(READ)
    no_deploy = world.client.post(f"/webhooks/flagger/{hook}", json=FLAGGER)
    assert no_deploy.status_code == 409 and "record it first" in no_deploy.json()["reason"]
    deploy_id = start(world)
    assert world.client.post(f"/webhooks/flagger/{hook}", json=FLAGGER).status_code == 200  # running
    set_verdict(world, deploy_id, Verdict.FAIL)
    held = world.client.post(f"/webhooks/flagger/{hook}", json=FLAGGER)
    assert held.status_code == 409 and held.json()["reason"] == "verdict is fail"


def test_flagger_rollback_and_event_hooks(world: World) -> None:
    deploy_id = start(world)
    world.client.params = {"token": TOKEN}  # Flagger may carry it in the URL instead of a header
    assert world.client.post("/webhooks/flagger/rollback", json=FLAGGER).status_code == 409
    set_verdict(world, deploy_id, Verdict.FAIL)
    assert world.client.post("/webhooks/flagger/rollback", json=FLAGGER).status_code == 200  # roll back now
    event = {
        **FLAGGER,
        "metadata": {**FLAGGER["metadata"], "eventMessage": "Advance checkout.shop canary weight 20"},
    }
    world.client.params = {}
    assert world.client.post("/webhooks/flagger/event", json=event).status_code == 401
    recorded = world.client.post(f"/webhooks/flagger/event?token={TOKEN}", json=event)
    assert recorded.status_code == 200 and recorded.json()["deploy_id"] == deploy_id
    with world.shepherd.uow_factory() as uow:
        (entry,) = uow.watches.timeline(deploy_id)
    assert entry.kind == "flagger" and "weight 20" in entry.text
    world.client.headers.update(READ)
    assert world.client.post("/webhooks/flagger/dance", json=FLAGGER).status_code == 422
    assert world.client.post("/webhooks/flagger/rollout", content=b"{oops").status_code == 422


@pytest.mark.parametrize(
    ("verdict", "finished", "code"),
    [(Verdict.PASS, True, 0), (Verdict.FAIL, False, 1), (Verdict.INCONCLUSIVE, True, 2)],
)
def test_shepherd_gate_exit_codes(world: World, verdict: Verdict, finished: bool, code: int) -> None:
    deploy_id = start(world)
    set_verdict(world, deploy_id, verdict, finished=finished)
    with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
        result = CliRunner().invoke(
            app,
            ["gate", str(deploy_id), "--timeout", "20s", "--poll", "1s"],
            env={"SHEPHERD_URL": url, "SHEPHERD_READ_TOKEN": READ_TOKEN},
        )
    assert result.exit_code == code, result.stderr
    assert f"verdict: {verdict.value}" in result.stderr


def test_shepherd_gate_times_out_while_running_and_passes_early_on_request(world: World) -> None:
    deploy_id = start(world)
    set_verdict(world, deploy_id, Verdict.RUNNING)
    with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
        env = {"SHEPHERD_URL": url, "SHEPHERD_READ_TOKEN": READ_TOKEN}
        waited = CliRunner().invoke(app, ["gate", str(deploy_id), "--timeout", "2s", "--poll", "1s"], env=env)
        assert waited.exit_code == 2 and "timed out" in waited.stderr
        early = CliRunner().invoke(
            app, ["gate", str(deploy_id), "--pass-after", "0s", "--poll", "1s"], env=env
        )
    assert early.exit_code == 0 and "verdict: pass" in early.stderr  # watched long enough, nothing failing
    assert "running" not in early.stderr.split("verdict: pass")[-1].split("—")[0]  # the answer is last
    assert "Shepherd keeps watching" in early.stderr


def test_shepherd_gate_without_a_token_says_so(world: World) -> None:
    deploy_id = start(world)
    with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
        result = CliRunner().invoke(
            app, ["gate", str(deploy_id), "--timeout", "5s"], env={"SHEPHERD_URL": url}
        )
    assert result.exit_code == 1 and "SHEPHERD_READ_TOKEN" in result.stderr


def test_shepherd_gate_on_an_unknown_deploy_ends_with_the_error(world: World) -> None:
    with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
        result = CliRunner().invoke(
            app,
            ["gate", "999", "--timeout", "5s"],
            env={"SHEPHERD_URL": url, "SHEPHERD_READ_TOKEN": READ_TOKEN},
        )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "error: Shepherd knows no deploy 999"
