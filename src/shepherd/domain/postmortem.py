"""An incident's story: one timeline from every record, detection times, a postmortem draft.

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

Wording: the draft speaks of *changes*, never of who is to be held to account for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shepherd.domain.alerts import AlertStatus
from shepherd.domain.incidents import Incident, IncidentState, Page, Rollback, StoredAlert
from shepherd.domain.metrics import Outcome, Verdict
from shepherd.domain.model import Change, Deploy, DeployEvent, DeployPerson, DeployStatus
from shepherd.domain.notifications import Ack, AckKind, Kind, Notification, State
from shepherd.domain.text import plural
from shepherd.domain.watch import StoredCheck, TimelineEntry, Watch


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
        return sorted(seen.values(), key=lambda s: _utc(s.alert.starts_at))

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
    return round((_utc(end) - _utc(start)).total_seconds() / 60, 1)


# the timeline


def timeline(story: IncidentStory) -> list[Moment]:
    """Every record of the story as moments in time order (stable for equal times)."""
    moments = [
        *_deploy_moments(story.deploy, story.events),
        *(Moment(_utc(e.at), e.kind, e.text) for e in sorted(story.entries, key=_entry_order)),
        *_alert_moments(story),
        *_notification_moments(story.notifications),
        *(_ack_moment(a) for a in story.acks),
    ]
    end = story.incident.resolved_at
    if end is not None:
        moments = [m for m in moments if m.at <= _utc(end)]
    return sorted(moments, key=lambda m: m.at)


def _entry_order(entry: TimelineEntry) -> tuple[datetime, int]:
    return _utc(entry.at), entry.id or 0


def _deploy_moments(deploy: Deploy, events: Sequence[DeployEvent]) -> list[Moment]:
    what = f"{deploy.service} {deploy.sha[:7]} to {deploy.environment}"
    applied = [e for e in events if e.applied]
    moments = []
    if not any(e.status is DeployStatus.STARTED for e in applied):
        moments.append(Moment(_utc(deploy.started_at), "deploy", _started(what, deploy)))
    for event in sorted(applied, key=lambda e: (_utc(e.occurred_at), e.id or 0)):
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
        moments.append(Moment(_utc(event.occurred_at), "deploy", text))
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
            noted.setdefault(alert_id, set()).add(_utc(entry.at))
    moments = []
    for name, group in _by_name(story.alerts).items():
        first = min(group, key=lambda s: _utc(s.alert.starts_at))
        times = noted.get(first.id, set()) if first.id is not None else set()
        if _utc(first.alert.starts_at) not in times:
            summary = f": {first.alert.summary}" if first.alert.summary else ""
            count = f" (×{len(group):,})" if len(group) > 1 else ""
            moments.append(Moment(_utc(first.alert.starts_at), "alert", f"{name} firing{count}{summary}"))
        ends = [
            _utc(s.alert.ends_at) for s in group if s.alert.status is AlertStatus.RESOLVED and s.alert.ends_at
        ]
        if ends and len(ends) == len(group):
            moments.append(Moment(max(ends), "alert", f"{name} resolved"))
    return moments


def _by_name(alerts: Iterable[StoredAlert]) -> dict[str, list[StoredAlert]]:
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
            moments.append(Moment(_utc(n.attempted_at or n.updated_at), "notification", text))
        elif n.state is State.FAILED:
            error = f": {n.error}" if n.error else ""
            moments.append(Moment(_utc(n.updated_at), "notification", f"not delivered — {text}{error}"))
    return moments


def _ack_moment(ack: Ack) -> Moment:
    if ack.kind is AckKind.WRONG:
        return Moment(_utc(ack.acked_at), "ack", f"{ack.name} reported “Something's wrong”")
    return Moment(_utc(ack.acked_at), "ack", f"{ack.name} pressed “I'm watching”")


# detection and impact


def detection(story: IncidentStory) -> Detection:
    onset = _utc(story.deploy.started_at)
    signals: list[tuple[datetime, str]] = [(_utc(s.alert.starts_at), s.alert.name) for s in story.alerts]
    watch = story.watch
    if watch is not None and watch.failed_at is not None:
        signals.append((_utc(watch.failed_at), "watch verdict fail"))
    first_alert, what = min(signals, key=lambda s: s[0]) if signals else (None, None)
    acks = sorted(
        (a for a in story.acks if a.kind is AckKind.WATCHING),
        key=lambda a: _utc(a.acked_at),
    )
    first_ack = next((a for a in acks if first_alert is not None and _utc(a.acked_at) >= first_alert), None)
    return Detection(
        onset=onset,
        first_alert=first_alert,
        first_alert_what=what,
        first_ack=_utc(first_ack.acked_at) if first_ack else None,
        first_ack_by=first_ack.name if first_ack else None,
    )


def impact_window(story: IncidentStory) -> ImpactWindow:
    end = story.incident.resolved_at
    return ImpactWindow(start=_utc(story.deploy.started_at), end=_utc(end) if end else None)


# the postmortem draft


def render_markdown(story: IncidentStory, now: datetime) -> str:
    """A postmortem draft: facts filled in from the records, the thinking left to people."""
    sections = [
        _header(story, now),
        _summary(story),
        _impact(story, now),
        _detection(story),
        _changes(story),
        _timeline(story),
        "## What went well\n\n- [ ] \n- [ ] ",
        "## What could be better\n\n- [ ] \n- [ ] ",
        "## Action items\n\n_Each with an owner and a date; prefer changes to systems and defaults "
        "over reminders to people._\n\n- [ ] \n- [ ] \n- [ ] ",
    ]
    return "\n\n".join(sections) + "\n"


def _header(story: IncidentStory, now: datetime) -> str:
    incident, deploy = story.incident, story.deploy
    status = incident.state.value
    if incident.state is IncidentState.RESOLVED and incident.resolution:
        status += f" — {incident.resolution}"
    rows = [
        ("Status", status),
        ("Service", f"{incident.service} ({incident.environment})"),
        ("Deploy", f"#{deploy.id} `{deploy.sha[:12]}`" + (f" ({deploy.ref})" if deploy.ref else "")),
        ("Opened", f"{_when(incident.opened_at)} (by {_trigger(incident.trigger)})"),
        ("Resolved", _when(incident.resolved_at) if incident.resolved_at else "not yet"),
    ]
    table = "| | |\n|---|---|\n" + "\n".join(f"| {k} | {_cell(v)} |" for k, v in rows)
    return (
        f"# Postmortem draft — incident #{incident.id}: {incident.title}\n\n{table}\n\n"
        f"_Drafted by Shepherd on {_when(now)} from its records. It describes what happened "
        "and how the system behaved; correct it and fill in the last sections together._"
    )


def _trigger(trigger: str) -> str:
    return {"page": "a page", "verdict": "a failed watch verdict"}.get(trigger, trigger)


def _summary(story: IncidentStory) -> str:
    incident, deploy = story.incident, story.deploy
    total = deploy.total_changes if deploy.total_changes is not None else len(story.changes)
    lines = [
        f"Deploy #{deploy.id} of **{deploy.service}** `{deploy.sha[:7]}` to **{deploy.environment}** "
        f"started at {_when(deploy.started_at)} with {plural(total, 'change')}; "
        f"it is now {deploy.status.value.replace('_', ' ')}."
    ]
    fired = _fired(story)
    lines.append(f"What fired: {fired}." if fired else "No alert fired on the incident's pages.")
    watch = story.watch
    if watch is not None:
        verdict = f"The post-deploy watch verdict is **{watch.verdict.value}**"
        lines.append(f"{verdict}: {_sentence(watch.reason)}" if watch.reason else f"{verdict}.")
        failed = story.failed_checks
        if failed:
            named = "; ".join(f"{c.result.name} ({c.result.reason})" for c in failed)
            lines.append(f"Failing checks: {named}")
    else:
        lines.append("The deploy had no post-deploy watch.")
    for rollback in story.rollbacks:
        target = f" to `{rollback.target_sha[:7]}`" if rollback.target_sha else ""
        lines.append(
            f"Rollback #{rollback.id}{target}: {rollback.state.value} "
            f"(requested via {rollback.via} at {_when(rollback.requested_at)})."
        )
    if incident.state is IncidentState.RESOLVED:
        lines.append(f"The incident was resolved at {_when(incident.resolved_at)}: {incident.resolution}.")
    else:
        lines.append("The incident is still open.")
    return "## Summary\n\n" + "\n".join(f"- {line}" for line in lines)


def _fired(story: IncidentStory) -> str:
    parts = []
    for stored in story.alerts:
        alert = stored.alert
        summary = f" — {alert.summary}" if alert.summary else ""
        parts.append(f"{alert.name} ({alert.severity.value}, {alert.status.value}){summary}")
    if story.watch is not None and story.watch.verdict is Verdict.FAIL:
        parts.append("the post-deploy watch (verdict fail)")
    return "; ".join(parts)


def _impact(story: IncidentStory, now: datetime) -> str:
    window = impact_window(story)
    minutes = _minutes(window.minutes(now))
    if window.end is None:
        text = (
            f"From {_when(window.start)} (regression onset), **ongoing**: {minutes} min so far "
            f"at {_when(now)}."
        )
    else:
        text = (
            f"From {_when(window.start)} (regression onset) to {_when(window.end)} (resolved): "
            f"**{minutes} min**."
        )
    spans = []
    for name, group in _by_name(story.alerts).items():
        start = min(_utc(s.alert.starts_at) for s in group)
        ends = [
            _utc(s.alert.ends_at) for s in group if s.alert.status is AlertStatus.RESOLVED and s.alert.ends_at
        ]
        end = _when(max(ends)) if len(ends) == len(group) else "still firing"
        count = f" (×{len(group):,})" if len(group) > 1 else ""
        spans.append(f"- {name}{count}: {_when(start)} → {end}")
    return "## Impact window\n\n" + text + ("\n\nAlerts:\n\n" + "\n".join(spans) if spans else "")


def _detection(story: IncidentStory) -> str:
    d = detection(story)
    rows: list[tuple[str, datetime | None, float | None, float | None]] = [
        ("Regression onset (the deploy started)", d.onset, None, 0.0)
    ]
    if d.first_alert is not None:
        rows.append((f"First alert: {d.first_alert_what}", d.first_alert, d.onset_to_alert, d.onset_to_alert))
    else:
        rows.append(("First alert: none recorded", None, None, None))
    if d.first_ack is not None:
        rows.append((f"First ack: {d.first_ack_by}", d.first_ack, d.alert_to_ack, d.onset_to_ack))
    else:
        rows.append(("First ack: none recorded after the first alert", None, None, None))
    lines = ["| step | time (UTC) | minutes after previous step | minutes after onset |", "|---|---|---|---|"]
    for label, at, step, total in rows:
        cells = [_cell(label), _when(at) if at else "–", _minutes(step), _minutes(total)]
        lines.append("| " + " | ".join(cells) + " |")
    note = (
        "Onset is taken as the deploy's start: the first moment the new version could affect "
        "users. Correct it if the metrics show a later start."
    )
    return "## Detection\n\n" + "\n".join(lines) + "\n\n_" + note + "_"


def _changes(story: IncidentStory) -> str:
    deploy = story.deploy
    if not story.changes:
        return "## Changes involved\n\nShepherd recorded no changes for this deploy."
    base = f"`{deploy.base_sha[:7]}`..`{deploy.sha[:7]}`" if deploy.base_sha else f"`{deploy.sha[:7]}`"
    lines = [
        f"The changes this deploy carried ({base}), listed to understand what changed in the "
        "system; the questions they raise are about the system too.",
        "",
        "| change | subject | PR | authors | merged by |",
        "|---|---|---|---|---|",
    ]
    for change in story.changes:
        authors = ", ".join(_person(p.name, p.person) for p in change.authors)
        merger = _person(change.merger.name, change.merger.person) if change.merger else ""
        pr = f"#{change.pr_number}" if change.pr_number else ""
        lines.append(
            f"| `{change.sha[:7]}` | {_cell(change.subject)} | {pr} | {_cell(authors)} | {_cell(merger)} |"
        )
    total = deploy.total_changes
    if total is not None and total > len(story.changes):
        lines += ["", f"…and {plural(total - len(story.changes), 'more change')} not listed here."]
    return "## Changes involved\n\n" + "\n".join(lines)


def _person(name: str, configured: str | None) -> str:
    return configured or name


def _timeline(story: IncidentStory) -> str:
    lines = ["| time (UTC) | what |", "|---|---|"]
    lines += [f"| {_when(m.at)} | {_cell(m.text)} |" for m in timeline(story)]
    return "## Timeline\n\n" + "\n".join(lines)


def _when(at: datetime | None) -> str:
    return _utc(at).strftime("%Y-%m-%d %H:%M:%S") if at else "–"


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
