"""The console notifier: without a Slack token, print what Slack would get, readably."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from shepherd.domain.errors import NotifierRejected
from shepherd.domain.notify import (
    CodeBlock,
    Field,
    Image,
    Inline,
    Line,
    Link,
    Mention,
    Message,
    MessageRef,
    Tone,
)

_STYLES = {
    Tone.INFO: "blue",
    Tone.PROGRESS: "blue",
    Tone.SUCCESS: "green",
    Tone.WARNING: "yellow",
    Tone.DANGER: "red",
}


class ConsoleNotifier:
    def __init__(
        self,
        console: Console | None = None,
        *,
        chart_dir: Path | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self._console = console or Console(highlight=False)
        self._chart_dir = chart_dir
        self._names = dict(names or {})  # Slack user id → the person's name, for "DM to Ana Lima"
        self._counter = itertools.count(1)
        self._targets: dict[str, str] = {}
        self._lock = threading.Lock()

    def post(
        self,
        *,
        target: str,
        message: Message,
        key: str,
        deploy_id: int | None = None,
        thread: MessageRef | None = None,
        image: Image | None = None,
    ) -> MessageRef:
        with self._lock:
            ts = f"{next(self._counter)}.000000"
        channel = thread.channel if thread else target
        self._targets[ts] = channel
        where = f"thread in {channel}" if thread else self._where(target)
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
        number = ref.ts.split(".")[0]
        self._print(
            message, f"✎ updated in place: {self._where(ref.channel)} (message #{number})", full=False
        )

    def find_posted(
        self,
        *,
        target: str,
        key: str,
        since: datetime,
        deploy_id: int | None = None,
        thread: MessageRef | None = None,
    ) -> MessageRef | None:
        return None  # printing cannot half-fail

    def _where(self, target: str) -> str:
        return _where(target, self._names)

    def _print(self, message: Message, heading: str, *, full: bool) -> None:
        lines = [f"[bold]{rendered(message.title)}[/]"]
        if message.status:
            lines.append(rendered(message.status))
        if full:
            for section in message.sections:
                if section.heading:
                    lines.append(f"\n[bold]{rendered(section.heading)}[/]")
                lines += [f"  {rendered(line)}" for line in section.lines]
            if message.overflow:
                lines.append(f"  {_esc(message.overflow.label)}: {_esc(message.overflow.url)}")
            if message.buttons:
                lines.append("\n" + "  ".join(f"[reverse] {_esc(b.label)} [/]" for b in message.buttons))
        if message.footer:
            lines.append(f"[dim]{' · '.join(rendered(f) for f in message.footer)}[/]")
        self._console.print(
            Panel("\n".join(lines), title=heading, title_align="left", border_style=_STYLES[message.tone])
        )


class ConsoleUserLookup:
    """Without a Slack token nobody can be looked up by email."""

    def user_id(self, email: str) -> str | None:
        # Not an answer ("nobody has it"), so nothing is cached: a Slack token set later looks again.
        raise NotifierRejected("no_slack", "no Slack token: only people with a slack_user_id get DMs")


def rendered(line: Line) -> str:
    """Neutral text as rich console markup: links as `label (url)`, mentions as `@Name`."""
    if isinstance(line, Field):
        return f"{rendered(line.label)}: {rendered(line.value)}"
    if isinstance(line, CodeBlock):
        return "\n".join(f"    [cyan]{_esc(row)}[/]" if row else "" for row in line.text.splitlines())
    return "".join(_part(part) for part in line.parts)


def _part(part: Inline) -> str:
    if isinstance(part, Link):  # <url> reads as one piece even inside parentheses: "(#14 <https://…>)"
        return f"{_esc(part.label)} <{_esc(part.url)}>"
    if isinstance(part, Mention):
        return f"@{_esc(part.name)}"
    styles = [
        name for name, on in (("bold", part.strong), ("italic", part.emphasis), ("cyan", part.code)) if on
    ]
    words = _esc(part.text)
    return f"[{' '.join(styles)}]{words}[/]" if styles and words else words


def _where(target: str, names: Mapping[str, str]) -> str:
    if target[:1] in ("U", "W"):
        return f"DM to {names[target]} ({target})" if target in names else f"DM to {target}"
    return f"channel {target}"


def _esc(text: str) -> str:
    return text.replace("[", "\\[")
