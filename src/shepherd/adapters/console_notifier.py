"""The console notifier: without a Slack token, print what Slack would get, readably."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from shepherd.domain.errors import NotifierRejected
from shepherd.domain.notify import Image, Message, MessageRef, Tone, plain

_STYLES = {
    Tone.INFO: "blue",
    Tone.PROGRESS: "blue",
    Tone.SUCCESS: "green",
    Tone.WARNING: "yellow",
    Tone.DANGER: "red",
}


class ConsoleNotifier:
    def __init__(self, console: Console | None = None, *, chart_dir: Path | None = None) -> None:
        self._console = console or Console(highlight=False)
        self._chart_dir = chart_dir
        self._counter = itertools.count(1)
        self._targets: dict[str, str] = {}
        self._lock = threading.Lock()

    def post(
        self,
        *,
        target: str,
        message: Message,
        key: str,
        thread: MessageRef | None = None,
        image: Image | None = None,
    ) -> MessageRef:
        with self._lock:
            ts = f"{next(self._counter)}.000000"
        channel = thread.channel if thread else target
        self._targets[ts] = channel
        where = f"thread in {channel}" if thread else _where(target)
        self._print(message, f"→ {where}", full=True)
        if image is not None:
            self._save(image, ts)
        return MessageRef(channel=channel, ts=ts)

    def _save(self, image: Image, ts: str) -> None:
        if self._chart_dir is None:
            self._console.print(
                f"  [dim](chart {image.filename}: {len(image.data) // 1024} KB, not saved)[/]"
            )
            return
        self._chart_dir.mkdir(parents=True, exist_ok=True)
        path = self._chart_dir / f"{ts.split('.')[0]}-{image.filename}"
        path.write_bytes(image.data)
        self._console.print(f"  📈 chart attached: {path}")

    def update(self, ref: MessageRef, message: Message) -> None:
        self._print(message, f"✎ updated in place: {_where(ref.channel)} (message {ref.ts})", full=False)

    def find_posted(
        self, *, target: str, key: str, since: datetime, thread: MessageRef | None = None
    ) -> MessageRef | None:
        return None  # printing cannot half-fail

    def lookup_user(self, email: str) -> str | None:
        # Not an answer ("nobody has it"), so nothing is cached: a Slack token set later looks again.
        raise NotifierRejected("no_slack", "no Slack token: only people with a slack_user_id get DMs")

    def _print(self, message: Message, heading: str, *, full: bool) -> None:
        lines = [f"[bold]{_esc(plain(message.title))}[/]"]
        if message.status:
            lines.append(_esc(plain(message.status)))
        if full:
            for section in message.sections:
                if section.heading:
                    lines.append(f"\n[bold]{_esc(plain(section.heading))}[/]")
                lines += [f"  {_esc(plain(line))}" for line in section.lines]
            if message.overflow:
                lines.append(f"  {_esc(message.overflow[0])}: {message.overflow[1]}")
            if message.buttons:
                lines.append("\n" + "  ".join(f"[reverse] {_esc(b.label)} [/]" for b in message.buttons))
        if message.footer:
            lines.append(f"[dim]{_esc(plain(' · '.join(message.footer)))}[/]")
        self._console.print(
            Panel("\n".join(lines), title=heading, title_align="left", border_style=_STYLES[message.tone])
        )


def _where(target: str) -> str:
    return f"DM to {target}" if target[:1] in ("U", "W") else f"channel {target}"


def _esc(text: str) -> str:
    return text.replace("[", "\\[")
