"""Use case: a person presses "I'm watching" or "Something's wrong"."""

from __future__ import annotations

from shepherd.domain.notify import Ack, AckKind
from shepherd.services.errors import NotFound
from shepherd.services.notify import sync_job
from shepherd.services.ports import Clock, UnitOfWorkFactory


def record_button(
    *,
    deploy_id: int,
    kind: AckKind,
    slack_user: str,
    name: str,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
) -> bool:
    """Record the press (once per person and button); every message of the deploy then shows it."""
    now = clock()
    with uow_factory() as uow:
        if uow.deploys.get(deploy_id) is None:
            raise NotFound(f"no deploy with id {deploy_id}")
        added = uow.notifications.add_ack(
            Ack(deploy_id=deploy_id, slack_user=slack_user, name=name, acked_at=now, kind=kind)
        )
        if added:
            uow.jobs.enqueue(sync_job(deploy_id), now=now)
        uow.commit()
    return added
