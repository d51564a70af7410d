"""Notification records: what was sent where, and who acknowledged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    CHANNEL = "channel_summary"
    AUTHOR_DM = "author_dm"
    MERGER_DM = "merger_dm"
    STAGE = "stage_reply"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    WRONG = "something_wrong"
    VERDICT = "verdict"  # a failed or inconclusive watch, told to authors and the channel thread
    PAGE = "page"  # an alert after the deploy, told to its authors and mergers
    ROLLBACK = "rollback"  # a rollback's progress, in the channel thread


UPDATABLE = frozenset(
    {Kind.CHANNEL, Kind.AUTHOR_DM, Kind.MERGER_DM, Kind.ESCALATION, Kind.PAGE, Kind.ROLLBACK}
)


class State(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # a post whose outcome is unknown (timeout, 5xx) until checked
    SENT = "sent"
    FAILED = "failed"


@dataclass
class Notification:
    deploy_id: int
    key: str
    kind: Kind
    target: str  # a Slack user id (DM) or channel
    created_at: datetime
    updated_at: datetime
    state: State = State.PENDING
    id: int | None = None
    person_key: str | None = None
    person_name: str | None = None
    person_email: str | None = None
    thread_key: str | None = None
    channel: str | None = None  # the channel id Slack answered with
    ts: str | None = None
    fingerprint: str | None = None
    error: str | None = None
    attempted_at: datetime | None = None


class AckKind(StrEnum):
    WATCHING = "watching"  # "I'm watching"
    WRONG = "wrong"  # "Something's wrong"


@dataclass(frozen=True)
class Ack:
    """A person answering a notification's button."""

    deploy_id: int
    slack_user: str
    name: str
    acked_at: datetime
    kind: AckKind = AckKind.WATCHING
    id: int | None = None
