"""`/api/v1`: deploys and their events, jobs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from shepherd.domain.deploys import DeployStatus
from shepherd.domain.ids import MAX_ID
from shepherd.entrypoints.web.auth import ReadAccess, WriteAccess
from shepherd.entrypoints.web.deps import Id, ShepherdDep
from shepherd.services.deploys import (
    ReachedStatus,
    ReportDeployEvent,
    StartDeploy,
    record_deploy_event,
    record_deploy_start,
)
from shepherd.services.errors import Invalid
from shepherd.services.queries.deploys import deploy_detail, deploy_list
from shepherd.services.queries.views import deploy_summary, event_view, job_view

router = APIRouter(prefix="/api/v1")

Sha = Field(min_length=7, max_length=40, pattern=r"^[0-9a-fA-F]+$")


class DeployIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=63)
    environment: str = Field(min_length=1, max_length=100)
    sha: str = Sha
    previous_sha: str | None = Field(default=None, min_length=7, max_length=40, pattern=r"^[0-9a-fA-F]+$")
    version: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="version label value in metrics (default: sha)",
    )
    ref: str | None = Field(default=None, max_length=255)
    deployer: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2000)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    # For tools that cannot carry the deploy id between calls (Argo CD notifications): the
    # same idempotency key with a later status records that event on the same deploy.
    status: Literal["started", "progressing", "succeeded", "failed", "rolled_back"] = "started"
    percent: StrictInt | None = Field(default=None, ge=0, le=100)  # true is not 1
    stage: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, max_length=2000)
    started_at: AwareDatetime | None = Field(default=None, description="when it started (default: now)")
    finished_at: AwareDatetime | None = Field(
        default=None, description="with a final status: when it reached it (default: now)"
    )
    backfill: bool = Field(
        default=False, description="history: recorded and attributed, but no message, watch or page"
    )


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["progressing", "succeeded", "failed", "rolled_back"]
    percent: StrictInt | None = Field(default=None, ge=0, le=100)  # true is not 1
    stage: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, max_length=2000)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    at: AwareDatetime | None = Field(default=None, description="when it happened (default: now)")


@router.post("/deploys", status_code=201)
def start_deploy(
    _auth: WriteAccess, body: DeployIn, shepherd: ShepherdDep, response: Response
) -> dict[str, Any]:
    _check_times(body)
    key = f"api:{body.idempotency_key}" if body.idempotency_key else None
    start = body.model_dump(
        exclude={"status", "percent", "stage", "message", "idempotency_key", "finished_at"}
    )
    deploy, created = record_deploy_start(
        StartDeploy(**start, idempotency_key=key, source="api"),
        uow_factory=shepherd.uow_factory,
        config=shepherd.config,
        clock=shepherd.clock,
        reached=ReachedStatus(
            status=DeployStatus(body.status),
            percent=body.percent,
            stage=body.stage,
            message=body.message,
            idempotency_key=f"{key}:{body.status}:{body.percent}:{body.stage}" if key else None,
            occurred_at=body.finished_at,
        ),
    )
    if not created:
        response.status_code = 200
    return {**deploy_summary(deploy, shepherd.settings.public_url), "created": created}


def _check_times(body: DeployIn) -> None:
    if body.finished_at is None:
        return
    if body.status in ("started", "progressing"):
        raise Invalid(
            "finished_at needs a final status (succeeded, failed or rolled_back)",
            details={"field": "finished_at"},
        )
    if body.started_at is not None and body.finished_at < body.started_at:
        raise Invalid("finished_at is before started_at", details={"field": "finished_at"})


@router.post("/deploys/{deploy_id}/events", status_code=201)
def deploy_event(
    _auth: WriteAccess, deploy_id: Id, body: EventIn, shepherd: ShepherdDep, response: Response
) -> dict[str, Any]:
    key = f"api:{deploy_id}:{body.idempotency_key}" if body.idempotency_key else None
    deploy, event, created = record_deploy_event(
        ReportDeployEvent(
            deploy_id=deploy_id,
            status=DeployStatus(body.status),
            percent=body.percent,
            stage=body.stage,
            message=body.message,
            idempotency_key=key,
            occurred_at=body.at,
        ),
        uow_factory=shepherd.uow_factory,
        clock=shepherd.clock,
    )
    if not created:
        response.status_code = 200
    return {
        **deploy_summary(deploy, shepherd.settings.public_url),
        "event": event_view(event),
        "created": created,
    }


@router.get("/deploys")
def list_deploys(
    _read: ReadAccess,
    shepherd: ShepherdDep,
    service: str | None = None,
    environment: str | None = None,
    status: DeployStatus | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    before: int | None = Query(default=None, ge=1, le=MAX_ID, description="id cursor from next_before"),
) -> dict[str, Any]:
    return deploy_list(
        uow_factory=shepherd.uow_factory,
        public_url=shepherd.settings.public_url,
        service=service,
        environment=environment,
        status=status.value if status else None,
        limit=limit,
        before=before,
    )


@router.get("/deploys/{deploy_id}")
def get_deploy(_read: ReadAccess, deploy_id: Id, shepherd: ShepherdDep) -> dict[str, Any]:
    return deploy_detail(
        uow_factory=shepherd.uow_factory,
        config=shepherd.config,
        public_url=shepherd.settings.public_url,
        deploy_id=deploy_id,
        now=shepherd.clock(),
    )


@router.get("/jobs")
def list_jobs(
    _read: ReadAccess,
    shepherd: ShepherdDep,
    state: Literal["pending", "running", "parked", "done", "dead"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    with shepherd.uow_factory() as uow:
        jobs = uow.jobs.query(state=state, limit=limit)
        counts = uow.jobs.counts()
    return {"counts": counts, "jobs": [job_view(j) for j in jobs]}
