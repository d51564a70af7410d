"""What each notification says. Pure: a DeployView and a time in, a neutral Message out."""

from __future__ import annotations

from datetime import datetime

from shepherd.domain.config import render_template
from shepherd.domain.deploys import AttributionState, Change, DeployEvent, DeployStatus
from shepherd.domain.notify.messages import Button, Message, Section, Tone
from shepherd.domain.notify.records import AckKind
from shepherd.domain.notify.spans import Line, Link, Text, code, join, link, mention, text
from shepherd.domain.notify.view import DeployView, Recipient
from shepherd.domain.text import duration, plural
from shepherd.domain.watch import Outcome, Verdict

ACK = "shepherd_ack"
WRONG = "shepherd_wrong"
ROLLBACK = "rollback"  # the value is the deploy id; asks for confirmation first
MAX_LISTED = 15  # changes per person in a message before "+N more"

_TONES = {
    DeployStatus.STARTED: Tone.PROGRESS,
    DeployStatus.PROGRESSING: Tone.PROGRESS,
    DeployStatus.SUCCEEDED: Tone.SUCCESS,
    DeployStatus.FAILED: Tone.DANGER,
    DeployStatus.ROLLED_BACK: Tone.WARNING,
}


def status_line(view: DeployView) -> Text:
    deploy = view.deploy
    if deploy.status is DeployStatus.STARTED:
        words = "🚀 Going out now"
    elif deploy.status is DeployStatus.PROGRESSING:
        share = f" — {deploy.percent}% of traffic" if deploy.percent is not None else ""
        words = f"🚦 Rolling out{share}"
    elif deploy.status is DeployStatus.SUCCEEDED:
        words = "✅ Live everywhere"
    elif deploy.status is DeployStatus.FAILED:
        words = "❌ Deploy failed"
    else:
        words = "↩️ Rolled back"
    if deploy.stage:
        words += f" (stage: {deploy.stage})"
    if deploy.message and deploy.status in (DeployStatus.FAILED, DeployStatus.ROLLED_BACK):
        words += f": {deploy.message}"
    health = health_line(view)
    return text(f"{words}\n{health}" if health else words)


def health_line(view: DeployView) -> str | None:
    watch = view.watch
    if watch is None or not view.service.checks:
        return None
    if watch.verdict is Verdict.FAIL:
        return f"🔥 Health: failing — {_first(view, Outcome.FAIL) or watch.reason}"
    if watch.verdict is Verdict.INCONCLUSIVE:
        return f"❔ Health: could not judge — {watch.reason}"
    if watch.finished:
        minutes = (watch.ends_at - watch.started_at).total_seconds() / 60
        passed = sum(c.result.outcome is Outcome.PASS for c in view.checks)
        of = (
            f"{passed} of {len(view.checks)} checks passed"
            if passed < len(view.checks)
            else (f"{plural(passed, 'check')} passed")
        )
        return f"💚 Health: all clear after {duration(minutes)} ({of})"
    return f"🔎 Health: watching {plural(len(view.service.checks), 'check')}, no problem so far"


def _first(view: DeployView, outcome: Outcome) -> str | None:
    return next(
        (f"{c.result.name}: {c.result.reason}" for c in view.checks if c.result.outcome is outcome), None
    )


def tone(view: DeployView) -> Tone:
    return _TONES[view.deploy.status]


def change_line(view: DeployView, change: Change, *, with_author: bool = False) -> Text:
    subject = text(change.subject)
    if change.pr_number is not None:
        url = view.pr_url(change.pr_number)
        pr = link(url, f"#{change.pr_number}") if url else text(f"#{change.pr_number}")
        squash = f"(#{change.pr_number})"
        # a squash subject already ends in "(#N)": link that instead of adding another
        subject = (
            text(change.subject.removesuffix(squash).rstrip(), " (", pr, ")")
            if change.subject.endswith(squash)
            else text(change.subject, " ", pr)
        )
    line = text(code(change.sha[:7]), " ", subject)
    if with_author:
        line += f" — {change.author.name}"
    return line


