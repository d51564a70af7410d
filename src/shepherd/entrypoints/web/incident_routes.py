"""`/api/v1/incidents`: list, detail with the whole timeline, postmortem draft, resolve by hand."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from shepherd.domain.ids import MAX_ID
from shepherd.domain.incidents import render_markdown
from shepherd.entrypoints.web.auth import ReadAccess, WriteAccess
from shepherd.entrypoints.web.deps import Id, ShepherdDep
from shepherd.services.incidents import link_cause, resolve_by_hand
from shepherd.services.queries.incidents import incident_json, incident_list, incident_story

router = APIRouter(prefix="/api/v1")


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: str | None = Field(default=None, min_length=1, max_length=2000, description="how it ended")


class MarkdownResponse(PlainTextResponse):
    media_type = "text/markdown"


@router.get("/incidents")
def list_incidents(
    _read: ReadAccess,
    shepherd: ShepherdDep,
    state: Literal["open", "resolved"] | None = None,
    service: str | None = Query(default=None, max_length=63),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    """Incidents, newest first."""
    incidents = incident_list(uow_factory=shepherd.uow_factory, state=state, service=service, limit=limit)
    return {"incidents": incidents}


@router.get("/incidents/{incident_id}")
def get_incident(_read: ReadAccess, incident_id: Id, shepherd: ShepherdDep) -> dict[str, Any]:
    story = incident_story(uow_factory=shepherd.uow_factory, incident_id=incident_id)
    return incident_json(story, now=shepherd.clock())


@router.get(
    "/incidents/{incident_id}/postmortem",
    response_class=MarkdownResponse,
    responses={200: {"content": {"text/markdown": {}}}},
)
def postmortem(_read: ReadAccess, incident_id: Id, shepherd: ShepherdDep) -> str:
    """A postmortem draft in Markdown (the same as `shepherd incident export`)."""
    story = incident_story(uow_factory=shepherd.uow_factory, incident_id=incident_id)
    return render_markdown(story, shepherd.clock())


@router.post("/incidents/{incident_id}/resolve")
def resolve_incident(
    _auth: WriteAccess, incident_id: Id, shepherd: ShepherdDep, body: ResolveIn | None = None
) -> dict[str, Any]:
    """Resolve by hand; resolving a resolved incident changes nothing (200 with how it ended)."""
    resolve_by_hand(
        incident_id,
        resolution=body.resolution if body else None,
        uow_factory=shepherd.uow_factory,
        clock=shepherd.clock,
    )
    story = incident_story(uow_factory=shepherd.uow_factory, incident_id=incident_id)
    return incident_json(story, now=shepherd.clock())


class CauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deploy_id: int = Field(ge=1, le=MAX_ID, description="the deploy that caused it")
    by: str = Field(min_length=1, max_length=255, description="who says so")


@router.post("/incidents/{incident_id}/cause")
def incident_cause(
    _auth: WriteAccess, incident_id: Id, body: CauseIn, shepherd: ShepherdDep
) -> dict[str, Any]:
    """Name the deploy that caused the incident: it counts as a failed deploy (docs/delivery.md)."""
    link_cause(
        incident_id,
        deploy_id=body.deploy_id,
        by=body.by,
        uow_factory=shepherd.uow_factory,
        clock=shepherd.clock,
    )
    story = incident_story(uow_factory=shepherd.uow_factory, incident_id=incident_id)
    return incident_json(story, now=shepherd.clock())
