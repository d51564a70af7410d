"""Use cases: a button pressed in a Slack message, each press in one unit of work.

Who pressed (their configured name), what the press did and the ephemeral answer Slack shows
them are written together: a press that fails halfway leaves no ack, no rollback and no answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from shepherd.domain.alerts import Rollback, RollbackVia
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.notify import AckKind
from shepherd.services.acks import add_press
from shepherd.services.errors import Invalid
from shepherd.services.identity import display_name
from shepherd.services.ports import Clock, UnitOfWorkFactory
from shepherd.services.rollback import Requester, ask_for_rollback
from shepherd.services.slack_replies import reply_later


@dataclass(frozen=True)
class Presser:
    """The Slack user behind a press, and where Slack takes an answer for them."""

    slack_user: str
    name: str  # Slack's name for them, used when shepherd.yaml has none
    response_url: str | None = None


@dataclass(frozen=True)
class RollbackAnswer:
    ok: bool
    message: str
    rollback: Rollback | None = None
    created: bool = False


def press_ack(
    *,
    deploy_id: int,
    kind: AckKind,
    presser: Presser,
    uow_factory: UnitOfWorkFactory,
    config: ShepherdConfig,
    clock: Clock,
) -> bool:
    """ "I'm watching" or "Something's wrong": True when this person had not pressed it yet."""
    with uow_factory() as uow:
        name = display_name(uow, config=config, slack_user=presser.slack_user, fallback=presser.name)
        return add_press(
            uow, deploy_id=deploy_id, kind=kind, slack_user=presser.slack_user, name=name, now=clock()
        )


def press_rollback(
    *,
    deploy_id: int,
    presser: Presser,
    uow_factory: UnitOfWorkFactory,
    config: ShepherdConfig,
    clock: Clock,
) -> RollbackAnswer:
    """The press passed Slack's confirmation dialog; whether this person may is checked here."""
    now = clock()
    with uow_factory() as uow:
        name = display_name(uow, config=config, slack_user=presser.slack_user, fallback=presser.name)
        requester = Requester(via=RollbackVia.SLACK, name=name, slack_user=presser.slack_user)
        try:
            asked = ask_for_rollback(uow, deploy_id=deploy_id, requester=requester, config=config, now=now)
            problem = asked.refusal
        except Invalid as exc:  # raised before anything was written
            asked, problem = None, exc.message
        if asked is None or asked.rollback is None:
            reply_later(uow, presser.response_url, f"↩ Not rolled back: {problem}", now=now)
            return RollbackAnswer(False, problem or "")
        answer = _answer(asked.rollback, created=asked.created, name=name)
        reply_later(uow, presser.response_url, _reply(asked.rollback, created=asked.created), now=now)
        return answer


def _answer(rollback: Rollback, *, created: bool, name: str) -> RollbackAnswer:
    if created:
        message = f"rollback #{rollback.id} requested by {name}: it runs now"
    else:
        message = f"rollback #{rollback.id} is already {rollback.state.value}: not starting another"
    return RollbackAnswer(True, message, rollback, created)


def _reply(rollback: Rollback, *, created: bool) -> str:
    if created:
        return f"↩ Rollback #{rollback.id} started; its progress and output follow in the deploy's thread."
    return f"↩ Rollback #{rollback.id} is already {rollback.state.value}: not starting another."
