"""`POST /slack/interactions`: the buttons on Shepherd's Slack messages."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from shepherd.adapters.inbound.github import PayloadError
from shepherd.adapters.inbound.slack import ButtonPress, parse_interaction, verify_slack_signature
from shepherd.bootstrap import Shepherd
from shepherd.domain.compose import ACK, WRONG
from shepherd.domain.notifications import AckKind
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.acks import record_button
from shepherd.services.errors import Invalid, Unauthorized
from shepherd.services.identity import display_name

router = APIRouter()
KINDS = {ACK: AckKind.WATCHING, WRONG: AckKind.WRONG}


@router.post("/slack/interactions")
async def interactions(request: Request, shepherd: ShepherdDep) -> dict[str, Any]:
    body = await request.body()
    secret = shepherd.settings.slack_signing_secret
    if secret is None:
        if not request.app.state.insecure_dev:
            raise Unauthorized("Slack interactions are disabled: set SHEPHERD_SLACK_SIGNING_SECRET")
    else:
        problem = verify_slack_signature(
            secret.get_secret_value().encode(),
            timestamp=request.headers.get("x-slack-request-timestamp"),
            body=body,
            signature=request.headers.get("x-slack-signature"),
            now=time.time(),
        )
        if problem:
            raise Unauthorized(problem)
    try:
        presses = parse_interaction(body)
    except PayloadError as exc:
        raise Invalid(str(exc), details=exc.details) from None
    recorded = []
    for press in presses:
        if press.action_id in KINDS:
            recorded.append(await run_in_threadpool(_record, shepherd, press))
    return {"ok": True, "recorded": recorded}


def _record(shepherd: Shepherd, press: ButtonPress) -> bool:
    if not press.value.isdigit():
        raise Invalid(f"button value must be a deploy id, got {press.value!r}")
    name = display_name(shepherd.config, shepherd.uow_factory, press.user_id, press.user_name)
    return record_button(
        deploy_id=int(press.value),
        kind=KINDS[press.action_id],
        slack_user=press.user_id,
        name=name,
        uow_factory=shepherd.uow_factory,
        clock=shepherd.clock,
    )
