"""The postmortem draft: an incident's story as Markdown, ready to edit.

Pure, like postmortem.py whose timeline, detection and impact window it words. Wording: the
draft speaks of *changes*, never of who is to be held to account for them.
"""

from __future__ import annotations

from datetime import datetime

from shepherd.domain.alerts import AlertStatus, IncidentState
from shepherd.domain.incidents.analysis import (
    IncidentStory,
    alerts_by_name,
    detection,
    impact_window,
    timeline,
    utc,
)
from shepherd.domain.text import plural
from shepherd.domain.watch import Verdict


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
    for name, group in alerts_by_name(story.alerts).items():
        start = min(utc(s.alert.starts_at) for s in group)
        ends = [
            utc(s.alert.ends_at) for s in group if s.alert.status is AlertStatus.RESOLVED and s.alert.ends_at
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
    return utc(at).strftime("%Y-%m-%d %H:%M:%S") if at else "–"


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
