"""The `ops_notice` job: when Slack or PagerDuty answers again, the ops channel hears of it.

How long the destination was down and how many jobs were held, so whoever looks after Shepherd
knows that the messages arriving late were held, not lost. Posted only when
SHEPHERD_SLACK_OPS_CHANNEL is set; a refusal (channel gone) is logged, never a dead job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shepherd.domain.circuits import Recovery
from shepherd.domain.errors import NotifierRejected
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.domain.notify import Message, Section, Tone, text
from shepherd.domain.text import duration, plural
from shepherd.services.circuits import RecoveryListener
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.ports import Notifier, UnitOfWork

log = logging.getLogger("shepherd.ops_notice")


@dataclass(frozen=True)
class OpsNoticeDeps:
    notifier: Notifier
    channel: str | None  # SHEPHERD_SLACK_OPS_CHANNEL


def recovery_message(recovery: Recovery) -> Message:
    down = duration(recovery.seconds / 60)
    since = recovery.down_since.strftime("%H:%M UTC")
    said = text(
        f"{recovery.destination} did not answer from {since} for {down}. Shepherd held "
        f"{plural(recovery.held, 'job')} meanwhile and is sending them now, oldest first; none was lost."
    )
    return Message(
        title=text(f"✅ {recovery.destination} is back after {down}"),
        text=said,
        tone=Tone.SUCCESS,
        sections=(Section(None, (said,)),),
    )


def notice_job(recovery: Recovery) -> NewJob:
    return NewJob(
        kind=JobKind.OPS_NOTICE,
        payload={
            "destination": recovery.destination,
            "down_since": recovery.down_since.isoformat(),
            "back_at": recovery.back_at.isoformat(),
            "held": recovery.held,
        },
        dedupe_key=f"ops:{recovery.destination}:{recovery.down_since.isoformat()}",
        max_attempts=5,
    )


def announce(uow: UnitOfWork, recovery: Recovery) -> None:
    """A `RecoveryListener`: queue the notice in the transaction that closes the circuit."""
    uow.jobs.enqueue(notice_job(recovery), now=recovery.back_at)


def listener(channel: str | None) -> RecoveryListener | None:
    return announce if channel else None


def post_notice(ctx: JobContext, deps: OpsNoticeDeps) -> None:
    if not deps.channel:  # the setting was removed since the notice was queued
        return
    payload = ctx.payload
    recovery = Recovery(
        destination=str(payload["destination"]),
        down_since=datetime.fromisoformat(payload["down_since"]),
        back_at=datetime.fromisoformat(payload["back_at"]),
        held=int(payload["held"]),
    )
    key = f"ops:{recovery.destination}:{payload['down_since']}"
    try:
        since = ctx.job.created_at - timedelta(minutes=1)
        if ctx.job.attempts > 1 and deps.notifier.find_posted(target=deps.channel, key=key, since=since):
            return
        deps.notifier.post(target=deps.channel, message=recovery_message(recovery), key=key)
    except NotifierRejected as exc:
        log.warning("the ops channel %s refused the notice (%s)", deps.channel, exc.code)


def register_jobs(registry: HandlerRegistry, deps: OpsNoticeDeps) -> None:
    registry.register(JobKind.OPS_NOTICE, post_notice, deps)
