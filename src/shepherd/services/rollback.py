"""Use cases: ask for a rollback (Slack button, CLI, API) and run it (the `run_rollback` job).

"Nothing twice": a deploy has at most one rollback requested or running (a unique key in the
database), so a second press while one runs returns that one; and a rollback found `running`
when its job starts again (the worker died mid-run) is marked failed, never run a second time,
because Shepherd cannot know whether the command got through.

The deploy itself moves to `rolled_back` only when the rollback's own deploy event arrives
(from CI, Argo, Flagger…), not when the command exits 0: a command that started a pipeline
has not rolled anything back yet.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from shepherd.domain.alerts import Rollback, RollbackState, RollbackVia
from shepherd.domain.config import Service, ShepherdConfig
from shepherd.domain.deploys import Deploy
from shepherd.domain.errors import DuplicateKey
from shepherd.domain.incidents import (
    RollbackResult,
    identify,
    may_roll_back,
    render_command,
    render_json_body,
    render_url,
    resolve_headers,
    rollback_target,
    template_values,
    who_may,
)
from shepherd.domain.jobs import JobKind, LeaseLost, NewJob
from shepherd.services.errors import Conflict, Forbidden, Invalid, NotFound
from shepherd.services.incidents import note
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.notify import sync_job
from shepherd.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("shepherd.rollback")

NEVER_RAN = "this rollback's job gave up before it started, so it never ran; a later request replaced it"
STOPPED = (
    "Shepherd stopped while the rollback ran; it may or may not have happened — "
    "check, then roll back again if needed"
)


@dataclass(frozen=True)
class Requester:
    """Who asks. Slack presses are checked against the deploy's people; API token holders are trusted."""

    via: RollbackVia
    name: str
    slack_user: str | None = None
    email: str | None = None


class RollbackRunner(Protocol):
    """Runs a rollback command or calls a rollback webhook; reports failures as results."""

    def run_command(self, command: str, *, env: Mapping[str, str], timeout: float) -> RollbackResult: ...

    def call_webhook(
        self, *, method: str, url: str, headers: Mapping[str, str], body: str | None, timeout: float
    ) -> RollbackResult: ...


@dataclass(frozen=True)
class RollbackDeps:
    config: ShepherdConfig
    runner: RollbackRunner
    environ: Mapping[str, str]  # for `env:NAME` webhook headers
    public_url: str


def rollback_job(rollback: Rollback) -> NewJob:
    return NewJob(
        kind=JobKind.RUN_ROLLBACK,
        payload={"rollback_id": rollback.id},
        dedupe_key=f"rollback:{rollback.id}",
        deploy_id=rollback.deploy_id,
    )


@dataclass(frozen=True)
class RollbackAsked:
    """What a request for a rollback came to: the one that runs, or why this person may not."""

    rollback: Rollback | None
    created: bool = False
    refusal: str | None = None


def request_rollback(
    *,
    deploy_id: int,
    requester: Requester,
    uow_factory: UnitOfWorkFactory,
    config: ShepherdConfig,
    clock: Clock,
) -> tuple[Rollback, bool]:
    """The rollback under way for this deploy, or a new one queued; True when new."""
    with uow_factory() as uow:
        asked = ask_for_rollback(uow, deploy_id=deploy_id, requester=requester, config=config, now=clock())
    if asked.refusal is not None:  # raised after the block, so the refusal's timeline note stays
        raise Forbidden(asked.refusal)
    assert asked.rollback is not None
    return asked.rollback, asked.created


def ask_for_rollback(
    uow: UnitOfWork, *, deploy_id: int, requester: Requester, config: ShepherdConfig, now: datetime
) -> RollbackAsked:
    """Inside the caller's unit of work. Raises before writing anything when it cannot be done."""
    deploy = uow.deploys.get(deploy_id)
    if deploy is None:
        raise NotFound(f"no deploy with id {deploy_id}")
    service = config.service(deploy.service)
    if service is None or service.rollback is None:
        raise Invalid(
            f"no rollback configured for {deploy.service}: add `rollback:` to shepherd.yaml",
            details={"service": deploy.service},
        )
    if requester.via == RollbackVia.SLACK:
        refusal = _refusal(uow, config, service, deploy, requester)
        if refusal is not None:
            note(uow, deploy_id, now, "rollback", f"rollback refused for {requester.name}: not allowed")
            return RollbackAsked(None, refusal=refusal)
    active = _active(uow, deploy_id)
    if active is not None and not _orphaned(uow, active):
        return RollbackAsked(active)
    target = rollback_target(deploy)
    if target is None:
        raise Invalid(
            f"nothing to roll back to: Shepherd knows no earlier deploy of {deploy.service} "
            f"to {deploy.environment} and the deploy gave no previous_sha"
        )
    if active is not None:  # its job gave up before it started: it never ran, so replace it
        _settle(uow, active, RollbackResult(False, None, NEVER_RAN), now)
    return _queue(uow, deploy, requester, service, target, now)


