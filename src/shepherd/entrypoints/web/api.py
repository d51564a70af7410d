"""`/api/v1`: deploys and their events, jobs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from shepherd.domain.deploys import DeployStatus
from shepherd.domain.notify import AckKind, guide_links
from shepherd.entrypoints.web.deps import ShepherdDep, WriteAccess
from shepherd.entrypoints.web.views import (
    ack_view,
    change_view,
    deploy_summary,
    event_view,
    job_view,
    notification_view,
    person_view,
)
from shepherd.services.deploys import (
    ReportDeployEvent,
    StartDeploy,
    record_deploy_event,
    record_deploy_start,
)
from shepherd.services.errors import NotFound
from shepherd.services.incident_views import incident_summary

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
    percent: int | None = Field(default=None, ge=0, le=100)
    stage: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, max_length=2000)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["progressing", "succeeded", "failed", "rolled_back"]
    percent: int | None = Field(default=None, ge=0, le=100)
    stage: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, max_length=2000)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


@router.post("/deploys", status_code=201, dependencies=[WriteAccess])
def start_deploy(body: DeployIn, shepherd: ShepherdDep, response: Response) -> dict[str, Any]:
    key = f"api:{body.idempotency_key}" if body.idempotency_key else None
    start = body.model_dump(exclude={"status", "percent", "stage", "message", "idempotency_key"})
    deploy, created = record_deploy_start(
        StartDeploy(**start, idempotency_key=key, source="api"),
        uow_factory=shepherd.uow_factory,
        config=shepherd.config,
        clock=shepherd.clock,
    )
    if body.status != "started":
        assert deploy.id is not None
        deploy, _, _ = record_deploy_event(
            ReportDeployEvent(
                deploy_id=deploy.id,
                status=DeployStatus(body.status),
                percent=body.percent,
                stage=body.stage,
                message=body.message,
                idempotency_key=f"{key}:{body.status}:{body.percent}:{body.stage}" if key else None,
            ),
            uow_factory=shepherd.uow_factory,
            clock=shepherd.clock,
        )
    if not created:
        response.status_code = 200
    return {**deploy_summary(deploy, shepherd.settings.public_url), "created": created}


@router.post("/deploys/{deploy_id}/events", status_code=201, dependencies=[WriteAccess])
def deploy_event(deploy_id: int, body: EventIn, shepherd: ShepherdDep, response: Response) -> dict[str, Any]:
    key = f"api:{deploy_id}:{body.idempotency_key}" if body.idempotency_key else None
    deploy, event, created = record_deploy_event(
        ReportDeployEvent(
            deploy_id=deploy_id,
            status=DeployStatus(body.status),
            percent=body.percent,
            stage=body.stage,
            message=body.message,
            idempotency_key=key,
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
    shepherd: ShepherdDep,
    service: str | None = None,
    environment: str | None = None,
    status: DeployStatus | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    before: int | None = Query(default=None, ge=1, description="id cursor from next_before"),
) -> dict[str, Any]:
    with shepherd.uow_factory() as uow:
        deploys = uow.deploys.query(
            service=service,
            environment=environment,
            status=status.value if status else None,
            limit=limit,
            before_id=before,
        )
    public = shepherd.settings.public_url
    return {
        "deploys": [deploy_summary(d, public) for d in deploys],
        "next_before": deploys[-1].id if len(deploys) == limit else None,
    }


@router.get("/deploys/{deploy_id}")
def get_deploy(deploy_id: int, shepherd: ShepherdDep) -> dict[str, Any]:
    with shepherd.uow_factory() as uow:
        deploy = uow.deploys.get(deploy_id)
        if deploy is None:
            raise NotFound(f"no deploy with id {deploy_id}")
        changes = uow.deploys.changes(deploy_id)
        people = uow.deploys.people(deploy_id)
        events = uow.deploys.events(deploy_id)
        jobs = uow.jobs.query(deploy_id=deploy_id)
        notifications = uow.notifications.for_deploy(deploy_id)
        acks = uow.notifications.acks(deploy_id)
        incidents = uow.incidents.query(deploy_id=deploy_id)
    service = shepherd.config.service(deploy.service)
    guides = (
        []
        if service is None
        else guide_links(service, deploy, changes, shepherd.settings.public_url, shepherd.clock())
    )
    return {
        **deploy_summary(deploy, shepherd.settings.public_url),
        "changes": [change_view(c) for c in changes],
        "guides": [{"title": title, "url": url, "kind": kind} for title, url, kind in guides],
        "people": [person_view(p) for p in people],
        "events": [event_view(e) for e in events],
        "jobs": [job_view(j) for j in jobs],
        "notifications": [notification_view(n) for n in notifications],
        "acks": [ack_view(a) for a in acks if a.kind is AckKind.WATCHING],
        "reports": [ack_view(a) for a in acks if a.kind is AckKind.WRONG],
        "suspect": any(a.kind is AckKind.WRONG for a in acks),
        "incidents": [incident_summary(i) for i in incidents],
    }


@router.get("/jobs")
def list_jobs(
    shepherd: ShepherdDep,
    state: Literal["pending", "running", "done", "dead"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    with shepherd.uow_factory() as uow:
        jobs = uow.jobs.query(state=state, limit=limit)
        counts = uow.jobs.counts()
    return {"counts": counts, "jobs": [job_view(j) for j in jobs]}
