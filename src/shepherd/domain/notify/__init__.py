"""Notifications: neutral messages as data, what they say, and which ones a deploy should have now."""

from shepherd.domain.notify.compose import ACK, ROLLBACK, WRONG
from shepherd.domain.notify.health import verdict_message
from shepherd.domain.notify.messages import (
    LINK_RE,
    MENTION_RE,
    Button,
    Confirm,
    Image,
    Message,
    MessageRef,
    Section,
    Tone,
    link,
    mention,
    plain,
)
from shepherd.domain.notify.planning import Desired, plan
from shepherd.domain.notify.records import UPDATABLE, Ack, AckKind, Kind, Notification, State
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
    "LINK_RE",
    "MENTION_RE",
    "ROLLBACK",
    "UPDATABLE",
    "WRONG",
    "Ack",
    "AckKind",
    "Button",
    "Confirm",
    "DeployView",
    "Desired",
    "Image",
    "Kind",
    "Message",
    "MessageRef",
    "Notification",
    "Owner",
    "PageView",
    "Recipient",
    "Section",
    "State",
    "Tone",
    "guide_links",
    "link",
    "mention",
    "placeholder_values",
    "plain",
    "plan",
    "verdict_message",
]
