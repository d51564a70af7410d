"""Block Kit for neutral messages: the only place Shepherd speaks Slack's layout language.

Slack's limits are enforced here (slack_sdk does not): at most 50 blocks a message and
3,000 characters a section; what does not fit ends in a link to the full page.
"""

from __future__ import annotations

from typing import Any

from shepherd.domain.notify import (
    Button,
    CodeBlock,
    Confirm,
    Field,
    Inline,
    Line,
    Link,
    Mention,
    Message,
    Span,
    Tone,
)

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


def escape(text: str) -> str:
    """People's words as Slack shows them: `&`, `<` and `>` would otherwise start markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(line: Line) -> str:
    """Neutral text → Slack mrkdwn; every word from people is escaped."""
    if isinstance(line, Field):
        return f"{mrkdwn(line.label)}: {mrkdwn(line.value)}"
    if isinstance(line, CodeBlock):
        return f"```{escape(line.text)}```"
    return "".join(_inline(part) for part in line.parts)


def _inline(part: Inline) -> str:
    if isinstance(part, Mention):
        return f"<@{part.user}>"
    if isinstance(part, Link):
        # `|` ends the URL part of a Slack link: a label must not contain one.
        return f"<{part.url}|{escape(part.label).replace('|', '¦')}>"
    return _span(part)


def _span(span: Span) -> str:
    out = escape(span.text)
    if not out:
        return out
    if span.code:
        out = f"`{out}`"
    if span.emphasis:
        out = f"_{out}_"
    if span.strong:
        out = f"*{out}*"
    return out


def plain(line: Line) -> str:
    """For plain_text fields: links as `label (url)`, mentions as `@Name`, no emphasis."""
    if isinstance(line, Field):
        return f"{plain(line.label)}: {plain(line.value)}"
    if isinstance(line, CodeBlock):
        return line.text
    return "".join(_plain_part(part) for part in line.parts)


def _plain_part(part: Inline) -> str:
    if isinstance(part, Link):
        return f"{part.label} ({part.url})"
    if isinstance(part, Mention):
        return f"@{part.name}"
    return part.text


def fallback_text(message: Message) -> str:
    return mrkdwn(message.text)[:MAX_SECTION_CHARS]


def section(text: str) -> dict[str, Any]:
    if len(text) > MAX_SECTION_CHARS:
        text = text[: MAX_SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def chunked(heading: Line | None, lines: tuple[Line, ...]) -> list[dict[str, Any]]:
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
        tail.append(section(_inline(message.overflow)))
    if message.footer:
        tail.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": " · ".join(mrkdwn(f) for f in message.footer)[:3000]}
                ],
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
        return {"type": "plain_text", "text": _cut(value, limit), "emoji": True}

    return {
        "title": text(confirm.title, MAX_CONFIRM_TITLE),
        "text": text(plain(confirm.text), MAX_CONFIRM_TEXT),
        "confirm": text(confirm.ok, MAX_CONFIRM_BUTTON),
        "deny": text(confirm.deny, MAX_CONFIRM_BUTTON),
        "style": "danger" if danger else "primary",
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attachments(message: Message) -> list[dict[str, Any]]:
    """Blocks inside a coloured attachment: the colour bar shows the deploy's state."""
    return [{"color": COLORS[message.tone], "blocks": blocks(message), "fallback": plain(message.text)[:300]}]
