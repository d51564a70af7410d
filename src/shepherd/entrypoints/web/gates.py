"""Gates for progressive delivery: Argo Rollouts' web metric and Flagger's webhooks."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from shepherd.domain.watch import Verdict
from shepherd.entrypoints.web.auth import FlaggerAccess, ReadAccess
from shepherd.entrypoints.web.deps import Id, ShepherdDep
from shepherd.services.errors import Invalid
from shepherd.services.gates import note_flagger_event
from shepherd.services.queries import verdicts
from shepherd.services.queries.verdicts import VerdictView

router = APIRouter()
GATE_HOOKS = frozenset(
    {"confirm-rollout", "pre-rollout", "rollout", "confirm-traffic-increase", "confirm-promotion"}
)


@router.get("/api/v1/deploys/{deploy_id}/verdict")
def deploy_verdict(_read: ReadAccess, deploy_id: int, shepherd: ShepherdDep) -> dict[str, Any]:
    """Always 200, so Argo Rollouts reads the verdict instead of counting an error."""
    return verdicts.deploy_verdict(uow_factory=shepherd.uow_factory, deploy_id=deploy_id).as_json()


@router.get("/api/v1/deploys/{deploy_id}/series")
def deploy_series(_read: ReadAccess, deploy_id: Id, shepherd: ShepherdDep) -> dict[str, Any]:
    """The points each check was last judged on: old (or before) and new (or after)."""
    return verdicts.deploy_series(uow_factory=shepherd.uow_factory, deploy_id=deploy_id)


@router.get("/api/v1/verdict")
def latest_verdict(
    _read: ReadAccess,
    shepherd: ShepherdDep,
    service: str,
    environment: str = "production",
    version: str | None = None,
) -> dict[str, Any]:
    """The verdict of the newest deploy of a service (and version): for tools without the deploy id."""
    view = verdicts.latest_verdict(
        uow_factory=shepherd.uow_factory, service=service, environment=environment, version=version
    )
    return view.as_json()


@router.post("/webhooks/flagger/{hook}")
async def flagger(_auth: FlaggerAccess, hook: str, request: Request, shepherd: ShepherdDep) -> JSONResponse:
    payload = _payload(await request.body())
    raw = payload.get("metadata")
    metadata: dict[str, Any] = raw if isinstance(raw, dict) else {}
    service = str(metadata.get("service") or payload.get("name") or "")
    environment = str(metadata.get("environment") or "production")
    version = metadata.get("version")
    if hook == "event":
        deploy_id = await run_in_threadpool(
            note_flagger_event,
            service=service,
            environment=environment,
            version=version,
            text=str(metadata.get("eventMessage") or payload.get("phase") or "flagger event"),
            data={"canary": f"{payload.get('namespace')}/{payload.get('name')}", **metadata},
            uow_factory=shepherd.uow_factory,
            clock=shepherd.clock,
        )
        return JSONResponse({"ok": True, "deploy_id": deploy_id})
    view = await run_in_threadpool(
        verdicts.latest_verdict,
        uow_factory=shepherd.uow_factory,
        service=service,
        environment=environment,
        version=version,
    )
    return _decide(hook, view, service, environment)


def _decide(hook: str, view: VerdictView, service: str, environment: str) -> JSONResponse:
    body = {"hook": hook, **view.as_json()}
    if hook == "rollback":  # 2xx tells Flagger to roll back now
        return JSONResponse(body, status_code=200 if view.verdict is Verdict.FAIL else 409)
    if hook not in GATE_HOOKS:
        raise Invalid(
            f"unknown Flagger hook {hook!r}", details={"known": sorted(GATE_HOOKS | {"rollback", "event"})}
        )
    if view.deploy is None:
        body["reason"] = (
            f"Shepherd has no deploy of {service} to {environment}: record it first (POST /api/v1/deploys)"
        )
        return JSONResponse(body, status_code=409)
    proceed = view.verdict in (Verdict.PASS, Verdict.RUNNING)
    return JSONResponse(body, status_code=200 if proceed else 409)


def _payload(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Invalid("body must be a JSON object (Flagger's webhook payload)")
    return data
