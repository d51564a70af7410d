"""Destinations' circuits in memory: one row per destination, a closed circuit when none."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shepherd.domain.circuits import Circuit, CircuitState
from tests.support.memory.tables import Tables, out


class FakeCircuitRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def get(self, destination: str, *, for_update: bool = False) -> Circuit:
        return out(self._t.circuits.get(destination, Circuit(destination)))

    def save(self, circuit: Circuit, *, now: datetime) -> None:
        self._t.circuits[circuit.destination] = out(circuit)

    def all(self) -> list[Circuit]:
        return [out(self._t.circuits[d]) for d in sorted(self._t.circuits)]

    def claim_probe(self, destination: str, *, now: datetime, until: datetime) -> bool:
        circuit = self._t.circuits.get(destination)
        if circuit is None or circuit.state is CircuitState.CLOSED:
            return False
        if circuit.next_probe_at is not None and circuit.next_probe_at > now:
            return False
        self._t.circuits[destination] = replace(circuit, next_probe_at=until)
        return True
