"""Jobs: the durable follow-up work of the transactional outbox. Pure parts only."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobKind(StrEnum):
    """Every kind of job, one per handler; the handler registry refuses anything else."""

    ATTRIBUTE = "attribute"  # read a deploy's changes from git (and GitHub)
    SYNC_MESSAGES = "sync_messages"  # make a deploy's Slack messages match its state
    WATCH = "watch"  # one look at a deploy's health checks
    ROUTE_ALERTS = "route_alerts"  # find the suspects of new alerts and page them
    PAGE_PAGERDUTY = "page_pagerduty"  # send a page's PagerDuty event
    RUN_ROLLBACK = "run_rollback"  # run a service's rollback command or webhook
    SLACK_REPLY = "slack_reply"  # answer a button press through its response_url
    ALERT_NOTE = "alert_note"  # a note in a deploy's thread that an alert fired
    OPS_NOTICE = "ops_notice"  # tell the ops channel a destination is back after an outage
    DELIVERY_DIGEST = "delivery_digest"  # Monday's delivery metrics for a team or service


class JobOutcome(StrEnum):
    """What the runner did with a job it ran (logs, tests, benchmarks)."""

    DONE = "done"
    RESCHEDULED = "rescheduled"  # a self-rescheduling job's next run is recorded
    RETRY = "retry"  # failed; due again after backoff
    WAIT = "wait"  # asked to wait (RetryLater): due again after exactly that delay
    DEAD = "dead"
    PARKED = "parked"  # its destination is down: it waits for the circuit, its attempt given back
    LEASE_LOST = "lease_lost"  # another worker owns it now; this one wrote nothing


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PARKED = "parked"  # its destination is down: waits for the circuit, spends no attempts
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True)
class NewJob:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    run_at: datetime | None = None  # None: now
    max_attempts: int = 8
    deploy_id: int | None = None
    # Jobs with one serial key run one at a time, in order (e.g. one deploy's messages).
    serial_key: str | None = None
    # With a serial key: skip when a pending twin of the same kind will run no later.
    coalesce: bool = False
    # Who it delivers to (`domain.circuits`); None: the kind's usual one, if it has one.
    destination: str | None = None


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    state: JobState
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    updated_at: datetime
    dedupe_key: str | None = None
    lease_token: str | None = None
    leased_until: datetime | None = None
    last_error: str | None = None
    deploy_id: int | None = None
    serial_key: str | None = None
    finished_at: datetime | None = None
    destination: str | None = None


class RetryLater(Exception):
    """Raised by a handler: try again after `seconds` (e.g. Slack's Retry-After)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class LeaseLost(Exception):
    """The job's lease expired and another worker may own it now."""


class Transient(Exception):
    """An outage the job rides out with backoff; logged as one line, not a traceback."""


class PermanentFailure(Exception):
    """Raised by a handler: retrying cannot help; the job is dead at once."""


def backoff_seconds(
    attempt: int, *, base: float = 2.0, cap: float = 600.0, rng: random.Random | None = None
) -> float:
    """Exponential backoff: the step doubles up to `cap`, then jitter of ×[0.5, 1.5) spreads it."""
    step: float = min(cap, base * (2.0 ** max(0, attempt - 1)))
    jitter: float = (rng or random.Random()).random()
    return step * (0.5 + jitter)