def watch_lines(view: DeployView, changes: list[Change], now: datetime) -> tuple[Line, ...]:
    lines = [link(view.render(g.url, now), g.title) for g in view.guides_for(changes)]
    lines.append(link(view.compare_url, "Old vs new, side by side"))
    lines.append(_rollback_line(view, now))
    return tuple(line for line in lines if line)


def _rollback_line(view: DeployView, now: datetime) -> Text:
    rollback = view.service.rollback
    previous = view.deploy.base_sha or view.deploy.previous_sha
    if rollback is None:
        return Text()
    if previous is None:
        return text("Roll back: Shepherd knows no earlier deploy of this service here to go back to.")
    if rollback.command:
        values = {**view.placeholder_values(now), "rollback_sha": previous}
        return text("Roll back: ", code(render_template(rollback.command, values)))
    return text("Roll back: the service's rollback webhook, to ", code(previous[:12]))


def ack_footer(view: DeployView) -> tuple[Text, ...]:
    watching = [a for a in view.acks if a.kind is AckKind.WATCHING]
    wrong = [a for a in view.acks if a.kind is AckKind.WRONG]
    lines = [text(f"⚠️ Something's wrong, says {', '.join(a.name for a in wrong)}")] if wrong else []
    if not watching:
        return (*lines, text("Nobody has said they are watching yet."))
    names = ", ".join(f"{a.name} ({a.acked_at:%H:%M} UTC)" for a in watching)
    return (*lines, text(f"👀 Watching: {names}"))


def buttons(view: DeployView) -> tuple[Button, ...]:
    value = str(view.id)
    return (
        Button(ACK, "👀 I'm watching", value, "primary"),
        Button(WRONG, "Something's wrong", value, "danger"),
    )


def who(view: DeployView, recipient: Recipient) -> Text:
    if not recipient.slack_user:
        return text(f"{recipient.name} ({recipient.person.ref.email}) — not on Slack")
    failed = view.dm_errors.get(recipient.key)
    return mention(recipient.name, recipient.slack_user) + (f" (DM failed: {failed})" if failed else "")


def author_dm(view: DeployView, recipient: Recipient, now: datetime) -> Message:
    mine = view.changes_of(recipient)
    listed = [change_line(view, c) for c in mine[:MAX_LISTED]]
    more = len(recipient.person.change_shas) - len(listed)
    return Message(
        title=text(f"Your change is going out: {view.where}"),
        text=text(
            f"Your {plural(len(recipient.person.change_shas), 'change')} in {view.where}: going out now"
        ),
        tone=tone(view),
        status=status_line(view),
        sections=(
            Section(text("Your changes in this deploy"), tuple(listed)),
            Section(text("What to watch"), watch_lines(view, mine, now)),
        ),
        buttons=buttons(view),
        footer=ack_footer(view),
        overflow=Link(view.deploy_url, f"+{plural(more, 'more change')}") if more > 0 else None,
    )


def merger_dm(view: DeployView, recipient: Recipient, now: datetime) -> Message:
    merged = sorted(recipient.person.merged_prs)
    authors = sorted(
        {c.author.name for c in view.changes if c.pr_number in recipient.person.merged_prs and c.merger}
    )
    prs = ", ".join(f"#{n}" for n in merged)
    by = f" by {', '.join(authors)}" if authors else ""
    return Message(
        title=text(f"You merged {prs}{by}; it is going out now"),
        text=text(f"You merged {prs}{by}; it is going out now in {view.where}"),
        tone=tone(view),
        status=status_line(view),
        sections=(Section(text("What to watch"), watch_lines(view, list(view.changes), now)),),
        buttons=buttons(view),
        footer=ack_footer(view),
    )


