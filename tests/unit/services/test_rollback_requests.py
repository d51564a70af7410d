"""Rollbacks: who may ask from Slack, at most one under way per deploy, and the job never runs twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from shepherd.domain.alerts import Rollback, RollbackState, RollbackVia
from shepherd.domain.deploys import Role
from shepherd.domain.incidents import RollbackResult
from shepherd.domain.jobs import JobKind, JobOutcome, JobState
from shepherd.services.errors import Forbidden, Invalid, NotFound
from shepherd.services.jobs import HandlerRegistry
from shepherd.services.rollback import (
    NEVER_RAN,
    STOPPED,
    Requester,
    RollbackDeps,
    register_jobs,
    request_rollback,
)
from tests.support.builders import (
    ANA_SLACK,
    DORA_SLACK,
    EVE_SLACK,
    FINN_SLACK,
    SHA_1,
    Store,
    person,
    shop_config,
)

CONFIG = shop_config(rollback={"command": "deploy {service} {rollback_sha}"})
BRUNO_SLACK = "U02BRUNO"  # not in the config: Shepherd knows his id from Slack's users.lookupByEmail
API = Requester(via=RollbackVia.API, name="release-bot")


@dataclass
class RecordingRunner:
    result: RollbackResult = field(default_factory=lambda: RollbackResult(True, 0, "rolled back\n"))
    commands: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def run_command(self, command: str, *, env: Mapping[str, str], timeout: float) -> RollbackResult:
        self.commands.append((command, dict(env)))
        return self.result

    def call_webhook(
        self, *, method: str, url: str, headers: Mapping[str, str], body: str | None, timeout: float
    ) -> RollbackResult:
        raise AssertionError("no webhook configured")


@pytest.fixture
def store() -> Store:
    store = Store()
    with store.uow_factory() as uow:
        uow.notifications.cache_slack_user("bruno@example.com", BRUNO_SLACK, now=store.clock())
    return store


def shipped(store: Store, **values: Any) -> int:
    """A deploy of Ana's and Bruno's changes, from SHA_1."""
    people = (person("Ana Lima", "ana@example.com"), person("Bruno Costa", "bruno@example.com", Role.MERGER))
    deploy = store.deploy(people=people, previous_sha=SHA_1, **values)
    assert deploy.id is not None
    return deploy.id


def ask(store: Store, deploy_id: int, requester: Requester = API) -> tuple[Rollback, bool]:
    return request_rollback(
        deploy_id=deploy_id,
        requester=requester,
        uow_factory=store.uow_factory,
        config=CONFIG,
        clock=store.clock,
    )


def slack(user: str, name: str = "Someone") -> Requester:
    return Requester(via=RollbackVia.SLACK, name=name, slack_user=user)


@pytest.mark.parametrize(
    "user",
    [ANA_SLACK, BRUNO_SLACK, DORA_SLACK, EVE_SLACK],
    ids=["author by Slack id", "merger by the email Slack gave", "owner", "rollback.allowed"],
)
def test_the_deploys_people_owners_and_allowed_people_may_roll_back_from_slack(
    store: Store, user: str
) -> None:
    deploy_id = shipped(store)
    rollback, created = ask(store, deploy_id, slack(user))
    assert created and (rollback.state, rollback.via, rollback.target_sha) == (
        RollbackState.REQUESTED,
        RollbackVia.SLACK,
        SHA_1,
    )
    assert [j.kind for j in store.jobs()] == [JobKind.RUN_ROLLBACK, JobKind.SYNC_MESSAGES]


@pytest.mark.parametrize("user", [FINN_SLACK, "U0NOBODY"])
def test_anyone_else_is_forbidden_told_who_may_and_the_refusal_is_noted(store: Store, user: str) -> None:
    deploy_id = shipped(store)
    with pytest.raises(Forbidden, match="Who may") as refused:
        ask(store, deploy_id, slack(user, "Finn Stranger"))
    message = refused.value.message
    assert "Finn Stranger may not roll back checkout production" in message
    assert all(name in message for name in ("Ana Lima", "Dora Owner", "Eve Oncall"))
    assert f"shepherd rollback {deploy_id}" in message
    assert store.uow_factory.tables.rollbacks == {} and store.jobs() == []
    assert store.timeline(deploy_id, "rollback") == ["rollback refused for Finn Stranger: not allowed"]


def test_a_second_request_while_one_is_under_way_gets_that_one(store: Store) -> None:
    deploy_id = shipped(store)
    first, created = ask(store, deploy_id)
    again, created_again = ask(store, deploy_id, slack(ANA_SLACK))
    assert created and not created_again and again.id == first.id
    assert len(store.jobs(JobKind.RUN_ROLLBACK)) == 1
    assert store.timeline(deploy_id, "rollback") == [
        f"rollback requested by release-bot via api: checkout production back to {SHA_1[:7]}"
    ]


def test_no_rollback_configured_nothing_to_go_back_to_or_no_deploy(store: Store) -> None:
    search = shipped(store, service="search")
    with pytest.raises(Invalid) as invalid:
        ask(store, search)
    assert invalid.value.message == "no rollback configured for search: add `rollback:` to shepherd.yaml"
    first = store.deploy().id  # no previous_sha and nothing before it
    assert first is not None
    with pytest.raises(Invalid, match="nothing to roll back to"):
        ask(store, first)
    with pytest.raises(NotFound):
        ask(store, 999)
    assert store.uow_factory.tables.rollbacks == {}


def test_a_requested_rollback_whose_job_died_is_replaced_by_the_next_request(store: Store) -> None:
    deploy_id = shipped(store)
    first, _ = ask(store, deploy_id)
    (job,) = store.jobs(JobKind.RUN_ROLLBACK)
    store.uow_factory.tables.jobs[job.id] = replace(job, state=JobState.DEAD)  # gave up before it ran
    second, created = ask(store, deploy_id)
    assert created and second.id != first.id
    assert first.id is not None
    old = store.uow_factory.tables.rollbacks[first.id]
    assert (old.state, old.output) == (RollbackState.FAILED, NEVER_RAN)


def run_rollback_jobs(store: Store, runner: RecordingRunner) -> list[JobOutcome]:
    """Run the due `run_rollback` jobs; the other jobs stay leased, unrun."""
    registry = HandlerRegistry()
    register_jobs(registry, RollbackDeps(config=CONFIG, runner=runner, environ={}, public_url="http://x"))
    jobs = store.runner(registry)
    return [jobs.run(job) for job in jobs.lease(limit=10) if job.kind == JobKind.RUN_ROLLBACK]


def test_the_job_runs_the_command_once_and_records_the_outcome(store: Store) -> None:
    deploy_id = shipped(store)
    rollback, _ = ask(store, deploy_id)
    runner = RecordingRunner()
    assert run_rollback_jobs(store, runner) == [JobOutcome.DONE]
    assert runner.commands[0][0] == f"deploy checkout {SHA_1}"
    assert runner.commands[0][1]["SHEPHERD_ROLLBACK_SHA"] == SHA_1
    assert rollback.id is not None
    done = store.uow_factory.tables.rollbacks[rollback.id]
    assert (done.state, done.exit_code, done.output) == (RollbackState.SUCCEEDED, 0, "rolled back\n")
    assert store.timeline(deploy_id, "rollback")[-1] == (
        "rollback succeeded (exit 0); waiting for the deploy event that reports it rolled out"
    )


def test_a_rollback_found_running_is_failed_and_never_run_again(store: Store) -> None:
    deploy_id = shipped(store)
    rollback, _ = ask(store, deploy_id)
    assert rollback.id is not None
    store.uow_factory.tables.rollbacks[rollback.id].state = RollbackState.RUNNING  # its worker died mid-run
    runner = RecordingRunner()
    assert run_rollback_jobs(store, runner) == [JobOutcome.DONE]
    assert runner.commands == []
    stopped = store.uow_factory.tables.rollbacks[rollback.id]
    assert (stopped.state, stopped.output) == (RollbackState.FAILED, STOPPED)
