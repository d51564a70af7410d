"""Rollbacks end to end, on SQLite and PostgreSQL: who may press, runs once, real commands and webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from shepherd.adapters.config_file import parse_config
from shepherd.adapters.rollback_runner import SubprocessRollbackRunner
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.incidents import RollbackResult
from shepherd.domain.jobs import JobKind
from shepherd.entrypoints.cli import app as cli_app
from shepherd.entrypoints.web.app import create_app
from shepherd.services.rollback import (
    NEVER_RAN,
    STOPPED,
    Requester,
    RollbackDeps,
    RollbackRunner,
    request_rollback,
    run_rollback,
)
from tests.fakes.slack import running_fake_slack
from tests.support import live_server, wait_for
from tests.support.git_repo import GitRepo
from tests.support.slack_world import SECRET, press
from tests.support.world import AUTH, TOKEN, World

ANA, DORA, EVE, FINN = "U01ANA", "U04DORA", "U05EVE", "U06FINN"
BRUNO = "U02BRUNO"  # not in config: Shepherd knows his Slack id from users.lookupByEmail


def rollback_config(repo: Path, rollback: dict[str, Any]) -> ShepherdConfig:
    data = {
        "people": [
            {"name": "Ana Lima", "emails": ["ana@example.com"], "slack_user_id": ANA},
            {"name": "Bruno Costa", "emails": ["bruno@example.com"]},
            {"name": "Chen Wei", "emails": ["chen@example.com", "chen.wei@oldmail.example"]},
            {"name": "Dora Owner", "emails": ["dora@example.com"], "slack_user_id": DORA},
            {"name": "Eve Oncall", "emails": ["eve@example.com"], "slack_user_id": EVE},
            {"name": "Finn Stranger", "emails": ["finn@example.com"], "slack_user_id": FINN},
        ],
        "services": [
            {
                "name": "checkout",
                "repository": str(repo),
                "github_repository": "acme/shop",
                "environments": ["staging", "production"],
                "paths": ["services/checkout/**", "libs/"],
                "owners": ["Dora Owner", "ops@example.com"],
                "rollback": {"allowed": ["Eve Oncall"], **rollback},
            },
            {"name": "search", "repository": str(repo), "paths": ["services/search/**"]},
        ],
    }
    return parse_config(yaml.safe_dump(data))


def install(world: World, runner: RollbackRunner | None = None, environ: Mapping[str, str] = {}) -> None:
    """The run_rollback handler as bootstrap wires it, with the real runner unless told."""
    deps = RollbackDeps(
        config=world.shepherd.config,
        runner=runner or SubprocessRollbackRunner(),
        environ=dict(environ),
        public_url=world.shepherd.settings.public_url,
    )
    world.shepherd.runner.handlers[JobKind.RUN_ROLLBACK] = lambda ctx: run_rollback(ctx, deps)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return tmp_path / "runs.log"


@pytest.fixture
def make_rworld(make_world: Callable[..., World], shop_repo: Any) -> Callable[..., World]:
    def make(rollback: dict[str, Any], *, runner: RollbackRunner | None = None, **env: str) -> World:
        world = make_world(rollback_config(shop_repo[0], rollback), slack_signing_secret=SECRET)
        install(world, runner, env)
        with world.shepherd.uow_factory() as uow:
            uow.notifications.cache_slack_user("bruno@example.com", BRUNO, now=world.clock())
            uow.commit()
        return world

    return make


@pytest.fixture
def rworld(make_rworld: Callable[..., World], runs: Path) -> World:
    return make_rworld(
        {"command": f'echo "rolling back {{service}} to {{rollback_sha}}"; echo run >> {runs}'}
    )


def deploy(world: World, sha: str | None = None, **body: Any) -> int:
    body.setdefault("previous_sha", world.shas.first)
    deploy_id = int(world.start(sha or world.shas.second, **body)["id"])
    world.run_jobs()  # attribution: who wrote and merged what
    return deploy_id


def rollbacks(world: World, deploy_id: int) -> list[dict[str, Any]]:
    response = world.client.get(f"/api/v1/deploys/{deploy_id}/rollbacks")
    assert response.status_code == 200, response.text
    return list(response.json()["rollbacks"])


def timeline(world: World, deploy_id: int) -> list[str]:
    with world.shepherd.uow_factory() as uow:
        return [e.text for e in uow.watches.timeline(deploy_id) if e.kind == "rollback"]


def run_count(runs: Path) -> int:
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def rollback_jobs(world: World) -> int:
    with world.shepherd.uow_factory() as uow:
        return sum(1 for j in uow.jobs.query(limit=1000) if j.kind == JobKind.RUN_ROLLBACK)


# Who may press the button


@pytest.mark.parametrize(
    ("user", "why"),
    [
        (ANA, "author, by configured Slack id"),
        (BRUNO, "author, by the email Slack gave for his id"),
        (DORA, "owner of checkout"),
        (EVE, "listed in rollback.allowed"),
    ],
)
def test_authors_owners_and_allowed_people_may_roll_back_from_slack(
    rworld: World, runs: Path, user: str, why: str
) -> None:
    deploy_id = deploy(rworld)
    response = press(rworld, "rollback", deploy_id, user)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True, f"{why}: {body}"
    assert body["created"] is True and body["rollback"]["state"] == "requested"
    assert body["rollback"]["via"] == "slack" and body["rollback"]["target_sha"] == rworld.shas.first
    assert "requested" in body["message"]
    rworld.run_jobs()
    assert run_count(runs) == 1


def test_a_merger_who_wrote_nothing_may_roll_back(rworld: World, runs: Path) -> None:
    # PR #12 by Bruno, merged by Ana: deploying the merge commit makes Ana only its merger.
    merge = GitRepo(rworld.repo).git("rev-parse", f"{rworld.shas.second}~4")
    deploy_id = deploy(rworld, merge)
    roles = {p["person"]: p["roles"] for p in rworld.detail(deploy_id)["people"]}
    assert roles == {"Ana Lima": ["merger"], "Bruno Costa": ["author"]}
    assert press(rworld, "rollback", deploy_id, ANA).json()["ok"] is True


@pytest.mark.parametrize("user", [FINN, "U0NOBODY"])
def test_anyone_else_is_refused_with_who_may(rworld: World, runs: Path, user: str) -> None:
    deploy_id = deploy(rworld)
    response = press(rworld, "rollback", deploy_id, user)
    assert response.status_code == 200  # Slack shows nothing of an error status anyway
    body = response.json()
    assert body["ok"] is False and "rollback" not in body
    assert "may not roll back checkout production" in body["error"]
    assert "Ana Lima" in body["error"] and "Dora Owner" in body["error"] and "Eve Oncall" in body["error"]
    assert f"shepherd rollback {deploy_id}" in body["error"]
    assert rollbacks(rworld, deploy_id) == [] and rollback_jobs(rworld) == 0
    assert any("refused" in t for t in timeline(rworld, deploy_id))
    rworld.run_jobs()
    assert run_count(runs) == 0


def test_the_presser_is_told_in_slack_only_via_slack_hosts(
    make_world: Callable[..., World], shop_repo: Any, runs: Path
) -> None:
    with running_fake_slack() as slack:
        rollback = {"command": f"echo run >> {runs}"}
        world = make_world(
            rollback_config(shop_repo[0], rollback), slack_signing_secret=SECRET, slack_api_url=slack.url
        )
        deploy_id = deploy(world)
        hook = slack.url.replace("/api/", "/actions/T1/42/secret")
        press(world, "rollback", deploy_id, FINN, response_url=hook)
        press(world, "rollback", deploy_id, ANA, response_url=hook)
        press(world, "rollback", deploy_id, ANA, response_url="http://169.254.169.254/actions/x")
        world.run_jobs()
        texts = [body["text"] for _, body in slack.responses]
        assert len(texts) == 2 and all(b["response_type"] == "ephemeral" for _, b in slack.responses)
        assert texts[0].startswith("↩ Not rolled back: Finn Stranger may not roll back checkout production")
        assert texts[1].startswith("↩ Rollback #1 started")
        assert run_count(runs) == 1


def test_api_token_holders_are_trusted_and_named(rworld: World, runs: Path) -> None:
    deploy_id = deploy(rworld)
    path = f"/api/v1/deploys/{deploy_id}/rollback"
    assert rworld.client.post(path, json={}).status_code == 401
    response = rworld.client.post(path, json={"requested_by": "release-bot"}, headers=AUTH)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["created"] is True and body["rollback"]["requested_by"] == "release-bot"
    assert body["rollback"]["via"] == "api"
    again = rworld.client.post(path, headers=AUTH)  # no body at all
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["rollback"]["id"] == body["rollback"]["id"]
    assert "rollback requested by release-bot via api" in timeline(rworld, deploy_id)[0]


def test_no_rollback_configured_or_nothing_to_go_back_to(rworld: World) -> None:
    search = int(rworld.start(rworld.shas.second, service="search", previous_sha=rworld.shas.first)["id"])
    response = rworld.client.post(f"/api/v1/deploys/{search}/rollback", headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "no rollback configured for search: add `rollback:` to shepherd.yaml"
    )
    first = int(rworld.start(rworld.shas.first)["id"])  # the first deploy: nothing before it
    rworld.run_jobs()
    response = rworld.client.post(f"/api/v1/deploys/{first}/rollback", headers=AUTH)
    assert response.status_code == 422 and "nothing to roll back to" in response.json()["error"]["message"]
    slack = press(rworld, "rollback", first, ANA).json()
    assert slack["ok"] is False and "nothing to roll back to" in slack["error"]
    assert rworld.client.post("/api/v1/deploys/999/rollback", headers=AUTH).status_code == 404
    assert rworld.client.get("/api/v1/deploys/999/rollbacks").status_code == 404


# Nothing twice


def test_a_double_click_runs_the_command_once(rworld: World, runs: Path) -> None:
    deploy_id = deploy(rworld)
    first = press(rworld, "rollback", deploy_id, ANA).json()
    second = press(rworld, "rollback", deploy_id, DORA).json()
    assert first["created"] is True and second["created"] is False
    assert second["rollback"]["id"] == first["rollback"]["id"]
    assert "already requested" in second["message"]
    assert len(rollbacks(rworld, deploy_id)) == 1 and rollback_jobs(rworld) == 1
    rworld.run_jobs()
    assert run_count(runs) == 1
    (done,) = rollbacks(rworld, deploy_id)
    assert done["state"] == "succeeded" and done["requested_by"] == "Ana Lima"
    rworld.run_jobs()
    assert run_count(runs) == 1


def test_concurrent_clicks_on_postgresql_make_one_rollback(rworld: World, runs: Path) -> None:
    if rworld.shepherd.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: concurrent requests cannot race there")
    deploy_id = deploy(rworld)
    threads = 8
    barrier = threading.Barrier(threads)
    results: list[tuple[int | None, bool]] = []
    errors: list[BaseException] = []

    def click(user: str) -> None:
        barrier.wait()
        try:
            rollback, created = request_rollback(
                deploy_id=deploy_id,
                requester=Requester(via="slack", name=user, slack_user=user),
                uow_factory=rworld.shepherd.uow_factory,
                config=rworld.shepherd.config,
                clock=rworld.clock,
            )
            results.append((rollback.id, created))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=click, args=([ANA, DORA][i % 2],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert errors == []
    assert sum(created for _, created in results) == 1
    assert len({rollback_id for rollback_id, _ in results}) == 1
    assert len(rollbacks(rworld, deploy_id)) == 1 and rollback_jobs(rworld) == 1
    rworld.run_jobs()
    assert run_count(runs) == 1


class WorkerDied(BaseException):
    """Not an Exception: the job runner cannot catch it, as if the process had been killed."""


@dataclass
class DyingRunner:
    calls: list[str] = field(default_factory=list)

    def run_command(self, command: str, *, env: Mapping[str, str], timeout: float) -> RollbackResult:
        self.calls.append(command)
        raise WorkerDied()

    def call_webhook(
        self, *, method: str, url: str, headers: Mapping[str, str], body: str | None, timeout: float
    ) -> RollbackResult:
        raise AssertionError("not configured")


def test_worker_death_while_running_fails_it_without_running_again(rworld: World, runs: Path) -> None:
    deploy_id = deploy(rworld)
    press(rworld, "rollback", deploy_id, ANA)
    dying = DyingRunner()
    install(rworld, dying)
    with pytest.raises(WorkerDied):
        rworld.run_jobs()
    assert len(dying.calls) == 1 and rollbacks(rworld, deploy_id)[0]["state"] == "running"
    install(rworld)  # a healthy worker, after the dead one's lease ran out
    rworld.clock.advance(rworld.shepherd.settings.job_lease_seconds + 1)
    rworld.run_jobs()
    (rollback,) = rollbacks(rworld, deploy_id)
    assert rollback["state"] == "failed" and rollback["output"] == STOPPED
    assert run_count(runs) == 0  # the real command never ran: nothing twice
    assert any("Shepherd stopped while the rollback ran" in t for t in timeline(rworld, deploy_id))
    # Now a person checks and asks again: a new rollback runs.
    again = press(rworld, "rollback", deploy_id, ANA).json()
    assert again["created"] is True and again["rollback"]["id"] != rollback["id"]
    rworld.run_jobs()
    assert run_count(runs) == 1


def test_a_rollback_whose_job_died_before_it_started_is_replaced_by_the_next_press(
    rworld: World, runs: Path
) -> None:
    deploy_id = deploy(rworld)
    first = press(rworld, "rollback", deploy_id, ANA).json()["rollback"]
    healthy = rworld.shepherd.runner.handlers[JobKind.RUN_ROLLBACK]

    def unreachable(ctx: Any) -> None:
        raise RuntimeError("database unreachable")  # before the job could mark it running

    rworld.shepherd.runner.handlers[JobKind.RUN_ROLLBACK] = unreachable
    for _ in range(30):  # every attempt fails until the job gives up
        rworld.run_jobs()
        rworld.clock.advance(3600)
    with rworld.shepherd.uow_factory() as uow:
        assert [j.state for j in uow.jobs.query(limit=1000) if j.kind == JobKind.RUN_ROLLBACK] == ["dead"]
    assert rollbacks(rworld, deploy_id)[0]["state"] == "requested"
    rworld.shepherd.runner.handlers[JobKind.RUN_ROLLBACK] = healthy
    again = press(rworld, "rollback", deploy_id, ANA).json()
    assert again["created"] is True and again["rollback"]["id"] != first["id"]
    old, new = rollbacks(rworld, deploy_id)
    assert new["state"] == "requested"
    assert old["state"] == "failed" and old["output"] == NEVER_RAN
    assert any("gave up before it started" in t for t in timeline(rworld, deploy_id))
    rworld.run_jobs()
    assert run_count(runs) == 1 and rollbacks(rworld, deploy_id)[1]["state"] == "succeeded"


@dataclass
class BrokenRunner:
    def run_command(self, command: str, *, env: Mapping[str, str], timeout: float) -> RollbackResult:
        raise RuntimeError("runner bug")

    def call_webhook(
        self, *, method: str, url: str, headers: Mapping[str, str], body: str | None, timeout: float
    ) -> RollbackResult:
        raise RuntimeError("runner bug")


def test_a_runner_error_is_recorded_as_a_failed_rollback(make_rworld: Callable[..., World]) -> None:
    world = make_rworld({"command": "true"}, runner=BrokenRunner())
    deploy_id = deploy(world)
    press(world, "rollback", deploy_id, ANA)
    world.run_jobs()
    (rollback,) = rollbacks(world, deploy_id)
    assert rollback["state"] == "failed" and "RuntimeError: runner bug" in rollback["output"]


# Real commands


def test_command_output_is_captured_and_the_deploy_waits_for_its_event(rworld: World, runs: Path) -> None:
    deploy_id = deploy(rworld)
    rworld.event(deploy_id, "succeeded")
    rollback_id = press(rworld, "rollback", deploy_id, ANA).json()["rollback"]["id"]
    rworld.run_jobs()
    (rollback,) = rollbacks(rworld, deploy_id)
    assert rollback["id"] == rollback_id and rollback["state"] == "succeeded"
    assert rollback["exit_code"] == 0 and rollback["started_at"] and rollback["finished_at"]
    assert rollback["output"] == f"rolling back checkout to {rworld.shas.first}\n"
    texts = timeline(rworld, deploy_id)
    assert texts[0].startswith("rollback requested by Ana Lima via slack: checkout production back to")
    assert texts[1].startswith("rollback started: running `echo")
    assert texts[2].startswith("rollback succeeded (exit 0); waiting for the deploy event")
    assert rworld.detail(deploy_id)["status"] == "succeeded"  # not rolled back until the event says so
    rworld.event(deploy_id, "rolled_back", message="rolled back by Shepherd")
    assert rworld.detail(deploy_id)["status"] == "rolled_back"
    assert rollbacks(rworld, deploy_id)[0]["state"] == "succeeded"


def test_the_command_sees_its_deploy_in_the_environment(make_rworld: Callable[..., World]) -> None:
    world = make_rworld(
        {
            "command": "echo $SHEPHERD_DEPLOY_ID $SHEPHERD_SERVICE $SHEPHERD_ENVIRONMENT "
            "$SHEPHERD_ROLLBACK_SHA; echo to-stderr >&2"
        }
    )
    deploy_id = deploy(world)
    press(world, "rollback", deploy_id, ANA)
    world.run_jobs()
    (rollback,) = rollbacks(world, deploy_id)
    assert rollback["output"] == f"{deploy_id} checkout production {world.shas.first}\nto-stderr\n"


def test_a_failing_command_is_a_failed_rollback(make_rworld: Callable[..., World]) -> None:
    world = make_rworld({"command": "echo 'deploy tool: permission denied'; exit 3"})
    deploy_id = deploy(world)
    press(world, "rollback", deploy_id, ANA)
    world.run_jobs()
    (rollback,) = rollbacks(world, deploy_id)
    assert rollback["state"] == "failed" and rollback["exit_code"] == 3
    assert rollback["output"] == "deploy tool: permission denied\n"
    assert timeline(world, deploy_id)[-1] == "rollback failed (exit 3): deploy tool: permission denied"
    assert world.detail(deploy_id)["status"] != "rolled_back"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_command_that_hangs_is_killed_with_its_children(
    make_rworld: Callable[..., World], tmp_path: Path
) -> None:
    pidfile = tmp_path / "sleep.pid"
    world = make_rworld(
        {"command": f"echo started; sleep 60 & echo $! > {pidfile}; wait", "timeout_seconds": 0.5}
    )
    deploy_id = deploy(world)
    press(world, "rollback", deploy_id, ANA)
    began = time.monotonic()
    world.run_jobs()
    assert time.monotonic() - began < 10
    (rollback,) = rollbacks(world, deploy_id)
    assert rollback["state"] == "failed" and rollback["exit_code"] is None
    assert rollback["output"].startswith("started\n") and "timed out after 0.5 s" in rollback["output"]
    assert "timed out after 0.5 s" in timeline(world, deploy_id)[-1]
    child = int(pidfile.read_text())
    wait_for(lambda: not _alive(child), timeout=5)  # the whole process group was stopped


# Webhooks


@dataclass
class Hook:
    url: str
    requests: list[dict[str, Any]]
    status: list[int]


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A tiny local HTTP server standing in for GitHub's workflow_dispatch endpoint."""
    requests: list[dict[str, Any]] = []
    status = [204]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": self.rfile.read(length).decode(),
                }
            )
            self.send_response(status[0])
            text = b"" if status[0] == 204 else b'{"message": "Bad credentials"}'
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Hook(f"http://127.0.0.1:{server.server_address[1]}", requests, status)
    finally:
        server.shutdown()
        server.server_close()


