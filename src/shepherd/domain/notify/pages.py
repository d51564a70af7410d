"""What a page says: the alert, why this deploy is suspected, the evidence, what to do. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from shepherd.domain.alerts import PageState, Rollback, RollbackState, StoredAlert
from shepherd.domain.deploys import Role
from shepherd.domain.notify.compose import ROLLBACK, ack_footer, buttons, watch_lines
from shepherd.domain.notify.messages import Button, Confirm, Message, Section, Tone
from shepherd.domain.notify.spans import CodeBlock, Field, Line, Text, join, link, strong, text
from shepherd.domain.notify.view import DeployView, PageView, Recipient
from shepherd.domain.watch import Outcome

MAX_ALERTS = 10  # alerts listed in a page before "+N more"


LATE_AFTER = timedelta(minutes=2)  # a page reaching Slack later than this says when it was raised


def page_message(
    view: DeployView,
    pv: PageView,
    recipient: Recipient | None,
    now: datetime,
    *,
    posted_at: datetime | None = None,
) -> Message:
    """`posted_at`: when Slack got (or is getting) this message; late pages say when they were raised."""
    firing = [a for a in pv.alerts if a.alert.firing]
    names = ", ".join(sorted({a.alert.name for a in (firing or list(pv.alerts))})) or "an alert"
    where = f"{pv.page.service}"
    resolved = pv.page.state is PageState.RESOLVED
    lead = "✅ Resolved: " if resolved else "🚨 "
    yours = _yours(recipient)
    title = f"{lead}{names} on {where} — {yours} is the likely cause"
    return Message(
        title=text(title[:150]),
        text=text(f"{names} firing on {where}; suspected deploy {view.where} {view.deploy.sha[:7]}"),
        tone=Tone.SUCCESS if resolved else Tone.DANGER,
        status=_status(pv, firing, late=(posted_at or now) - pv.page.opened_at > LATE_AFTER),
        sections=(
            Section(text("Alerts"), _alert_lines(pv)),
            Section(text("Why this deploy"), tuple(text(r) for r in pv.page.reasons)),
            *_evidence(view),
            Section(text("What to do"), watch_lines(view, list(view.changes), now)),
            *_rollback_sections(view),
        ),
        buttons=()
        if resolved
        else (*buttons(view)[:1], rollback_button(view))
        if view.service.rollback
        else (),
        footer=ack_footer(view),
    )


def _yours(recipient: Recipient | None) -> str:
    if recipient is None:
        return "this deploy"
    if recipient.is_author:
        return "your change"
    return "a change you merged" if Role.MERGER in recipient.person.roles else "this deploy"


def _status(pv: PageView, firing: Sequence[StoredAlert], *, late: bool) -> Text:
    if pv.page.state is PageState.RESOLVED and pv.page.resolved_at:
        said = text(f"All alerts resolved at {pv.page.resolved_at:%H:%M} UTC.")
    else:
        said = text(f"{len(firing)} of {len(pv.alerts)} alerts firing.")
    if late:  # Slack could not carry it when it was raised (PagerDuty did, when configured)
        raised = f"⏰ Late: raised at {pv.page.opened_at:%H:%M} UTC, while Slack was unreachable. "
        return text(raised, said)
    return said


def _alert_lines(pv: PageView) -> tuple[Line, ...]:
    lines: list[Line] = []
    for stored in pv.alerts[:MAX_ALERTS]:
        a = stored.alert
        state = "🔴 firing" if a.firing else "🟢 resolved"
        links = join((link(x.url, x.kind) for x in a.links if x.url), " · ")
        line = text(f"{state} ", strong(a.name), f" ({a.severity.value}, since {a.starts_at:%H:%M} UTC): ")
        line += a.summary
        lines.append(line + (" — " + links if links else ""))
    if len(pv.alerts) > MAX_ALERTS:
        lines.append(text(f"+{len(pv.alerts) - MAX_ALERTS} more alerts"))
    return tuple(lines)


def _evidence(view: DeployView) -> tuple[Section, ...]:
    failing = [c for c in view.checks if c.result.outcome is Outcome.FAIL]
    if not failing:
        return ()
    return (
        Section(
            text("Evidence from the watch"),
            tuple(Field(strong(c.result.name), text(c.result.reason)) for c in failing),
        ),
    )


def rollback_button(view: DeployView) -> Button:
    previous = view.deploy.base_sha or view.deploy.previous_sha or "the previous version"
    return Button(
        ROLLBACK,
        "↩ Roll back",
        str(view.id),
        "danger",
        confirm=Confirm(
            title="Roll back?",
            text=text(f"Roll {view.where} back from {view.deploy.sha[:7]} to {previous[:7]}?"),
            ok="Roll back",
            deny="Cancel",
        ),
    )


def _rollback_sections(view: DeployView) -> tuple[Section, ...]:
    if not view.rollbacks:
        return ()
    return (Section(text("Rollback"), (text(rollback_line(view.rollbacks[-1])),)),)


def rollback_line(rollback: Rollback) -> str:
    who = f"requested by {rollback.requested_by} via {rollback.via}"
    if rollback.state is RollbackState.REQUESTED:
        return f"⏳ Rollback {who}: queued."
    if rollback.state is RollbackState.RUNNING:
        return f"⏳ Rollback {who}: running since {rollback.started_at:%H:%M:%S} UTC."
    if rollback.state is RollbackState.SUCCEEDED:
        return f"✅ Rollback {who}: done; waiting for the rollback's deploy event."
    return f"❌ Rollback {who} failed (exit {rollback.exit_code}): {_tail(rollback.output)}"


def rollback_reply(view: DeployView, rollback: Rollback) -> Message:
    line = rollback_line(rollback)
    output = _tail(rollback.output, 1200)
    sections = (Section(text("Output"), (CodeBlock(output),)),) if output else ()
    return Message(
        title=text(line),
        text=text(line),
        tone=Tone.SUCCESS if rollback.state is RollbackState.SUCCEEDED else Tone.WARNING,
        sections=sections,
    )


def _tail(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]
