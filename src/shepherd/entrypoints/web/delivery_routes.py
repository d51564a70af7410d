"""`GET /api/v1/delivery`: the five delivery keys for a service, a team or everything."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from shepherd.entrypoints.web.auth import ReadAccess
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.queries.dora import delivery_report, question

router = APIRouter(prefix="/api/v1")


@router.get("/delivery")
def delivery(
    _read: ReadAccess,
    shepherd: ShepherdDep,
    service: str | None = Query(default=None, max_length=63),
    team: str | None = Query(default=None, max_length=100),
    environment: str | None = Query(default=None, max_length=100, description="default: production"),
    since: str | None = Query(
        default=None, max_length=40, description="date or ISO time; default 30 days ago"
    ),
    until: str | None = Query(
        default=None, max_length=40, description="date or ISO time, excluded; default now"
    ),
    group_by: Literal["week", "month"] | None = None,
) -> dict[str, Any]:
    """Deployment frequency, change lead time, change failure rate, recovery time and rework rate,
    exactly as docs/delivery.md defines them, with the previous period of the same length."""
    scope, start, end = question(
        shepherd.config,
        service=service,
        team=team,
        environment=environment,
        since=since,
        until=until,
        now=shepherd.clock(),
    )
    return delivery_report(
        scope=scope,
        since=start,
        until=end,
        uow_factory=shepherd.uow_factory,
        clock=shepherd.clock,
        group_by=group_by,
    )
