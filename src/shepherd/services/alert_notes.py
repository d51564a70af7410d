"""The `alert_note` job: one quiet line in the service channel for an alert no deploy explains.

With `alerts.quiet_note`, the channel learns that Shepherd saw the alert and paged nobody (no
deploy in the correlation window), so nobody wonders whether the release owners were told.
A post whose outcome was unknown is looked up by its key before posting again: never twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shepherd.domain.alerts import StoredAlert
from shepherd.domain.errors import NotifierRejected
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.domain.notify import Message, Section, Tone, join, link, text
from shepherd.domain.text import duration
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.ports import Notifier


def note_job(alert_id: int, channel: str) -> NewJob:
    payload = {"alert_id": alert_id, "channel": channel}
    return NewJob(kind=JobKind.ALERT_NOTE, payload=payload, dedupe_key=f"alert-note:{alert_id}")


@dataclass(frozen=True)
class NoteDeps:
    notifier: Notifier
    window_minutes: dict[str, float]  # service → correlation window, for the words


def quiet_note(stored: StoredAlert, window_minutes: float) -> Message:
    alert = stored.alert
    links = join((link(x.url, x.kind) for x in alert.links if x.url), " · ")
    said = text(
        f"{alert.name} is firing on {alert.service} ({alert.severity.value}): {alert.summary}. "
        f"No deploy of {alert.service} in the {duration(window_minutes)} before it, so Shepherd paged nobody."
    )
    return Message(
        title=text(f"🔕 {alert.name} on {alert.service}: no recent deploy"),
        text=said,
        tone=Tone.INFO,
        sections=(Section(None, (said, links) if links else (said,)),),
    )


def post_note(ctx: JobContext, deps: NoteDeps) -> None:
    with ctx.transaction() as uow:
        stored = uow.alerts.get(int(ctx.payload["alert_id"]))
    if stored is None or stored.alert.service is None:
        return
    channel = ctx.payload.get("channel") or ""
    key = f"alert-note:{stored.id}"
    try:
        if ctx.job.attempts > 1 and deps.notifier.find_posted(
            target=channel, key=key, since=ctx.job.created_at - timedelta(minutes=1)
        ):
            return
        window = deps.window_minutes.get(stored.alert.service, 60.0)
        deps.notifier.post(target=channel, message=quiet_note(stored, window), key=key)
    except NotifierRejected:
        return  # channel gone or bot not invited: a quiet note is not worth a dead job


def register_jobs(registry: HandlerRegistry, deps: NoteDeps) -> None:
    registry.register(JobKind.ALERT_NOTE, post_note, deps)
