"""Inbound webhooks: GitHub deployments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from shepherd.adapters.inbound.github import PayloadError, parse_deployment_event
from shepherd.entrypoints.web.auth import GitHubSignedBody
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.errors import Invalid
from shepherd.services.github import record_github_deployment

router = APIRouter(prefix="/webhooks")


@router.post("/github")
async def github(
    body: GitHubSignedBody, request: Request, shepherd: ShepherdDep, response: Response
) -> dict[str, Any]:
    event = request.headers.get("x-github-event", "")
    if event == "ping":
        return {"ok": True, "event": "ping"}
    if event not in ("deployment", "deployment_status"):
        response.status_code = 202
        return {"ok": True, "ignored": f"event {event or '(none)'} is not used yet"}
    try:
        signal = parse_deployment_event(event, body)
    except PayloadError as exc:
        raise Invalid(str(exc), details=exc.details) from None
    if event == "deployment_status" and signal.status is None:
        return {"ok": True, "ignored": f"deployment state {signal.status_state!r} is not a rollout event"}
    deploy = await run_in_threadpool(
        record_github_deployment,
        signal,
        uow_factory=shepherd.uow_factory,
        config=shepherd.config,
        clock=shepherd.clock,
    )
    return {"ok": True, "deploy_id": deploy.id, "status": deploy.status.value}
