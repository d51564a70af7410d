"""An incident's story: one timeline from every record, detection times and the impact window.

Pure: the service layer gathers an `IncidentStory` from the repositories; everything here
works on those values.

Choices, so the numbers can be read without the code:

- **Regression onset** is the start of the deploy the incident is about. Shepherd cannot tell
  reliably from metric points when a regression began (a check's points are judged as a whole,
  with tolerances that differ per check), and the deploy start is the moment the new version
  could first hurt. The draft says so, and people can correct it.
- **First alert** is the earliest `starts_at` of the alerts on the incident's pages, or the
  moment the watch verdict turned `fail`, whichever came first.
- **First ack** is the first "I'm watching" press at or after the first alert (a page's ack
  button records the same). Presses before the first alert were about the rollout, not the
  incident, so they show in the timeline but do not count as detection.
- The **impact window** runs from the onset to the incident's resolution, or is "ongoing".
- The timeline ends at the resolution: what happens to the deploy afterwards belongs elsewhere.

The postmortem draft made from them is postmortem_draft.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shepherd.domain.alerts import AlertStatus, Incident, Page, Rollback, StoredAlert
from shepherd.domain.deploys import Change, Deploy, DeployEvent, DeployPerson, DeployStatus
from shepherd.domain.notify import Ack, AckKind, Kind, Notification, State
from shepherd.domain.watch import Outcome, StoredCheck, TimelineEntry, Watch


@dataclass(frozen=True)
class PageStory:
    page: Page
    alerts: tuple[StoredAlert, ...] = ()


@dataclass(frozen=True)
class IncidentStory:
    """Everything Shepherd recorded about one incident and the deploy it is about."""

    incident: Incident
    deploy: Deploy
    changes: tuple[Change, ...] = ()
    people: tuple[DeployPerson, ...] = ()
    events: tuple[DeployEvent, ...] = ()
    notifications: tuple[Notification, ...] = ()
    acks: tuple[Ack, ...] = ()
    watch: Watch | None = None
    checks: tuple[StoredCheck, ...] = ()
    entries: tuple[TimelineEntry, ...] = ()  # the deploy's timeline table
    pages: tuple[PageStory, ...] = ()
    rollbacks: tuple[Rollback, ...] = ()

    @property
    def alerts(self) -> list[StoredAlert]:
        """The alerts of the incident's pages, earliest first, each once."""
        seen: dict[object, StoredAlert] = {}
        for page in self.pages:
            for stored in page.alerts:
                seen.setdefault(stored.id if stored.id is not None else id(stored), stored)
        return sorted(seen.values(), key=lambda s: utc(s.alert.starts_at))

    @property
    def failed_checks(self) -> list[StoredCheck]:
        return [c for c in self.checks if c.result.outcome is Outcome.FAIL]


@dataclass(frozen=True)
class Moment:
    at: datetime
    kind: str
    text: str


@dataclass(frozen=True)
class Detection:
    onset: datetime
    first_alert: datetime | None
    first_alert_what: str | None  # the alert's name, or "watch verdict fail"
    first_ack: datetime | None
    first_ack_by: str | None

    @property
    def onset_to_alert(self) -> float | None:
        return minutes_between(self.onset, self.first_alert)

    @property
    def alert_to_ack(self) -> float | None:
        return minutes_between(self.first_alert, self.first_ack)

    @property
    def onset_to_ack(self) -> float | None:
        return minutes_between(self.onset, self.first_ack)


@dataclass(frozen=True)
class ImpactWindow:
    start: datetime
    end: datetime | None  # None: ongoing

    def minutes(self, now: datetime) -> float:
        return minutes_between(self.start, self.end or now) or 0.0


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((utc(end) - utc(start)).total_seconds() / 60, 1)


# the timeline


def timeline(story: IncidentStory) -> list[Moment]:
    """Every record of the story as moments in time order (stable for equal times)."""
    moments = [
        *_deploy_moments(story.deploy, story.events),
        *(Moment(utc(e.at), e.kind, e.text) for e in sorted(story.entries, key=_entry_order)),
        *_alert_moments(story),
        *_notification_moments(story.notifications),
        *(_ack_moment(a) for a in story.acks),
    ]
    end = story.incident.resolved_at
    if end is not None:
        moments = [m for m in moments if m.at <= utc(end)]
    return sorted(moments, key=lambda m: m.at)


def _entry_order(entry: TimelineEntry) -> tuple[datetime, int]:
    return utc(entry.at), entry.id or 0


def _deploy_moments(deploy: Deploy, events: Sequence[DeployEvent]) -> list[Moment]:
    what = f"{deploy.service} {deploy.sha[:7]} to {deploy.environment}"
    applied = [e for e in events if e.applied]
    moments = []
    if not any(e.status is DeployStatus.STARTED for e in applied):
        moments.append(Moment(utc(deploy.started_at), "deploy", _started(what, deploy)))
    for event in sorted(applied, key=lambda e: (utc(e.occurred_at), e.id or 0)):
        if event.status is DeployStatus.STARTED:
            text = _started(what, deploy)
        elif event.status is DeployStatus.PROGRESSING:
            where = ", ".join(
                p for p in (f"{event.percent}%" if event.percent is not None else "", event.stage or "") if p
            )
            text = f"rollout progressing{f' ({where})' if where else ''}"
        else:
            text = f"deploy {event.status.value.replace('_', ' ')}"
        if event.message and event.status is not DeployStatus.STARTED:
            text += f": {event.message}"
        moments.append(Moment(utc(event.occurred_at), "deploy", text))
    return moments


