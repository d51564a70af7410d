"""Notifications: neutral messages as data, what they say, and which ones a deploy should have now."""

from shepherd.domain.notify.compose import ACK, ROLLBACK, WRONG
from shepherd.domain.notify.digest import SlowChange, digest_message
from shepherd.domain.notify.health import verdict_message
from shepherd.domain.notify.messages import Button, Confirm, Image, Message, MessageRef, Section, Tone
from shepherd.domain.notify.planning import Desired, plan
from shepherd.domain.notify.records import UPDATABLE, Ack, AckKind, Kind, Notification, State
from shepherd.domain.notify.spans import (
    CodeBlock,
    Field,
    Inline,
    Line,
    Link,
    Mention,
    Span,
    Text,
    code,
    emphasis,
    join,
    link,
    mention,
    strong,
    text,
)
from shepherd.domain.notify.view import (
    DeployView,
    Owner,
    PageView,
    Recipient,
    guide_links,
    placeholder_values,
)

__all__ = [
    "ACK",
    "ROLLBACK",
    "UPDATABLE",
    "WRONG",
    "Ack",
    "AckKind",
    "Button",
    "CodeBlock",
    "Confirm",
    "DeployView",
    "Desired",
    "Field",
    "Image",
    "Inline",
    "Kind",
    "Line",
    "Link",
    "Mention",
    "Message",
    "MessageRef",
    "Notification",
    "Owner",
    "PageView",
    "Recipient",
    "Section",
    "SlowChange",
    "Span",
    "State",
    "Text",
    "Tone",
    "code",
    "digest_message",
    "emphasis",
    "guide_links",
    "join",
    "link",
    "mention",
    "placeholder_values",
    "plan",
    "strong",
    "text",
    "verdict_message",
]
