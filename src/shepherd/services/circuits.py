"""Destinations' circuits at work: parking jobs while one is down, probing it, releasing them.

The job runner asks `lets_through` before running a job that delivers somewhere, calls `park`
when the job met an outage (connection, timeout, 5xx, 429), and `delivered` when it ran; the
worker's probe thread calls `probe_due` every second. See `domain/circuits.py` for the states.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shepherd.domain.circuits import (
    PROBE_SECONDS,
    Circuit,
    CircuitState,
    Recovery,
    close,
    parked,
    probe_failed,
    probe_passed,
    recovery,
    trip,
)
from shepherd.domain.jobs import Job
from shepherd.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("shepherd.circuits")


class DestinationProbe(Protocol):
    """One cheap call that tells whether a destination answers (Slack `auth.test`, a HEAD)."""

    def probe(self, destination: str) -> str | None:
        """None when it answers; otherwise what went wrong, for the log and `/healthz`."""
        ...


RecoveryListener = Callable[[UnitOfWork, Recovery], None]


@dataclass
class Circuits:
    """What the runner and the probe thread share: the probes and who hears of a recovery."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    probes: DestinationProbe
    on_recovery: RecoveryListener | None = None

    def lets_through(self, job: Job) -> Circuit | None:
        """The circuit when this job may run now, None when it must be parked."""
        assert job.destination is not None
        with self.uow_factory() as uow:
            circuit = uow.circuits.get(job.destination)
        return circuit if circuit.lets_through(job.id) else None

    def park(
        self, uow: UnitOfWork, job: Job, *, error: str, outage: bool, retry_after: float | None = None
    ) -> None:
        """Inside the runner's settling transaction. `outage`: this job just met it (trip)."""
        assert job.destination is not None and job.lease_token is not None
        now = self.clock()
        circuit = uow.circuits.get(job.destination, for_update=True)
        if outage:
            if circuit.state is CircuitState.CLOSED:
                log.warning("%s is down (%s): parking its jobs until it answers", job.destination, error)
            circuit = trip(circuit, now=now, error=error, retry_after=retry_after)
        elif circuit.lets_through(job.id):  # it closed meanwhile: run it instead of parking
            uow.jobs.retry(job.id, job.lease_token, now=now, run_at=now, error=error, refund=True)
            return
        uow.circuits.save(parked(circuit), now=now)
        uow.jobs.park(job.id, job.lease_token, now=now, error=error)

    def delivered(self, job: Job, seen: Circuit) -> None:
        """The job ran without meeting an outage; when it was the half-open trial, close up."""
        if seen.state is CircuitState.CLOSED or job.destination is None:
            return
        with self.uow_factory() as uow:
            circuit = uow.circuits.get(job.destination, for_update=True)
            if circuit.state is CircuitState.HALF_OPEN and circuit.trial_job_id == job.id:
                self._close(uow, circuit)

    def probe_due(self) -> list[str]:
        """Probe every open circuit whose time has come; the destinations that answered."""
        now = self.clock()
        with self.uow_factory() as uow:
            due = [c.destination for c in uow.circuits.all() if _probe_due(c, now)]
            until = now + timedelta(seconds=PROBE_SECONDS)
            claimed = [d for d in due if uow.circuits.claim_probe(d, now=now, until=until)]
        return [d for d in claimed if self._probe(d)]

    def _probe(self, destination: str) -> bool:
        try:
            problem = self.probes.probe(destination)
        except Exception as exc:  # a probe that breaks must not stop the others
            problem = f"{type(exc).__name__}: {exc}"
        with self.uow_factory() as uow:
            circuit = uow.circuits.get(destination, for_update=True)
            if circuit.state is CircuitState.CLOSED:
                return False
            if problem is not None:
                uow.circuits.save(probe_failed(circuit, now=self.clock(), error=problem), now=self.clock())
                return False
            if circuit.state is CircuitState.HALF_OPEN:  # its trial never reported back
                self._close(uow, circuit)
                return True
            trial = uow.jobs.release(destination, now=self.clock(), limit=1)
            passed = probe_passed(circuit, now=self.clock(), trial_job_id=trial[0] if trial else None)
            if passed.state is CircuitState.CLOSED:
                self._close(uow, circuit)
            else:
                uow.circuits.save(passed, now=self.clock())
                log.info("%s answers again: trying one job (%s) before the rest", destination, trial[0])
        return True

    def _close(self, uow: UnitOfWork, circuit: Circuit) -> None:
        now = self.clock()
        released = uow.jobs.release(circuit.destination, now=now)
        uow.circuits.save(close(circuit), now=now)
        ended = recovery(circuit, now=now)
        log.info("%s is back: %s parked jobs released", circuit.destination, len(released))
        if ended is not None and self.on_recovery is not None:
            self.on_recovery(uow, ended)


def _probe_due(circuit: Circuit, now: datetime) -> bool:
    """Open and its time has come; or half-open so long that its trial job must have got lost."""
    if circuit.state is CircuitState.CLOSED:
        return False
    return circuit.next_probe_at is None or circuit.next_probe_at <= now