def _queue(
    uow: UnitOfWork, deploy: Deploy, requester: Requester, service: Service, target: str, now: datetime
) -> RollbackAsked:
    assert deploy.id is not None and service.rollback is not None
    rollback = Rollback(
        deploy_id=deploy.id,
        requested_by=requester.name[:255],
        via=requester.via,
        requested_at=now,
        action="command" if service.rollback.command else "webhook",
        target_sha=target,
    )
    try:
        uow.incidents.add_rollback(rollback)
    except DuplicateKey:  # the other press won the race: it is the one that runs
        active = _active(uow, deploy.id)
        if active is None:
            raise Conflict("a rollback of this deploy was just requested; try again") from None
        return RollbackAsked(active)
    text = (
        f"rollback requested by {rollback.requested_by} via {rollback.via}: "
        f"{deploy.service} {deploy.environment} back to {target[:7]}"
    )
    note(uow, deploy.id, now, "rollback", text, rollback=rollback.id, state=rollback.state.value)
    uow.jobs.enqueue(rollback_job(rollback), now=now)
    uow.jobs.enqueue(sync_job(deploy.id), now=now)
    log.info(
        "rollback %s of deploy %s requested by %s via %s",
        rollback.id,
        deploy.id,
        rollback.requested_by,
        rollback.via,
    )
    return RollbackAsked(rollback, created=True)


def _active(uow: UnitOfWork, deploy_id: int) -> Rollback | None:
    return next((r for r in uow.incidents.rollbacks(deploy_id) if r.state.active), None)


def _orphaned(uow: UnitOfWork, rollback: Rollback) -> bool:
    """A rollback still `requested` whose job is dead: it never ran and never will on its own.

    Safe to replace, because the job commits `running` before it runs anything; a `running` one
    whose job died may have run, and stays for its retry to settle (see the module docstring).
    """
    if rollback.state is not RollbackState.REQUESTED:
        return False
    dead = uow.jobs.query(state="dead", deploy_id=rollback.deploy_id, limit=1000)
    return any(j.kind == JobKind.RUN_ROLLBACK and j.payload.get("rollback_id") == rollback.id for j in dead)


def _refusal(
    uow: UnitOfWork, config: ShepherdConfig, service: Service, deploy: Deploy, requester: Requester
) -> str | None:
    """None when the presser may roll back; otherwise who may."""
    email = requester.email
    if email is None and requester.slack_user:
        email = uow.notifications.email_of_slack_user(requester.slack_user)
    presser = identify(config.people, slack_user=requester.slack_user, email=email)
    assert deploy.id is not None
    people = uow.deploys.people(deploy.id)
    if may_roll_back(presser, people=people, service=service):
        return None
    return (
        f"{requester.name} may not roll back {deploy.service} {deploy.environment} from Slack. "
        f"Who may: {who_may(people, service)}. "
        f"Anyone with the API token can run `shepherd rollback {deploy.id}`."
    )


# The job


@dataclass(frozen=True)
class _Action:
    kind: str  # "command" | "webhook"
    timeout: float
    command: str = ""
    env: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    def describe(self) -> str:
        if self.kind == "command":
            return f"running `{self.command}`"
        parts = urlsplit(self.url)  # no query string: it may carry a token
        return f"calling {self.method} {urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))}"

    def run(self, runner: RollbackRunner) -> RollbackResult:
        if self.kind == "command":
            return runner.run_command(self.command, env=self.env, timeout=self.timeout)
        return runner.call_webhook(
            method=self.method, url=self.url, headers=self.headers, body=self.body, timeout=self.timeout
        )