def webhook(url: str) -> dict[str, Any]:
    return {
        "webhook": {
            "url": url + "/repos/acme/shop/actions/workflows/rollback.yml/dispatches",
            "headers": {
                "Authorization": "Bearer env:ROLLBACK_TEST_TOKEN",
                "Accept": "application/vnd.github+json",
            },
            "body": '{"ref": "main", "inputs": {"service": "{service}", "environment": "{environment}", '
            '"sha": "{rollback_sha}", "deploy": "{deploy_id}"}}',
        },
        "timeout_seconds": 10,
    }


def test_webhook_gets_a_templated_json_body_and_the_token_from_the_environment(
    make_rworld: Callable[..., World], hook: Hook
) -> None:
    world = make_rworld(webhook(hook.url), ROLLBACK_TEST_TOKEN="s3cret-token")
    deploy_id = deploy(world)
    press(world, "rollback", deploy_id, ANA)
    world.run_jobs()
    (request,) = hook.requests
    assert request["path"] == "/repos/acme/shop/actions/workflows/rollback.yml/dispatches"
    assert json.loads(request["body"]) == {
        "ref": "main",
        "inputs": {
            "service": "checkout",
            "environment": "production",
            "sha": world.shas.first,
            "deploy": str(deploy_id),
        },
    }
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"] == "Bearer s3cret-token"
    assert headers["content-type"] == "application/json"
    (rollback,) = rollbacks(world, deploy_id)
    assert (
        rollback["state"] == "succeeded" and rollback["exit_code"] == 204 and rollback["action"] == "webhook"
    )
    assert rollback["output"].startswith("HTTP 204")
    texts = timeline(world, deploy_id)
    assert "rollback succeeded (HTTP 204); waiting for the deploy event" in texts[-1]
    assert not any("s3cret" in t for t in texts) and "s3cret" not in rollback["output"]


