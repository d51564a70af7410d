"""Destinations as circuits: while Slack or PagerDuty is down, the jobs that deliver there wait.

Per-job backoff makes every job find out on its own that Slack is down, and after a long outage
the next try of each can be minutes away or the job dead. A circuit is shared by every job for
one destination instead: the first outage error opens it, jobs that meet an open circuit are
parked without spending an attempt, a cheap probe asks every few seconds whether the destination
answers again, one parked job goes through first (half-open) and then the rest are released at
once, oldest first. Pure parts only; the runner and the probe loop are in `services/`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from shepherd.domain.jobs import JobKind

PROBE_SECONDS = 5.0  # at least every 10 s, and a probe is one cheap call
TRIAL_SECONDS = 60.0  # a trial job not heard of by then got lost: probe again and close
SLACK, PAGERDUTY = "slack", "pagerduty"

# Where each kind of job delivers; kinds not listed (git, watch ticks, routing) have none.
DESTINATIONS: dict[str, str] = {
    JobKind.SYNC_MESSAGES: SLACK,
    JobKind.SLACK_REPLY: SLACK,
    JobKind.ALERT_NOTE: SLACK,
    JobKind.OPS_NOTICE: SLACK,
    JobKind.DELIVERY_DIGEST: SLACK,
    JobKind.PAGE_PAGERDUTY: PAGERDUTY,
}


def destination_of(kind: str) -> str | None:
    return DESTINATIONS.get(kind)


class CircuitState(StrEnum):
    CLOSED = "closed"  # delivering
    OPEN = "open"  # down: jobs park, the probe asks every PROBE_SECONDS
    HALF_OPEN = "half_open"  # the probe passed: one trial job goes first


@dataclass(frozen=True)
class Circuit:
    destination: str
    state: CircuitState = CircuitState.CLOSED
    opened_at: datetime | None = None  # when this outage began (kept through half-open)
    next_probe_at: datetime | None = None
    last_error: str | None = None
    trial_job_id: int | None = None  # the one job let through while half-open
    held: int = 0  # jobs parked during this outage, for the "back after …" notice

    @property
    def delivering(self) -> bool:
        return self.state is CircuitState.CLOSED

    def lets_through(self, job_id: int) -> bool:
        """Whether a job for this destination may run now (else it is parked)."""
        return self.state is CircuitState.CLOSED or self.trial_job_id == job_id


def trip(circuit: Circuit, *, now: datetime, error: str, retry_after: float | None = None) -> Circuit:
    """An outage error (connection, timeout, 5xx, 429): open, or stay open, and probe later.

    A rate limit's Retry-After is the wait exactly (Slack said when); an outage waits PROBE_SECONDS.
    """
    wait = retry_after if retry_after is not None else PROBE_SECONDS
    probe_at = now + timedelta(seconds=wait)
    if circuit.state is CircuitState.OPEN and circuit.next_probe_at is not None:
        probe_at = max(probe_at, circuit.next_probe_at)
    return replace(
        circuit,
        state=CircuitState.OPEN,
        opened_at=circuit.opened_at or now,
        next_probe_at=probe_at,
        last_error=error[:500],
        trial_job_id=None,
    )


def probe_failed(circuit: Circuit, *, now: datetime, error: str) -> Circuit:
    return trip(circuit, now=now, error=error)


def probe_passed(circuit: Circuit, *, now: datetime, trial_job_id: int | None) -> Circuit:
    """Half-open with one trial job; with nothing parked there is nothing to try: closed."""
    if trial_job_id is None:
        return close(circuit)
    deadline = now + timedelta(seconds=TRIAL_SECONDS)
    return replace(circuit, state=CircuitState.HALF_OPEN, next_probe_at=deadline, trial_job_id=trial_job_id)


def close(circuit: Circuit) -> Circuit:
    return replace(
        circuit,
        state=CircuitState.CLOSED,
        opened_at=None,
        next_probe_at=None,
        trial_job_id=None,
        held=0,
    )


def parked(circuit: Circuit, count: int = 1) -> Circuit:
    return replace(circuit, held=circuit.held + count)


@dataclass(frozen=True)
class Recovery:
    """What the ops channel hears when a destination answers again."""

    destination: str
    down_since: datetime
    back_at: datetime
    held: int

    @property
    def seconds(self) -> float:
        return (self.back_at - self.down_since).total_seconds()


def recovery(circuit: Circuit, *, now: datetime) -> Recovery | None:
    """The outage that just ended, when closing a circuit that was open."""
    if circuit.opened_at is None:
        return None
    return Recovery(circuit.destination, circuit.opened_at, now, circuit.held)