def run_rollback(ctx: JobContext, deps: RollbackDeps) -> None:
    """Run a requested rollback once: mark it running (committed), run, record the outcome."""
    rollback_id = int(ctx.payload["rollback_id"])
    with ctx.transaction() as uow:
        rollback = uow.incidents.rollback(rollback_id, for_update=True)
        if rollback is None or not rollback.state.active:
            return  # gone, or already settled
        if rollback.state is RollbackState.RUNNING:  # a worker died mid-run: never run twice
            log.warning("rollback %s was left running by a stopped worker: marking it failed", rollback_id)
            _settle(uow, rollback, RollbackResult(False, None, STOPPED), ctx.now())
            return
        deploy = uow.deploys.get(rollback.deploy_id)
        plan = _plan(deps, deploy, rollback)
        if isinstance(plan, str):
            _settle(uow, rollback, RollbackResult(False, None, plan), ctx.now())
            return
        rollback.state, rollback.started_at = RollbackState.RUNNING, ctx.now()
        uow.incidents.save_rollback(rollback)
        note(
            uow,
            rollback.deploy_id,
            ctx.now(),
            "rollback",
            f"rollback started: {plan.describe()}",
            rollback=rollback_id,
            state="running",
        )
        uow.jobs.enqueue(sync_job(rollback.deploy_id), now=ctx.now())
    # Committed: from here on a retry of this job finds it running and does not run it again.
    try:
        result = plan.run(deps.runner)
    except Exception as exc:  # a runner bug must not leave it "running" for the retry to misreport
        log.exception("rollback %s: the runner failed", rollback_id)
        result = RollbackResult(
            False, None, f"Shepherd could not run the rollback: {type(exc).__name__}: {exc}"
        )
    try:
        with ctx.transaction(finish=True) as uow:
            _record(uow, rollback_id, result, ctx.now())
    except LeaseLost:
        # The outcome is a fact whoever holds the job now: keep it (the row lock orders us).
        with ctx.uow_factory() as uow:
            _record(uow, rollback_id, result, ctx.now())
        raise


def _record(uow: UnitOfWork, rollback_id: int, result: RollbackResult, now: datetime) -> None:
    current = uow.incidents.rollback(rollback_id, for_update=True)
    if current is not None and current.state is RollbackState.RUNNING:
        _settle(uow, current, result, now)


def _plan(deps: RollbackDeps, deploy: Deploy | None, rollback: Rollback) -> _Action | str:
    """What to run, filled in; a string says why it cannot run."""
    if deploy is None:
        return "the deploy no longer exists"
    service = deps.config.service(deploy.service)
    config = service.rollback if service else None
    if service is None or config is None:
        return f"no rollback configured for {deploy.service} any more: add `rollback:` to shepherd.yaml"
    if not rollback.target_sha:
        return "nothing to roll back to"
    values = template_values(
        deploy,
        target_sha=rollback.target_sha,
        public_url=deps.public_url,
        watch_minutes=service.policy(deps.config.policies).watch_minutes,
    )
    if config.command is not None:
        env = {
            "SHEPHERD_DEPLOY_ID": str(deploy.id),
            "SHEPHERD_SERVICE": deploy.service,
            "SHEPHERD_ENVIRONMENT": deploy.environment,
            "SHEPHERD_SHA": deploy.sha,
            "SHEPHERD_ROLLBACK_SHA": rollback.target_sha,
        }
        return _Action(
            "command", config.timeout_seconds, command=render_command(config.command, values), env=env
        )
    assert config.webhook is not None
    hook = config.webhook
    try:
        headers = resolve_headers(hook.headers, deps.environ)
    except ValueError as exc:
        return f"cannot call the rollback webhook: {exc}"
    body = render_json_body(hook.body, values) if hook.body is not None else None
    if body is not None and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    return _Action(
        "webhook",
        config.timeout_seconds,
        method=hook.method,
        url=render_url(hook.url, values),
        headers=headers,
        body=body,
    )


def _settle(uow: UnitOfWork, rollback: Rollback, result: RollbackResult, now: datetime) -> None:
    rollback.state = RollbackState.SUCCEEDED if result.succeeded else RollbackState.FAILED
    rollback.finished_at = now
    rollback.exit_code = result.exit_code
    rollback.output = result.output
    uow.incidents.save_rollback(rollback)
    code = f" ({_code(rollback)})" if rollback.exit_code is not None else ""
    if result.succeeded:
        text = f"rollback succeeded{code}; waiting for the deploy event that reports it rolled out"
    else:
        last = next((line for line in reversed(result.output.strip().splitlines()) if line.strip()), "")
        text = f"rollback failed{code}" + (f": {last[:300]}" if last else "")
    note(
        uow,
        rollback.deploy_id,
        now,
        "rollback",
        text,
        rollback=rollback.id,
        state=rollback.state.value,
        exit_code=rollback.exit_code,
    )
    uow.jobs.enqueue(sync_job(rollback.deploy_id), now=now)
    log.info("rollback %s of deploy %s: %s", rollback.id, rollback.deploy_id, rollback.state.value)


def _code(rollback: Rollback) -> str:
    return f"HTTP {rollback.exit_code}" if rollback.action == "webhook" else f"exit {rollback.exit_code}"


def register_jobs(registry: HandlerRegistry, deps: RollbackDeps) -> None:
    registry.register(JobKind.RUN_ROLLBACK, run_rollback, deps)