def test_a_webhook_refusal_is_a_failed_rollback_with_the_response(
    make_rworld: Callable[..., World], hook: Hook
) -> None:
    hook.status[0] = 401
    world = make_rworld(webhook(hook.url), ROLLBACK_TEST_TOKEN="wrong")
    deploy_id = deploy(world)
    press(world, "rollback", deploy_id, ANA)
    world.run_jobs()
    (rollback,) = rollbacks(world, deploy_id)
    assert rollback["state"] == "failed" and rollback["exit_code"] == 401
    assert rollback["output"] == 'HTTP 401 Unauthorized\n{"message": "Bad credentials"}'
    assert timeline(world, deploy_id)[-1] == 'rollback failed (HTTP 401): {"message": "Bad credentials"}'


def test_a_missing_token_fails_before_calling(make_rworld: Callable[..., World], hook: Hook) -> None:
    world = make_rworld(webhook(hook.url))
    deploy_id = deploy(world)
    press(world, "rollback", deploy_id, ANA)
    world.run_jobs()
    (rollback,) = rollbacks(world, deploy_id)
    assert rollback["state"] == "failed"
    assert "header Authorization: environment variable ROLLBACK_TEST_TOKEN is not set" in rollback["output"]
    assert hook.requests == []


# The CLI


def test_cli_asks_first_then_rolls_back_and_waits(rworld: World, runs: Path) -> None:
    deploy_id = deploy(rworld)
    runner = CliRunner()
    with live_server(create_app(rworld.shepherd, embedded_worker=True)) as url:
        env = {"SHEPHERD_URL": url, "SHEPHERD_API_TOKEN": TOKEN, "USER": "ana"}
        no = runner.invoke(cli_app, ["rollback", str(deploy_id)], input="n\n", env=env)
        assert no.exit_code == 1
        assert f"Roll back checkout production to {rworld.shas.first[:7]}? [y/N]" in no.stderr
        assert rollbacks(rworld, deploy_id) == []
        yes = runner.invoke(cli_app, ["rollback", str(deploy_id), "--wait"], input="y\n", env=env)
        assert yes.exit_code == 0, yes.stderr
        assert f"rolling back checkout to {rworld.shas.first}" in yes.stdout
        assert "succeeded" in yes.stderr and "deploy event" in yes.stderr
        (rollback,) = rollbacks(rworld, deploy_id)
        assert rollback["via"] == "cli" and rollback["requested_by"] == "ana"
        assert run_count(runs) == 1
        again = runner.invoke(cli_app, ["rollback", str(deploy_id), "--yes"], env=env)
        assert again.exit_code == 0 and "requested" in again.stderr
        wait_for(lambda: rollbacks(rworld, deploy_id)[-1]["state"] == "succeeded")
        assert run_count(runs) == 2


