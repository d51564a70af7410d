"""Neutral messages: what to say, not how Slack or a console shows it.

Their text is `spans.Text` (words, emphasis, links, mentions): each sink renders it its own way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from shepherd.domain.notify.spans import Line, Link, Text


class Tone(StrEnum):
    INFO = "info"
    PROGRESS = "progress"
    SUCCESS = "success"
    WARNING = "warning"
    DANGER = "danger"


@dataclass(frozen=True)
class Section:
    heading: Text | None
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Confirm:
    """A dialog shown before a button's press counts ("Roll back checkout? [Roll back] [Cancel]")."""

    title: str
    text: Text
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
    title: Text
    text: Text  # the notification/fallback line
    tone: Tone = Tone.INFO
    status: Text | None = None  # the live status line
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: tuple[Text, ...] = ()
    overflow: Link | None = field(default=None)  # "+N more changes", to the full page

    def fingerprint(self) -> str:
        """Changes whenever anything a reader sees changes: decides whether to chat.update."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:32]


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
