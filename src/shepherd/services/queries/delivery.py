"""Reads about delivery: which destinations are down, what waits for them, which jobs died and why.

For `/healthz`, `/metrics`, `shepherd jobs` and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shepherd.domain.circuits import Circuit, CircuitState
from shepherd.domain.jobs import Job, JobState
from shepherd.services.ports import Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class DestinationHealth:
    destination: str
    state: CircuitState
    down_since: datetime | None
    last_error: str | None
    parked: int
    oldest_parked_seconds: float

    @property
    def down(self) -> bool:
        return self.state is not CircuitState.CLOSED


@dataclass(frozen=True)
class DeliveryHealth:
    destinations: tuple[DestinationHealth, ...]
    jobs: dict[str, int]  # by state
    dead: tuple[Job, ...] = ()  # the newest dead jobs, when asked for

    @property
    def down(self) -> list[str]:
        return [d.destination for d in self.destinations if d.down]


def delivery_health(*, uow_factory: UnitOfWorkFactory, clock: Clock, dead: int = 0) -> DeliveryHealth:
    """Every destination that ever failed, with what waits for it; job counts by state; the
    newest `dead` dead jobs (their reasons are in `last_error`)."""
    now = clock()
    with uow_factory() as uow:
        circuits = {c.destination: c for c in uow.circuits.all()}
        parked = uow.jobs.parked()
        counts = uow.jobs.counts()
        died = uow.jobs.query(state=JobState.DEAD.value, limit=dead) if dead and counts.get("dead") else []
    out = []
    for destination in sorted(circuits.keys() | parked.keys()):
        circuit = circuits.get(destination, Circuit(destination))
        count, oldest = parked.get(destination, (0, now))
        age = max(0.0, (now - oldest).total_seconds()) if count else 0.0
        out.append(
            DestinationHealth(destination, circuit.state, circuit.opened_at, circuit.last_error, count, age)
        )
    return DeliveryHealth(tuple(out), counts, tuple(died))