def test_cli_wait_exits_1_when_the_rollback_fails(make_rworld: Callable[..., World]) -> None:
    world = make_rworld({"command": "echo nope; exit 4"})
    deploy_id = deploy(world)
    with live_server(create_app(world.shepherd, embedded_worker=True)) as url:
        env = {"SHEPHERD_URL": url, "SHEPHERD_API_TOKEN": TOKEN}
        result = CliRunner().invoke(cli_app, ["rollback", str(deploy_id), "--yes", "--wait"], env=env)
    assert result.exit_code == 1
    assert "nope" in result.stdout and "failed" in result.stderr and "exit code 4" in result.stderr


def test_bootstrap_wires_the_rollback_job(make_world: Callable[..., World], shop_repo: Any) -> None:
    world = make_world(rollback_config(shop_repo[0], {"command": "true"}))
    assert (
        JobKind.RUN_ROLLBACK in world.shepherd.handlers
        and JobKind.RUN_ROLLBACK in world.shepherd.runner.handlers
    )


# One unit of work per request and per job: failing halfway writes nothing


def all_jobs(world: World) -> list[Any]:
    with world.shepherd.uow_factory() as uow:
        return list(uow.jobs.query(limit=1000))


def test_a_press_that_fails_halfway_writes_nothing(
    rworld: World, runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_id = deploy(rworld)
    before = len(all_jobs(rworld))

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away after the rollback was written")

    # The rollback, its timeline note and its jobs are written before the answer is queued.
    monkeypatch.setattr("shepherd.services.slack_presses.reply_later", unreachable)
    failed = press(rworld, "rollback", deploy_id, ANA, response_url="https://hooks.slack.test/r")
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "internal"
    assert rollbacks(rworld, deploy_id) == [] and timeline(rworld, deploy_id) == []
    assert len(all_jobs(rworld)) == before
    monkeypatch.undo()
    assert press(rworld, "rollback", deploy_id, ANA).json()["created"] is True  # nothing in the way


def test_a_job_that_fails_halfway_writes_nothing_and_runs_again(
    rworld: World, runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_id = deploy(rworld)
    assert press(rworld, "rollback", deploy_id, ANA).json()["created"] is True
    before = timeline(rworld, deploy_id)

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away after the rollback was marked running")

    # The job's first transaction marks the rollback running, then notes it on the timeline.
    monkeypatch.setattr("shepherd.services.rollback.note", unreachable)
    rworld.run_jobs()
    assert [r["state"] for r in rollbacks(rworld, deploy_id)] == ["requested"]
    assert timeline(rworld, deploy_id) == before and run_count(runs) == 0
    job = next(j for j in all_jobs(rworld) if j.kind == JobKind.RUN_ROLLBACK)
    assert job.state == "pending" and job.attempts == 1
    monkeypatch.undo()
    rworld.clock.advance(seconds=3600)
    rworld.run_jobs()
    assert [r["state"] for r in rollbacks(rworld, deploy_id)] == ["succeeded"] and run_count(runs) == 1
