"""Inbound webhooks: GitHub deployments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from shepherd.adapters.inbound.github import PayloadError, parse_deployment_event, verify_signature
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.errors import Invalid, Unauthorized
from shepherd.services.github import record_github_deployment

router = APIRouter(prefix="/webhooks")


@router.post("/github")
async def github(request: Request, shepherd: ShepherdDep, response: Response) -> dict[str, Any]:
    body = await request.body()
    secret = shepherd.settings.github_webhook_secret
    if secret is None:
        if not request.app.state.insecure_dev:
            raise Unauthorized("GitHub webhooks are disabled: set SHEPHERD_GITHUB_WEBHOOK_SECRET")
    elif not verify_signature(
        secret.get_secret_value().encode(), body, request.headers.get("x-hub-signature-256")
    ):
        raise Unauthorized("X-Hub-Signature-256 is missing or does not match the webhook secret")
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
