"""Use case: a person presses "I'm watching" or "Something's wrong"."""

from __future__ import annotations

from datetime import datetime

from shepherd.domain.notify import Ack, AckKind
from shepherd.services.errors import NotFound
from shepherd.services.notify import sync_job
from shepherd.services.ports import Clock, UnitOfWork, UnitOfWorkFactory


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
    with uow_factory() as uow:
        return add_press(uow, deploy_id=deploy_id, kind=kind, slack_user=slack_user, name=name, now=clock())


def add_press(
    uow: UnitOfWork, *, deploy_id: int, kind: AckKind, slack_user: str, name: str, now: datetime
) -> bool:
    """Inside the caller's unit of work: True when this person had not pressed this button yet."""
    if uow.deploys.get(deploy_id) is None:
        raise NotFound(f"no deploy with id {deploy_id}")
    added = uow.notifications.add_ack(
        Ack(deploy_id=deploy_id, slack_user=slack_user, name=name, acked_at=now, kind=kind)
    )
    if added:
        uow.jobs.enqueue(sync_job(deploy_id), now=now)
    return added
