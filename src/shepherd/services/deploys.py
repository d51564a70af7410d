"""Use cases: record a deploy start and its lifecycle events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shepherd.domain.config import ShepherdConfig
from shepherd.domain.deploys import SHA_RE, Deploy, DeployEvent, DeployState, DeployStatus, advance
from shepherd.domain.errors import DuplicateKey
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.services.errors import Conflict, Invalid, NotFound, UnknownEnvironment, UnknownService
from shepherd.services.incidents import resolve_if_settled
from shepherd.services.notify import sync_job
from shepherd.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from shepherd.services.watch import watch_job


@dataclass(frozen=True)
class StartDeploy:
    service: str
    environment: str
    sha: str
    source: str = "api"
    previous_sha: str | None = None
    version: str | None = None
    ref: str | None = None
    deployer: str | None = None
    url: str | None = None
    idempotency_key: str | None = None
    started_at: datetime | None = None
    backfill: bool = False  # history: recorded and attributed; no message, watch, reminder or page


@dataclass(frozen=True)
class ReportDeployEvent:
    deploy_id: int
    status: DeployStatus
    source: str = "api"
    percent: int | None = None
    stage: str | None = None
    message: str | None = None
    idempotency_key: str | None = None
    occurred_at: datetime | None = None


def validate_start(command: StartDeploy, config: ShepherdConfig) -> None:
    service = config.service(command.service)
    if service is None:
        known = [s.name for s in config.services]
        raise UnknownService(
            f"no service named {command.service!r} in shepherd.yaml", details={"known": known}
        )
    if command.environment not in service.environments:
        raise UnknownEnvironment(
            f"service {service.name!r} has no environment {command.environment!r}",
            details={"known": service.environments},
        )
    for field in ("sha", "previous_sha"):
        value = getattr(command, field)
        if value is not None and not SHA_RE.match(value):
            raise Invalid(f"{field} must be 7 to 40 hex characters, got {value!r}", details={"field": field})
    if command.started_at is not None and command.started_at.tzinfo is None:
        raise Invalid(
            "started_at needs a time zone (e.g. 2026-11-02T14:05:00Z)", details={"field": "started_at"}
        )


@dataclass(frozen=True)
class ReachedStatus:
    """Where a deploy reported at its start already is (Argo CD notifications send every state
    with the start's fields and one idempotency key)."""

    status: DeployStatus
    percent: int | None = None
    stage: str | None = None
    message: str | None = None
    idempotency_key: str | None = None
    occurred_at: datetime | None = None


def record_deploy_start(
    command: StartDeploy,
    *,
    uow_factory: UnitOfWorkFactory,
    config: ShepherdConfig,
    clock: Clock,
    reached: ReachedStatus | None = None,
) -> tuple[Deploy, bool]:
    """The deploy (new, or the one this idempotency key already made) and whether it is new.

    With `reached`, that event is recorded in the same transaction: a deploy never exists
    without the status it was reported with.
    """
    validate_start(command, config)
    try:
        started = _start(command, reached, uow_factory=uow_factory, clock=clock)
        assert started is not None  # it inserts when nothing has the key
        return started
    except DuplicateKey:
        if not command.idempotency_key:
            raise
        # Two requests with one key raced (PostgreSQL); the other one won: use its deploy.
        raced = _start(command, reached, uow_factory=uow_factory, clock=clock, insert=False)
        if raced is None:
            raise
        return raced


def _start(
    command: StartDeploy,
    reached: ReachedStatus | None,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    insert: bool = True,
) -> tuple[Deploy, bool] | None:
    """The deploy and whether it is new; None when not inserting and no deploy has the key."""
    with uow_factory() as uow:
        now = clock()
        key = command.idempotency_key
        existing = uow.deploys.by_idempotency_key(key) if key else None
        if existing is not None:
            deploy, created = _same_deploy(existing, command), False
        elif insert:
            deploy, created = _insert_deploy(uow, command, now), True
        else:
            return None
        if reached is not None and reached.status is not DeployStatus.STARTED:
            assert deploy.id is not None
            deploy, _, _ = _report(uow, _event_of(deploy.id, command.source, reached), now)
        return deploy, created


def _event_of(deploy_id: int, source: str, reached: ReachedStatus) -> ReportDeployEvent:
    return ReportDeployEvent(
        deploy_id=deploy_id,
        status=reached.status,
        source=source,
        percent=reached.percent,
        stage=reached.stage,
        message=reached.message,
        idempotency_key=reached.idempotency_key,
        occurred_at=reached.occurred_at,
    )


def _same_deploy(existing: Deploy, command: StartDeploy) -> Deploy:
    """A reused key must describe the same deploy: a matrix build reusing a run id is a bug."""
    sha, other = command.sha.lower(), existing.sha
    same_sha = other.startswith(sha) or sha.startswith(other)
    if (existing.service, existing.environment) == (command.service, command.environment) and same_sha:
        return existing
    raise Conflict(
        f"idempotency key already used for deploy {existing.id} ({existing.service} to "
        f"{existing.environment}, {other[:12]}); use one key per service, environment and sha",
        details={"deploy_id": existing.id},
    )


def _insert_deploy(uow: UnitOfWork, command: StartDeploy, now: datetime) -> Deploy:
    started_at = command.started_at or now
    deploy = uow.deploys.add(
        Deploy(
            service=command.service,
            environment=command.environment,
            sha=command.sha.lower(),
            previous_sha=command.previous_sha.lower() if command.previous_sha else None,
            version=command.version,
            status=DeployStatus.STARTED,
            source=command.source,
            ref=command.ref,
            deployer=command.deployer,
            url=command.url,
            idempotency_key=command.idempotency_key,
            started_at=started_at,
            created_at=now,
            updated_at=now,
            backfill=command.backfill,
        )
    )
    assert deploy.id is not None
    uow.deploys.add_event(
        DeployEvent(
            deploy_id=deploy.id,
            status=DeployStatus.STARTED,
            source=command.source,
            occurred_at=started_at,
            received_at=now,
            applied=True,
        )
    )
    if not command.backfill:
        uow.jobs.enqueue(watch_job(deploy.id), now=now)  # the watch starts with the deploy
    uow.jobs.enqueue(
        NewJob(
            kind=JobKind.ATTRIBUTE,
            payload={"deploy_id": deploy.id},
            dedupe_key=f"attribute:{deploy.id}",
            deploy_id=deploy.id,
        ),
        now=now,
    )
    return deploy


def record_deploy_event(
    command: ReportDeployEvent, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> tuple[Deploy, DeployEvent, bool]:
    """Record an event; the deploy moves only if the event takes it further. Idempotent by key."""
    with uow_factory() as uow:
        recorded = _report(uow, command, clock())
        return recorded


def _report(uow: UnitOfWork, command: ReportDeployEvent, now: datetime) -> tuple[Deploy, DeployEvent, bool]:
    """The event in the caller's transaction: the deploy, the event, and whether it is new."""
    if command.percent is not None and not 0 <= command.percent <= 100:
        raise Invalid(
            f"percent must be between 0 and 100, got {command.percent}",
            details={"field": "percent"},
        )
    if command.idempotency_key:
        seen = uow.deploys.event_by_key(command.idempotency_key)
        if seen is not None:
            deploy = uow.deploys.get(seen.deploy_id)
            assert deploy is not None
            return deploy, seen, False
    deploy = uow.deploys.get(command.deploy_id, for_update=True)
    if deploy is None:
        raise NotFound(f"no deploy with id {command.deploy_id}")
    deploy, event = apply_event(uow, deploy, command, now)
    if event.applied and not deploy.backfill:  # every message of the deploy shows the new state
        uow.jobs.enqueue(sync_job(deploy_id=command.deploy_id), now=now)
    return deploy, event, True


def apply_event(
    uow: UnitOfWork, deploy: Deploy, command: ReportDeployEvent, now: datetime
) -> tuple[Deploy, DeployEvent]:
    deploy_id = deploy.id
    assert deploy_id is not None
    current = DeployState(deploy.status, deploy.percent, deploy.stage)
    reported = DeployState(command.status, command.percent, command.stage)
    moved = advance(current, reported)
    occurred_at = command.occurred_at or now
    if moved is not None:
        deploy = replace(
            deploy,
            status=moved.status,
            percent=moved.percent,
            stage=moved.stage,
            message=command.message or deploy.message,
            updated_at=now,
            finished_at=occurred_at
            if moved.status.is_terminal and deploy.finished_at is None
            else deploy.finished_at,
        )
        uow.deploys.save(deploy)
        if moved.status is DeployStatus.ROLLED_BACK:
            resolve_if_settled(uow, deploy_id=deploy_id, now=now)
    event = uow.deploys.add_event(
        DeployEvent(
            deploy_id=deploy_id,
            status=command.status,
            percent=command.percent,
            stage=command.stage,
            message=command.message,
            source=command.source,
            idempotency_key=command.idempotency_key,
            occurred_at=occurred_at,
            received_at=now,
            applied=moved is not None,
        )
    )
    return deploy, event
