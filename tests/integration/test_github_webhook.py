"""POST /webhooks/github with the recorded payloads, signed as GitHub signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from shepherd.adapters.config_file import parse_config
from tests.support import payload_path
from tests.support.world import World

SECRET = b"github-secret-123"


def recorded(name: str, **deployment: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(payload_path("github", name).read_text())
    data["deployment"].update(deployment)
    return data


def send(
    world: World,
    event: str,
    data: Any,
    *,
    delivery: str = "d-1",
    secret: bytes = SECRET,
    raw: bytes | None = None,
) -> Any:
    body = raw if raw is not None else json.dumps(data).encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    return world.client.post("/webhooks/github", content=body, headers=headers)


@pytest.fixture
def hello(make_world: Any, shop_repo: Any) -> World:
    repo, _ = shop_repo
    config = parse_config(
        f"""
services:
  - name: hello
    repository: {repo}
    github_repository: Codertocat/Hello-World
    environments: [production, staging]
"""
    )
    return make_world(config)


def deployments(world: World) -> list[Any]:
    with world.shepherd.uow_factory() as uow:
        return uow.deploys.query()


def test_deployment_then_status(hello: World) -> None:
    sha = hello.shas.second
    first = send(hello, "deployment", recorded("deployment.payload.json", sha=sha))
    assert first.status_code == 200 and first.json()["status"] == "started"
    status = recorded("deployment_status.payload.json", sha=sha)
    done = send(hello, "deployment_status", status, delivery="d-2")
    assert done.status_code == 200 and done.json() == {
        "ok": True,
        "deploy_id": first.json()["deploy_id"],
        "status": "succeeded",
    }
    (deploy,) = deployments(hello)
    assert deploy.source == "github" and deploy.deployer == "Codertocat" and deploy.ref == "master"


def test_redelivery_changes_nothing(hello: World) -> None:
    sha = hello.shas.second
    for _ in range(3):
        assert send(hello, "deployment", recorded("deployment.payload.json", sha=sha)).status_code == 200
        assert (
            send(hello, "deployment_status", recorded("deployment_status.payload.json", sha=sha)).status_code
            == 200
        )
    (deploy,) = deployments(hello)
    with hello.shepherd.uow_factory() as uow:
        assert len(uow.deploys.events(deploy.id)) == 2
        assert sorted(j.kind for j in uow.jobs.query()) == ["attribute", "sync_messages", "watch"]


def test_status_before_deployment_creates_the_deploy(hello: World) -> None:
    sha = hello.shas.second
    send(hello, "deployment_status", recorded("deployment_status.payload.json", sha=sha))
    late = send(hello, "deployment", recorded("deployment.payload.json", sha=sha))
    assert late.json()["status"] == "succeeded"
    assert len(deployments(hello)) == 1


def test_inactive_ping_and_other_events(hello: World) -> None:
    status = recorded("deployment_status.payload.json", sha=hello.shas.second)
    status["deployment_status"]["state"] = "inactive"
    assert "ignored" in send(hello, "deployment_status", status).json()
    assert send(hello, "ping", {"zen": "hi"}).json()["event"] == "ping"
    push = json.loads(payload_path("github", "push.payload.json").read_text())
    assert send(hello, "push", push).status_code == 202
    assert deployments(hello) == []


def test_bad_signatures_are_401_and_write_nothing(hello: World) -> None:
    data = recorded("deployment.payload.json", sha=hello.shas.second)
    assert send(hello, "deployment", data, secret=b"wrong-secret").status_code == 401
    body = json.dumps(data).encode()
    unsigned = hello.client.post("/webhooks/github", content=body, headers={"X-GitHub-Event": "deployment"})
    assert unsigned.status_code == 401 and "X-Hub-Signature-256" in unsigned.json()["error"]["message"]
    assert deployments(hello) == []


def test_unmapped_repository_environment_and_malformed_bodies(hello: World) -> None:
    data = recorded("deployment.payload.json", sha=hello.shas.second)
    data["repository"]["full_name"] = "someone/else"
    unknown = send(hello, "deployment", data)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_service"
    pages = recorded("deployment.gh-pages.payload.json", sha=hello.shas.second)
    assert send(hello, "deployment", pages).json()["error"]["code"] == "unknown_environment"
    raw = payload_path("github", "deployment.payload.json").read_bytes()
    truncated = send(hello, "deployment", None, raw=raw[:500])
    assert truncated.status_code == 422 and "not valid JSON" in truncated.json()["error"]["message"]
    assert deployments(hello) == []


def test_monorepo_needs_the_service_in_the_payload(world: World) -> None:
    data = recorded("deployment.payload.json", sha=world.shas.second)
    data["repository"]["full_name"] = "acme/shop"
    data["deployment"]["payload"] = {"service": "checkout"}
    assert send(world, "deployment", data).status_code == 200
    data["deployment"]["payload"] = {"service": "search"}
    assert send(world, "deployment", data).json()["error"]["code"] == "unknown_service"
