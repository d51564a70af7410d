"""What messages say about a deploy's health: the status line, and the verdict messages."""

from __future__ import annotations

from shepherd.domain.notify.compose import buttons, watch_lines
from shepherd.domain.notify.messages import Message, Section, Tone
from shepherd.domain.notify.spans import Field, code, link, strong, text
from shepherd.domain.notify.view import DeployView
from shepherd.domain.text import plural
from shepherd.domain.watch import Outcome, Verdict


def verdict_message(view: DeployView) -> Message | None:
    """The message authors and the channel thread get when the watch fails or cannot judge."""
    watch = view.watch
    if watch is None or not view.service.checks:
        return None
    where = text(f"{view.where} ", code(view.deploy.sha[:7]))
    if watch.verdict is Verdict.FAIL:
        failing = [c for c in view.checks if c.result.outcome is Outcome.FAIL]
        lines = tuple(
            Field(strong(c.result.name) + (" (critical)" if c.result.critical else ""), text(c.result.reason))
            for c in failing
        )
        first = text(lines[0].label, ": ", lines[0].value) if lines else text(watch.reason)
        return Message(
            title=text("🔥 ", where, f" looks unhealthy: {plural(len(failing), 'check')} failing"),
            text=text(f"{view.where}: unhealthy after the deploy — ", first),
            tone=Tone.DANGER,
            sections=(
                Section(text("What Shepherd saw"), lines or (text(watch.reason),)),
                Section(
                    text("What to do"),
                    watch_lines(view, list(view.changes), watch.last_look_at or watch.started_at),
                ),
            ),
            buttons=buttons(view),
        )
    if watch.verdict is Verdict.INCONCLUSIVE and watch.finished:
        lines = tuple(
            Field(strong(c.result.name), text(c.result.reason))
            for c in view.checks
            if c.result.outcome is not Outcome.PASS
        )
        return Message(
            title=text("❔ Shepherd could not judge ", where),
            text=text(f"{view.where}: the watch could not judge the deploy — {watch.reason}"),
            tone=Tone.WARNING,
            sections=(
                Section(None, (text(watch.reason), *lines)),
                Section(
                    None,
                    (
                        "A check that never returns data is a misconfiguration: check its query in "
                        "shepherd.yaml against your metrics. " + link(view.compare_url, "Details"),
                    ),
                ),
            ),
        )
    return None