def channel_summary(view: DeployView, now: datetime) -> Message:
    deploy = view.deploy
    title = text(f"{view.where}: ", code(deploy.sha[:7]))
    sections, overflow = _people_sections(view)
    notes = list(deploy.attribution_notes)
    if deploy.attribution_state is AttributionState.FAILED:
        notes.insert(0, f"Could not tell what is in this deploy: {deploy.attribution_error}")
    if notes:
        sections.append(Section(text("Notes"), tuple(text(n) for n in notes)))
    if deploy.total_changes:
        sections.append(Section(text("What to watch"), watch_lines(view, list(view.changes), now)))
    count = plural(deploy.total_changes or 0, "change")
    authors = sum(1 for r in view.people if r.is_author)
    return Message(
        title=title,
        text=text(f"{view.where}: {count} by {plural(authors, 'person', 'people')} going out"),
        tone=tone(view),
        status=status_line(view),
        sections=tuple(sections),
        buttons=buttons(view) if deploy.total_changes else (),
        footer=ack_footer(view),
        overflow=overflow,
    )


def _people_sections(view: DeployView) -> tuple[list[Section], Link | None]:
    sections: list[Section] = []
    shown: set[str] = set()  # a co-authored change appears under each of its authors
    for recipient in view.people:
        if not recipient.is_author:
            continue
        mine = view.changes_of(recipient)[:MAX_LISTED]
        shown.update(c.sha for c in mine)
        sections.append(Section(who(view, recipient), tuple(change_line(view, c) for c in mine)))
    mergers = [r for r in view.people if not r.is_author]
    if mergers:
        sections.append(Section(text("Merged by"), tuple(who(view, r) for r in mergers)))
    hidden = (view.deploy.total_changes or 0) - len(shown)
    overflow = Link(view.deploy_url, f"+{plural(hidden, 'more change')}") if hidden > 0 else None
    return sections, overflow


def stage_reply(view: DeployView, event: DeployEvent) -> Message:
    if event.status is DeployStatus.PROGRESSING:
        share = f"{event.percent}% of traffic" if event.percent is not None else "progressing"
        words = f"🚦 {share}" + (f" (stage: {event.stage})" if event.stage else "")
    elif event.status is DeployStatus.SUCCEEDED:
        words = "✅ Deploy succeeded: live everywhere"
    elif event.status is DeployStatus.FAILED:
        words = "❌ Deploy failed" + (f": {event.message}" if event.message else "")
    else:
        words = "↩️ Rolled back" + (f": {event.message}" if event.message else "")
    return Message(title=text(words), text=text(words), tone=_TONES[event.status])


def reminder(view: DeployView, recipient: Recipient) -> Message:
    since = duration(view.policy.ack_minutes)
    return Message(
        title=text(f"⏰ Is anyone watching {view.where} ", code(view.deploy.sha[:7]), "?"),
        text=text(f"Your change in {view.where} is out for {since}; nobody said they are watching"),
        tone=Tone.WARNING,
        sections=(
            Section(
                None,
                (
                    text(
                        f"Your change has been going out for {since} and nobody has said they are "
                        "watching. Please take a look and press “I'm watching”."
                    ),
                    link(view.compare_url, "Old vs new, side by side"),
                ),
            ),
        ),
        buttons=buttons(view)[:1],
    )


def escalation(view: DeployView) -> Message:
    owners = [mention(o.name, o.slack_user) if o.slack_user else text(o.name) for o in view.owners]
    names = join(owners) if owners else text("service owners (none configured)")
    since = duration(view.policy.escalate_minutes)
    return Message(
        title=text(f"🚨 Nobody is watching {view.where} ", code(view.deploy.sha[:7])),
        text=text(f"No author acknowledged {view.where} within {since}"),
        tone=Tone.DANGER,
        sections=(
            Section(
                None,
                (
                    names + f": deploy {view.id} of {view.where} went out {since} ago and no one "
                    "has said they are watching it.",
                    link(view.deploy_url, "Deploy details") + " · " + link(view.compare_url, "Old vs new"),
                ),
            ),
        ),
        buttons=buttons(view)[:1],
        footer=ack_footer(view),
    )


def something_wrong(view: DeployView, name: str) -> Message:
    says = text(f"⚠️ {name} says something is wrong with {view.where}")
    return Message(
        title=says,
        text=says,
        tone=Tone.DANGER,
        sections=(Section(None, (link(view.compare_url, "Old vs new"),)),),
    )
