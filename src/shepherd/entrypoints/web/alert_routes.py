"""Alerts in: Alertmanager, Grafana, Datadog and a generic JSON, answered in milliseconds.

Auth: `Authorization: Bearer <SHEPHERD_API_TOKEN or SHEPHERD_ALERT_WEBHOOK_SECRET>`, or the
secret as the last path segment (`/webhooks/datadog/<secret>`) for tools that cannot send headers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from shepherd.adapters.inbound.alerts import parse_alerts
from shepherd.adapters.inbound.errors import PayloadError
from shepherd.bootstrap import Shepherd
from shepherd.entrypoints.web.auth import AlertBearerAccess, AlertPathSecretAccess
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.alerts import receive_alerts
from shepherd.services.errors import Invalid

router = APIRouter(prefix="/webhooks")
SOURCES = ("alertmanager", "grafana", "datadog", "generic")


async def _receive(source: str, request: Request, shepherd: Shepherd) -> dict[str, Any]:
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
    async def with_header(
        _auth: AlertBearerAccess, request: Request, shepherd: ShepherdDep
    ) -> dict[str, Any]:
        return await _receive(source, request, shepherd)

    async def with_path_secret(
        _auth: AlertPathSecretAccess, request: Request, shepherd: ShepherdDep
    ) -> dict[str, Any]:
        return await _receive(source, request, shepherd)

    router.add_api_route(f"/{source}", with_header, methods=["POST"], name=f"{source}_alerts")
    router.add_api_route(
        f"/{source}/{{secret}}", with_path_secret, methods=["POST"], name=f"{source}_alerts_secret"
    )


for _source in SOURCES:
    _routes(_source)
