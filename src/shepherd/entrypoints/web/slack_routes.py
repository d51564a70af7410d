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
from shepherd.adapters.slack.interactions import ButtonPress, parse_interaction
from shepherd.bootstrap import Shepherd
from shepherd.domain.ids import parse_id
from shepherd.domain.notify import ACK, ROLLBACK, WRONG, AckKind
from shepherd.entrypoints.web.auth import SlackSignedBody
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.entrypoints.web.rollback_routes import rollback_view
from shepherd.services.errors import Invalid
from shepherd.services.slack_presses import Presser, press_ack, press_rollback

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
    deploy_id = parse_id(press.value)
    if deploy_id is None:
        raise Invalid(f"button value must be a deploy id, got {press.value[:40]!r}")
    return deploy_id


def _presser(press: ButtonPress) -> Presser:
    return Presser(slack_user=press.user_id, name=press.user_name, response_url=press.response_url)


def _roll_back(shepherd: Shepherd, press: ButtonPress) -> dict[str, Any]:
    answer = press_rollback(
        deploy_id=_deploy_id(press),
        presser=_presser(press),
        uow_factory=shepherd.uow_factory,
        config=shepherd.config,
        clock=shepherd.clock,
    )
    if not answer.ok or answer.rollback is None:
        return {"ok": False, "error": answer.message}
    view = rollback_view(answer.rollback)
    return {"ok": True, "rollback": view, "created": answer.created, "message": answer.message}


def _record(shepherd: Shepherd, press: ButtonPress) -> bool:
    return press_ack(
        deploy_id=_deploy_id(press),
        kind=KINDS[press.action_id],
        presser=_presser(press),
        uow_factory=shepherd.uow_factory,
        config=shepherd.config,
        clock=shepherd.clock,
    )