def _started(what: str, deploy: Deploy) -> str:
    return f"deploy of {what} started" + (f" (deployer: {deploy.deployer})" if deploy.deployer else "")


def _alert_moments(story: IncidentStory) -> list[Moment]:
    """Alert firing/resolved moments the timeline table does not already hold.

    Per alert name: a storm of 10,000 alerts of one rule is one "firing (×10,000)" line and one
    "resolved" line, not a timeline nobody can read.
    """
    noted: dict[int, set[datetime]] = {}
    for entry in story.entries:
        alert_id = entry.data.get("alert")
        if entry.kind == "alert" and isinstance(alert_id, int):
            noted.setdefault(alert_id, set()).add(utc(entry.at))
    moments = []
    for name, group in alerts_by_name(story.alerts).items():
        first = min(group, key=lambda s: utc(s.alert.starts_at))
        times = noted.get(first.id, set()) if first.id is not None else set()
        if utc(first.alert.starts_at) not in times:
            summary = f": {first.alert.summary}" if first.alert.summary else ""
            count = f" (×{len(group):,})" if len(group) > 1 else ""
            moments.append(Moment(utc(first.alert.starts_at), "alert", f"{name} firing{count}{summary}"))
        ends = [
            utc(s.alert.ends_at) for s in group if s.alert.status is AlertStatus.RESOLVED and s.alert.ends_at
        ]
        if ends and len(ends) == len(group):
            moments.append(Moment(max(ends), "alert", f"{name} resolved"))
    return moments


def alerts_by_name(alerts: Iterable[StoredAlert]) -> dict[str, list[StoredAlert]]:
    groups: dict[str, list[StoredAlert]] = {}
    for stored in alerts:
        groups.setdefault(stored.alert.name, []).append(stored)
    return groups


_SENT_TEXT = {
    Kind.CHANNEL: "deploy summary posted to {to}",
    Kind.AUTHOR_DM: "DM to {to} (author): their change is going out",
    Kind.MERGER_DM: "DM to {to} (merger): a pull request they merged is going out",
    Kind.STAGE: "rollout update posted to {to}",
    Kind.REMINDER: "reminder sent to {to}",
    Kind.ESCALATION: "escalation posted to {to}",
    Kind.WRONG: "“Something's wrong” report posted to {to}",
    Kind.VERDICT: "watch verdict sent to {to}",
    Kind.PAGE: "page sent to {to}",
    Kind.ROLLBACK: "rollback progress posted to {to}",
}


def _notification_moments(notifications: Iterable[Notification]) -> list[Moment]:
    moments = []
    for n in notifications:
        to = n.person_name or n.target
        text = _SENT_TEXT.get(n.kind, f"{n.kind.value} sent to {{to}}").format(to=to)
        if n.state is State.SENT:
            moments.append(Moment(utc(n.attempted_at or n.updated_at), "notification", text))
        elif n.state is State.FAILED:
            error = f": {n.error}" if n.error else ""
            moments.append(Moment(utc(n.updated_at), "notification", f"not delivered — {text}{error}"))
    return moments


def _ack_moment(ack: Ack) -> Moment:
    if ack.kind is AckKind.WRONG:
        return Moment(utc(ack.acked_at), "ack", f"{ack.name} reported “Something's wrong”")
    return Moment(utc(ack.acked_at), "ack", f"{ack.name} pressed “I'm watching”")


# detection and impact


def detection(story: IncidentStory) -> Detection:
    onset = utc(story.deploy.started_at)
    signals: list[tuple[datetime, str]] = [(utc(s.alert.starts_at), s.alert.name) for s in story.alerts]
    watch = story.watch
    if watch is not None and watch.failed_at is not None:
        signals.append((utc(watch.failed_at), "watch verdict fail"))
    first_alert, what = min(signals, key=lambda s: s[0]) if signals else (None, None)
    acks = sorted(
        (a for a in story.acks if a.kind is AckKind.WATCHING),
        key=lambda a: utc(a.acked_at),
    )
    first_ack = next((a for a in acks if first_alert is not None and utc(a.acked_at) >= first_alert), None)
    return Detection(
        onset=onset,
        first_alert=first_alert,
        first_alert_what=what,
        first_ack=utc(first_ack.acked_at) if first_ack else None,
        first_ack_by=first_ack.name if first_ack else None,
    )


def impact_window(story: IncidentStory) -> ImpactWindow:
    end = story.incident.resolved_at
    return ImpactWindow(start=utc(story.deploy.started_at), end=utc(end) if end else None)


# the postmortem draft


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
