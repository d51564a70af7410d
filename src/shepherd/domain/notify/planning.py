"""Which messages a deploy should have right now. Pure.

The sync job compares this plan with what was already sent: it posts what is missing and
updates what changed, so any number of runs converge on the same messages, none twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shepherd.domain.deploys import AttributionState, DeployStatus
from shepherd.domain.notify import compose
from shepherd.domain.notify.health import verdict_message
from shepherd.domain.notify.messages import Message
from shepherd.domain.notify.pages import page_message, rollback_reply
from shepherd.domain.notify.records import Ack, AckKind, Kind
from shepherd.domain.notify.view import DeployView, Recipient
from shepherd.domain.watch import Outcome

MAIN = "channel"


@dataclass(frozen=True)
class Desired:
    key: str
    kind: Kind
    target: str
    message: Message
    thread_key: str | None = None
    recipient: Recipient | None = None
    chart: bool = False  # attach a chart of the checks (old vs new)


@dataclass(frozen=True)
class Plan:
    messages: tuple[Desired, ...]
    wake_at: datetime | None  # when the plan changes by itself (reminder, escalation)


def watching(view: DeployView) -> list[Ack]:
    return [a for a in view.acks if a.kind is AckKind.WATCHING]


def plan(view: DeployView, now: datetime, *, posted: Mapping[str, datetime] | None = None) -> Plan:
    """What the deploy's messages should say now. `posted`: messages already in Slack, and when."""
    posted = posted or {}
    if view.deploy.attribution_state is AttributionState.PENDING:
        return Plan((), None)  # the sync after attribution says it all at once
    out = _channels(view, now)
    has_changes = bool(view.deploy.total_changes) and view.deploy.attribution_state is AttributionState.DONE
    if has_changes:
        out += _direct_messages(view, now)
    has_thread = bool(out) and out[0].key == MAIN
    if has_thread:
        out += _thread_replies(view)
    wake_at = None
    out += _pages(view, now, has_thread, posted)
    out += _rollbacks(view, has_thread)
    if has_changes:
        out += _verdicts(view, has_thread)
        timed, wake_at = _timed(view, now, has_thread)
        out += [d for d in timed if d.key in posted or not _overtaken(view)]
    return Plan(tuple(out), wake_at)


def _pages(
    view: DeployView, now: datetime, has_thread: bool, posted: Mapping[str, datetime]
) -> list[Desired]:
    """Each page: a DM to every author and merger of the suspect deploy, and the channel thread."""
    out = []
    chart = any(c.result.outcome is Outcome.FAIL for c in view.checks)
    for pv in view.pages:
        if has_thread:
            key = f"page:{pv.id}:thread"
            message = page_message(view, pv, None, now, posted_at=posted.get(key))
            channel = view.service.slack_channel or ""
            out.append(Desired(key, Kind.PAGE, channel, message, thread_key=MAIN, chart=chart))
        for r in view.people:
            if r.slack_user:
                key = f"page:{pv.id}:{r.key}"
                message = page_message(view, pv, r, now, posted_at=posted.get(key))
                out.append(Desired(key, Kind.PAGE, r.slack_user, message, recipient=r, chart=chart))
    return out


def _rollbacks(view: DeployView, has_thread: bool) -> list[Desired]:
    if not has_thread:
        return []
    channel = view.service.slack_channel or ""
    return [
        Desired(f"rollback:{r.id}", Kind.ROLLBACK, channel, rollback_reply(view, r), thread_key=MAIN)
        for r in view.rollbacks
    ]


def _verdicts(view: DeployView, has_thread: bool) -> list[Desired]:
    """A failed (or unjudgeable) watch: each author and the channel thread hear it, with a chart."""
    message = verdict_message(view)
    if message is None or view.watch is None:
        return []
    name = view.watch.verdict.value
    out = []
    if has_thread:
        out.append(
            Desired(
                f"{name}:thread",
                Kind.VERDICT,
                view.service.slack_channel or "",
                message,
                thread_key=MAIN,
                chart=name == "fail",
            )
        )
    for r in view.people:
        if r.slack_user and r.is_author:
            out.append(
                Desired(
                    f"{name}:{r.key}", Kind.VERDICT, r.slack_user, message, recipient=r, chart=name == "fail"
                )
            )
    return out


