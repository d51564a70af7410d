"""Alerts in: Alertmanager, Grafana, Datadog and a generic JSON, answered in milliseconds.

Auth: `Authorization: Bearer <SHEPHERD_API_TOKEN or SHEPHERD_ALERT_WEBHOOK_SECRET>`, or the
secret as the last path segment (`/webhooks/datadog/<secret>`) for tools that cannot send headers.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from shepherd.adapters.inbound.alerts import parse_alerts
from shepherd.adapters.inbound.errors import PayloadError
from shepherd.bootstrap import Shepherd
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.alerts import receive_alerts
from shepherd.services.errors import Invalid, Unauthorized

router = APIRouter(prefix="/webhooks")
SOURCES = ("alertmanager", "grafana", "datadog", "generic")


def _secrets(shepherd: Shepherd) -> list[str]:
    given = [shepherd.settings.api_token, shepherd.settings.alert_webhook_secret]
    return [s.get_secret_value() for s in given if s is not None]


def _authorize(request: Request, shepherd: Shepherd, path_secret: str | None) -> None:
    secrets = _secrets(shepherd)
    if not secrets:
        if request.app.state.insecure_dev:
            return
        raise Unauthorized(
            "alert webhooks are disabled: set SHEPHERD_ALERT_WEBHOOK_SECRET or SHEPHERD_API_TOKEN"
        )
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    offered = (
        [path_secret] if path_secret is not None else [bearer.strip()] if scheme.lower() == "bearer" else []
    )
    if not any(hmac.compare_digest(o, s) for o in offered for s in secrets):
        where = "the secret in the URL" if path_secret is not None else "the bearer token"
        raise Unauthorized(f"{where} does not match SHEPHERD_ALERT_WEBHOOK_SECRET or SHEPHERD_API_TOKEN")


async def _receive(
    source: str, request: Request, shepherd: Shepherd, path_secret: str | None
) -> dict[str, Any]:
    _authorize(request, shepherd, path_secret)
    body = await request.body()
    known = frozenset(s.name for s in shepherd.config.services)
    try:
        alerts = parse_alerts(source, body, shepherd.config.alerts.mapping(known))
    except PayloadError as exc:
        raise Invalid(f"{source} webhook: {exc}", details=exc.details) from None
    received = await run_in_threadpool(
        receive_alerts, alerts, uow_factory=shepherd.uow_factory, clock=shepherd.clock
    )
    return {"ok": True, **received.as_json()}


def _routes(source: str) -> None:
    async def with_header(request: Request, shepherd: ShepherdDep) -> dict[str, Any]:
        return await _receive(source, request, shepherd, None)

    async def with_path_secret(secret: str, request: Request, shepherd: ShepherdDep) -> dict[str, Any]:
        return await _receive(source, request, shepherd, secret)

    router.add_api_route(f"/{source}", with_header, methods=["POST"], name=f"{source}_alerts")
    router.add_api_route(
        f"/{source}/{{secret}}", with_path_secret, methods=["POST"], name=f"{source}_alerts_secret"
    )


for _source in SOURCES:
    _routes(_source)
