"""`/api/v1/deploys/{id}/rollback(s)`: ask for a rollback (token holders) and see how it went."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from shepherd.domain.alerts import Rollback, RollbackVia
from shepherd.entrypoints.web.auth import ReadAccess, WriteAccess
from shepherd.entrypoints.web.deps import Id, ShepherdDep
from shepherd.services.errors import NotFound
from shepherd.services.queries.views import iso
from shepherd.services.rollback import Requester, request_rollback

router = APIRouter(prefix="/api/v1")


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requested_by: str | None = Field(default=None, min_length=1, max_length=255, description="who asks")
    via: Literal["api", "cli"] = "api"


def rollback_view(rollback: Rollback) -> dict[str, Any]:
    return {
        "id": rollback.id,
        "deploy_id": rollback.deploy_id,
        "state": rollback.state.value,
        "active": rollback.state.active,
        "requested_by": rollback.requested_by,
        "via": rollback.via,
        "action": rollback.action,
        "target_sha": rollback.target_sha,
        "requested_at": iso(rollback.requested_at),
        "started_at": iso(rollback.started_at),
        "finished_at": iso(rollback.finished_at),
        "exit_code": rollback.exit_code,
        "output": rollback.output,
    }


@router.post("/deploys/{deploy_id}/rollback", status_code=202)
def roll_back(
    _auth: WriteAccess,
    deploy_id: Id,
    shepherd: ShepherdDep,
    response: Response,
    body: RollbackIn | None = None,
) -> dict[str, Any]:
    """Queue the service's configured rollback; 200 with the one under way if there is one."""
    body = body or RollbackIn()
    rollback, created = request_rollback(
        deploy_id=deploy_id,
        requester=Requester(via=RollbackVia(body.via), name=body.requested_by or body.via),
        uow_factory=shepherd.uow_factory,
        config=shepherd.config,
        clock=shepherd.clock,
    )
    if not created:
        response.status_code = 200
    return {"rollback": rollback_view(rollback), "created": created}


@router.get("/deploys/{deploy_id}/rollbacks")
def list_rollbacks(_read: ReadAccess, deploy_id: Id, shepherd: ShepherdDep) -> dict[str, Any]:
    with shepherd.uow_factory() as uow:
        if uow.deploys.get(deploy_id) is None:
            raise NotFound(f"no deploy with id {deploy_id}")
        rollbacks = uow.incidents.rollbacks(deploy_id)
    return {"rollbacks": [rollback_view(r) for r in rollbacks]}