def _channels(view: DeployView, now: datetime) -> list[Desired]:
    summary = compose.channel_summary(view, now)
    out = []
    if view.service.slack_channel:
        out.append(Desired(MAIN, Kind.CHANNEL, view.service.slack_channel, summary))
    matched = {name for change in view.changes for name in change.path_rules}
    for rule in view.service.path_rules:
        channel = rule.slack_channel
        if rule.name in matched and channel and all(d.target != channel for d in out):
            out.append(Desired(f"channel:{channel}", Kind.CHANNEL, channel, summary))
    return out


def _direct_messages(view: DeployView, now: datetime) -> list[Desired]:
    out = []
    for recipient in view.people:
        if recipient.slack_user and recipient.is_author:
            message = compose.author_dm(view, recipient, now)
            out.append(
                Desired(
                    f"dm:{recipient.key}", Kind.AUTHOR_DM, recipient.slack_user, message, recipient=recipient
                )
            )
    for recipient in view.people:
        if recipient.slack_user and not recipient.is_author:
            message = compose.merger_dm(view, recipient, now)
            out.append(
                Desired(
                    f"merged:{recipient.key}",
                    Kind.MERGER_DM,
                    recipient.slack_user,
                    message,
                    recipient=recipient,
                )
            )
    return out


def _thread_replies(view: DeployView) -> list[Desired]:
    channel = view.service.slack_channel or ""
    out = []
    for event in view.events:
        if event.applied and event.status is not DeployStatus.STARTED:
            message = compose.stage_reply(view, event)
            out.append(Desired(f"stage:{event.id}", Kind.STAGE, channel, message, thread_key=MAIN))
    for ack in view.acks:
        if ack.kind is AckKind.WRONG:
            message = compose.something_wrong(view, ack.name)
            out.append(Desired(f"wrong:{ack.slack_user}", Kind.WRONG, channel, message, thread_key=MAIN))
    return out


def _timed(view: DeployView, now: datetime, has_thread: bool) -> tuple[list[Desired], datetime | None]:
    """Reminders to authors, then escalation to owners, while nobody watches a production deploy.

    What fell due before the first "I'm watching" stays in the plan, so an escalation that went
    out is updated to show who picked it up.
    """
    if not view.in_production or view.deploy.status in (DeployStatus.FAILED, DeployStatus.ROLLED_BACK):
        return [], None
    started = view.deploy.started_at
    remind_at = started + timedelta(minutes=view.policy.ack_minutes)
    escalate_at = started + timedelta(minutes=view.policy.escalate_minutes)
    acks = watching(view)
    until = min(a.acked_at for a in acks) if acks else now
    out: list[Desired] = []
    if until >= remind_at:
        for r in view.people:
            if r.slack_user and r.is_author:
                message = compose.reminder(view, r)
                out.append(Desired(f"reminder:{r.key}", Kind.REMINDER, r.slack_user, message, recipient=r))
    if until >= escalate_at:
        out += _escalations(view)
    if acks or now >= escalate_at:
        return out, None
    return out, remind_at if now < remind_at else escalate_at


def _overtaken(view: DeployView) -> bool:
    """A reminder or escalation not yet sent is news no more once somebody watches.

    One sent stays (it is updated to show who picked it up); one that fell due while Slack was
    down is dropped, so an outage does not end in a burst of stale nagging. (A deploy that
    failed or was rolled back has none at all: see `_timed`.)
    """
    return bool(watching(view))


def _escalations(view: DeployView) -> list[Desired]:
    message = compose.escalation(view)
    if view.service.slack_channel:
        return [Desired("escalation", Kind.ESCALATION, view.service.slack_channel, message)]
    return [
        Desired(f"escalation:{owner.name}", Kind.ESCALATION, owner.slack_user, message)
        for owner in view.owners
        if owner.slack_user
    ]
