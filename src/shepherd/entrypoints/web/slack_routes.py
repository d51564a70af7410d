"""`POST /slack/interactions`: the buttons on Shepherd's Slack messages.

Slack shows nothing of a 200's body for button presses; a refused rollback press is answered
200 with an `error` (a non-200 only makes Slack show a warning triangle), noted on the deploy's
timeline, and told to the presser alone through the press's `response_url` (a `slack_reply` job).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from shepherd.adapters.inbound.github import PayloadError
from shepherd.adapters.inbound.slack import ButtonPress, parse_interaction
from shepherd.bootstrap import Shepherd
from shepherd.domain.alerts import RollbackVia
from shepherd.domain.notify import ACK, ROLLBACK, WRONG, AckKind
from shepherd.entrypoints.web.auth import SlackSignedBody
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.entrypoints.web.rollback_routes import rollback_view
from shepherd.services.acks import record_button
from shepherd.services.errors import Forbidden, Invalid
from shepherd.services.identity import display_name
from shepherd.services.rollback import Requester, request_rollback
from shepherd.services.slack_replies import reply_later

router = APIRouter()
KINDS = {ACK: AckKind.WATCHING, WRONG: AckKind.WRONG}


@router.post("/slack/interactions")
async def interactions(body: SlackSignedBody, shepherd: ShepherdDep) -> dict[str, Any]:
    try:
        presses = parse_interaction(body)
    except PayloadError as exc:
        raise Invalid(str(exc), details=exc.details) from None
    recorded = []
    answer: dict[str, Any] = {"ok": True}
    for press in presses:
        if press.action_id in KINDS:
            recorded.append(await run_in_threadpool(_record, shepherd, press))
        elif press.action_id == ROLLBACK:
            answer = await run_in_threadpool(_roll_back, shepherd, press)
    return {**answer, "recorded": recorded}


def _deploy_id(press: ButtonPress) -> int:
    if not press.value.isdigit():
        raise Invalid(f"button value must be a deploy id, got {press.value!r}")
    return int(press.value)


def _roll_back(shepherd: Shepherd, press: ButtonPress) -> dict[str, Any]:
    """The press passed Slack's confirmation dialog; permission is checked here."""
    deploy_id = _deploy_id(press)
    name = display_name(shepherd.config, shepherd.uow_factory, press.user_id, press.user_name)
    try:
        rollback, created = request_rollback(
            deploy_id=deploy_id,
            requester=Requester(via=RollbackVia.SLACK, name=name, slack_user=press.user_id),
            uow_factory=shepherd.uow_factory,
            config=shepherd.config,
            clock=shepherd.clock,
        )
    except (Forbidden, Invalid) as exc:
        _tell(shepherd, press, f"↩ Not rolled back: {exc.message}")
        return {"ok": False, "error": exc.message}
    if created:
        message = f"rollback #{rollback.id} requested by {name}: it runs now"
        _tell(
            shepherd,
            press,
            f"↩ Rollback #{rollback.id} started; its progress and output follow in the deploy's thread.",
        )
    else:
        message = f"rollback #{rollback.id} is already {rollback.state.value}: not starting another"
        _tell(
            shepherd,
            press,
            f"↩ Rollback #{rollback.id} is already {rollback.state.value}: not starting another.",
        )
    return {"ok": True, "rollback": rollback_view(rollback), "created": created, "message": message}


def _tell(shepherd: Shepherd, press: ButtonPress, text: str) -> None:
    reply_later(press.response_url, text, uow_factory=shepherd.uow_factory, clock=shepherd.clock)


def _record(shepherd: Shepherd, press: ButtonPress) -> bool:
    deploy_id = _deploy_id(press)
    name = display_name(shepherd.config, shepherd.uow_factory, press.user_id, press.user_name)
    return record_button(
        deploy_id=deploy_id,
        kind=KINDS[press.action_id],
        slack_user=press.user_id,
        name=name,
        uow_factory=shepherd.uow_factory,
        clock=shepherd.clock,
    )
