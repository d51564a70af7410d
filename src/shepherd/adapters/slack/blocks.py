"""Block Kit for neutral messages: the only place Shepherd speaks Slack's layout language.

Slack's limits are enforced here (slack_sdk does not): at most 50 blocks a message and
3,000 characters a section; what does not fit ends in a link to the full page.
"""

from __future__ import annotations

import re
from typing import Any

from shepherd.domain.notify import LINK_RE, MENTION_RE, Button, Confirm, Message, Tone, plain

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_BUTTON_LABEL = 75
MAX_CONFIRM_TITLE = 100  # Block Kit confirmation dialog limits
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
COLORS = {
    Tone.INFO: "#4a90d9",
    Tone.PROGRESS: "#4a90d9",
    Tone.SUCCESS: "#2eb67d",
    Tone.WARNING: "#ecb22e",
    Tone.DANGER: "#e01e5a",
}
_TOKEN = re.compile(f"{MENTION_RE.pattern}|{LINK_RE.pattern}")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """Neutral markup → Slack mrkdwn, escaping everything else."""
    out, last = [], 0
    for match in _TOKEN.finditer(text):
        out.append(escape(text[last : match.start()]))
        if match.group(2):  # mention
            out.append(f"<@{match.group(2)}>")
        else:
            out.append(f"<{match.group(4)}|{escape(match.group(3)).replace('|', '¦')}>")
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def fallback_text(message: Message) -> str:
    return mrkdwn(message.text)[:MAX_SECTION_CHARS]


def section(text: str) -> dict[str, Any]:
    if len(text) > MAX_SECTION_CHARS:
        text = text[: MAX_SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def chunked(heading: str | None, lines: tuple[str, ...]) -> list[dict[str, Any]]:
    """A heading and lines as few sections as fit in 3,000 characters each."""
    blocks, current = [], f"*{mrkdwn(heading)}*" if heading else ""
    for line in (mrkdwn(x) for x in lines):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_SECTION_CHARS and current:
            blocks.append(section(current))
            candidate = line
        current = candidate
    if current:
        blocks.append(section(current))
    return blocks


def blocks(message: Message) -> list[dict[str, Any]]:
    head = f"*{mrkdwn(message.title)}*"
    if message.status:
        head += f"\n{mrkdwn(message.status)}"
    body: list[dict[str, Any]] = [section(head)]
    for part in message.sections:
        body += chunked(part.heading, part.lines)
    tail: list[dict[str, Any]] = []
    if message.overflow:
        label, url = message.overflow
        tail.append(section(f"<{url}|{escape(label)}>"))
    if message.footer:
        tail.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": mrkdwn(" · ".join(message.footer))[:3000]}],
            }
        )
    if message.buttons:
        tail.append(
            {
                "type": "actions",
                "elements": [_button(b) for b in message.buttons],
            }
        )
    room = MAX_BLOCKS - len(tail)
    if len(body) > room:
        body = [*body[: room - 1], section("_…more in Shepherd (this message hit Slack's size limit)_")]
    return body + tail


def _button(b: Button) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": b.action_id,
        "text": {"type": "plain_text", "text": _cut(b.label, MAX_BUTTON_LABEL), "emoji": True},
        "value": b.value,
    }
    if b.style:
        button["style"] = b.style
    if b.confirm is not None:
        button["confirm"] = confirm_dialog(b.confirm, danger=b.style == "danger")
    return button


def confirm_dialog(confirm: Confirm, *, danger: bool = True) -> dict[str, Any]:
    """Block Kit's confirmation dialog: Slack asks before the press reaches Shepherd."""

    def text(value: str, limit: int) -> dict[str, Any]:
        return {"type": "plain_text", "text": _cut(plain(value), limit), "emoji": True}

    return {
        "title": text(confirm.title, MAX_CONFIRM_TITLE),
        "text": text(confirm.text, MAX_CONFIRM_TEXT),
        "confirm": text(confirm.ok, MAX_CONFIRM_BUTTON),
        "deny": text(confirm.deny, MAX_CONFIRM_BUTTON),
        "style": "danger" if danger else "primary",
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attachments(message: Message) -> list[dict[str, Any]]:
    """Blocks inside a coloured attachment: the colour bar shows the deploy's state."""
    return [{"color": COLORS[message.tone], "blocks": blocks(message), "fallback": message.text[:300]}]
