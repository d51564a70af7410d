"""The circuits table: one row per destination that has ever failed (`domain.circuits`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shepherd.adapters.db.tables import CircuitRow
from shepherd.domain.circuits import Circuit, CircuitState


class SqlCircuitRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, destination: str, *, for_update: bool = False) -> Circuit:
        if for_update:  # make the row exist, so two workers tripping at once queue on its lock
            self._ensure(destination)
        query = select(CircuitRow).where(CircuitRow.destination == destination)
        row = self._session.scalars(query.with_for_update() if for_update else query).one_or_none()
        return _circuit(row) if row is not None else Circuit(destination)

    def save(self, circuit: Circuit, *, now: datetime) -> None:
        self._ensure(circuit.destination)
        self._session.execute(
            update(CircuitRow)
            .where(CircuitRow.destination == circuit.destination)
            .values(
                state=circuit.state.value,
                opened_at=circuit.opened_at,
                next_probe_at=circuit.next_probe_at,
                last_error=circuit.last_error,
                trial_job_id=circuit.trial_job_id,
                held=circuit.held,
                updated_at=now,
            )
        )

    def all(self) -> list[Circuit]:
        rows = self._session.scalars(select(CircuitRow).order_by(CircuitRow.destination))
        return [_circuit(row) for row in rows]

    def claim_probe(self, destination: str, *, now: datetime, until: datetime) -> bool:
        """True for the one worker that probes now: the next probe moves to `until` for the others."""
        result = self._session.execute(
            update(CircuitRow)
            .where(
                CircuitRow.destination == destination,
                CircuitRow.state != CircuitState.CLOSED.value,
                or_(CircuitRow.next_probe_at.is_(None), CircuitRow.next_probe_at <= now),
            )
            .values(next_probe_at=until, updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    def _ensure(self, destination: str) -> None:
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {"destination": destination, "state": CircuitState.CLOSED.value, "held": 0}
        # `save` sets the real time; a row made only to be locked needs none of its own.
        statement = insert(CircuitRow).values(**values, updated_at=datetime.now(UTC))
        self._session.execute(statement.on_conflict_do_nothing())


def _circuit(row: CircuitRow) -> Circuit:
    return Circuit(
        destination=row.destination,
        state=CircuitState(row.state),
        opened_at=row.opened_at,
        next_probe_at=row.next_probe_at,
        last_error=row.last_error,
        trial_job_id=row.trial_job_id,
        held=row.held,
    )
