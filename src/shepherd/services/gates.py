"""Use cases of progressive-delivery gates that write: Flagger's events on the deploy's timeline."""

from __future__ import annotations

from typing import Any

from shepherd.domain.watch import TimelineEntry
from shepherd.services.ports import Clock, UnitOfWorkFactory
from shepherd.services.queries.verdicts import latest_deploy


def note_flagger_event(
    *,
    service: str,
    environment: str,
    version: str | None,
    text: str,
    data: dict[str, Any],
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> int | None:
    """Put a Flagger event on the timeline of the newest matching deploy; its id, if any.

    With no such deploy the entry is kept anyway (without a deploy): the canary's story
    should not lose an event because the deploy was recorded late.
    """
    with uow_factory() as uow:
        deploy = latest_deploy(uow, service=service, environment=environment, version=version)
        deploy_id = deploy.id if deploy else None
        uow.watches.add_timeline(
            TimelineEntry(at=clock(), kind="flagger", text=text, deploy_id=deploy_id, data=data)
        )
    return deploy_id
