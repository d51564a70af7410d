"""Neutral messages: what to say, not how Slack or a console shows it.

Text may carry two bits of markup that each sink renders its own way:
`[label](https://url)` for a link and `@[Name](U0123ABC)` for a mention.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum

LINK_RE = re.compile(r"(?<!@)\[([^\]]+)\]\(([^)\s]+)\)")
MENTION_RE = re.compile(r"@\[([^\]]+)\]\(([UW][A-Z0-9]+)\)")


class Tone(StrEnum):
    INFO = "info"
    PROGRESS = "progress"
    SUCCESS = "success"
    WARNING = "warning"
    DANGER = "danger"


@dataclass(frozen=True)
class Section:
    heading: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Confirm:
    """A dialog shown before a button's press counts ("Roll back checkout? [Roll back] [Cancel]")."""

    title: str
    text: str
    ok: str
    deny: str = "Cancel"


@dataclass(frozen=True)
class Button:
    action_id: str
    label: str
    value: str
    style: str | None = None  # "primary" | "danger"
    confirm: Confirm | None = None


@dataclass(frozen=True)
class Message:
    title: str
    text: str  # the notification/fallback line
    tone: Tone = Tone.INFO
    status: str | None = None  # the live status line
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: tuple[str, ...] = ()
    overflow: tuple[str, str] | None = field(default=None)  # ("+N more changes", url)

    def fingerprint(self) -> str:
        """Changes whenever anything a reader sees changes: decides whether to chat.update."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:32]


def link(label: str, url: str) -> str:
    return f"[{label.replace(']', ')')}]({url})"


def mention(name: str, slack_user: str) -> str:
    return f"@[{name.replace(']', ')')}]({slack_user})"


def plain(text: str) -> str:
    """The text with markup turned into words: `label (url)` and `@Name`."""
    text = MENTION_RE.sub(lambda m: f"@{m.group(1)}", text)
    return LINK_RE.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)


@dataclass(frozen=True)
class MessageRef:
    """Where a message landed: enough to update it or reply in its thread."""

    channel: str
    ts: str


@dataclass(frozen=True)
class Image:
    """A picture to attach to a message (a chart of the checks)."""

    filename: str
    data: bytes
    title: str
