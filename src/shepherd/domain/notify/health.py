"""What messages say about a deploy's health: the status line, and the verdict messages."""

from __future__ import annotations

from shepherd.domain.notify.compose import buttons, watch_lines
from shepherd.domain.notify.messages import Message, Section, Tone, link
from shepherd.domain.notify.view import DeployView
from shepherd.domain.text import plural
from shepherd.domain.watch import Outcome, Verdict


def verdict_message(view: DeployView) -> Message | None:
    """The message authors and the channel thread get when the watch fails or cannot judge."""
    watch = view.watch
    if watch is None or not view.service.checks:
        return None
    where = f"{view.where} `{view.deploy.sha[:7]}`"
    if watch.verdict is Verdict.FAIL:
        failing = [c for c in view.checks if c.result.outcome is Outcome.FAIL]
        lines = tuple(
            f"*{c.result.name}*{' (critical)' if c.result.critical else ''}: {c.result.reason}"
            for c in failing
        )
        return Message(
            title=f"🔥 {where} looks unhealthy: {plural(len(failing), 'check')} failing",
            text=f"{view.where}: unhealthy after the deploy — {lines[0] if lines else watch.reason}",
            tone=Tone.DANGER,
            sections=(
                Section("What Shepherd saw", lines or (watch.reason,)),
                Section(
                    "What to do",
                    watch_lines(view, list(view.changes), watch.last_look_at or watch.started_at),
                ),
            ),
            buttons=buttons(view),
        )
    if watch.verdict is Verdict.INCONCLUSIVE and watch.finished:
        lines = tuple(
            f"*{c.result.name}*: {c.result.reason}"
            for c in view.checks
            if c.result.outcome is not Outcome.PASS
        )
        return Message(
            title=f"❔ Shepherd could not judge {where}",
            text=f"{view.where}: the watch could not judge the deploy — {watch.reason}",
            tone=Tone.WARNING,
            sections=(
                Section(None, (watch.reason, *lines)),
                Section(
                    None,
                    (
                        "A check that never returns data is a misconfiguration: check its query in "
                        "shepherd.yaml against your metrics. " + link("Details", view.compare_url),
                    ),
                ),
            ),
        )
    return None
