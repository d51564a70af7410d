"""Incidents and rollbacks in SQL."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shepherd.domain.alerts import Incident, IncidentState, Rollback, RollbackState, RollbackVia
from shepherd.domain.errors import DuplicateKey

from .tables import IncidentRow, RollbackRow

_INCIDENT_FIELDS = [f.name for f in fields(Incident)]
_ROLLBACK_FIELDS = [f.name for f in fields(Rollback)]
OUTPUT_LIMIT = 20_000  # characters of a rollback command's output kept (the end, where errors are)


class SqlIncidentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, incident: Incident) -> Incident:
        row = IncidentRow(**_values(incident, _INCIDENT_FIELDS))
        self._session.add(row)
        self._session.flush()
        incident.id = row.id
        return incident

    def save(self, incident: Incident) -> None:
        row = self._session.get(IncidentRow, incident.id)
        assert row is not None
        for key, value in _values(incident, _INCIDENT_FIELDS).items():
            setattr(row, key, value)
        self._session.flush()

    def get(self, incident_id: int) -> Incident | None:
        row = self._session.get(IncidentRow, incident_id)
        return _incident(row) if row else None

    def open_for_deploy(self, deploy_id: int) -> Incident | None:
        query = (
            select(IncidentRow)
            .where(IncidentRow.deploy_id == deploy_id, IncidentRow.state == IncidentState.OPEN.value)
            .order_by(IncidentRow.id.desc())
            .limit(1)
        )
        row = self._session.scalars(query).one_or_none()
        return _incident(row) if row else None

    def query(
        self,
        *,
        state: str | None = None,
        service: str | None = None,
        deploy_id: int | None = None,
        limit: int = 50,
    ) -> list[Incident]:
        query = select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
        if state is not None:
            query = query.where(IncidentRow.state == state)
        if service is not None:
            query = query.where(IncidentRow.service == service)
        if deploy_id is not None:
            query = query.where(IncidentRow.deploy_id == deploy_id)
        return [_incident(r) for r in self._session.scalars(query)]

    # rollbacks

    def add_rollback(self, rollback: Rollback) -> Rollback:
        """DuplicateKey when one is already requested or running for the deploy."""
        row = RollbackRow(**_rollback_values(rollback))
        try:
            with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as exc:
            raise DuplicateKey(f"a rollback of deploy {rollback.deploy_id} is already under way") from exc
        rollback.id = row.id
        return rollback

    def save_rollback(self, rollback: Rollback) -> None:
        row = self._session.get(RollbackRow, rollback.id)
        assert row is not None
        for key, value in _rollback_values(rollback).items():
            setattr(row, key, value)
        self._session.flush()

    def rollback(self, rollback_id: int, *, for_update: bool = False) -> Rollback | None:
        query = select(RollbackRow).where(RollbackRow.id == rollback_id)
        if for_update:
            query = query.with_for_update()
        row = self._session.scalars(query).one_or_none()
        return _rollback(row) if row else None

    def rollbacks(self, deploy_id: int) -> list[Rollback]:
        query = select(RollbackRow).where(RollbackRow.deploy_id == deploy_id).order_by(RollbackRow.id)
        return [_rollback(r) for r in self._session.scalars(query)]


def _values(obj: Any, names: list[str]) -> dict[str, Any]:
    values = {name: getattr(obj, name) for name in names if name != "id"}
    return {k: v.value if isinstance(v, IncidentState) else v for k, v in values.items()}


def _incident(row: IncidentRow) -> Incident:
    values = {name: getattr(row, name) for name in _INCIDENT_FIELDS}
    return Incident(**{**values, "state": IncidentState(row.state)})


def _rollback_values(rollback: Rollback) -> dict[str, Any]:
    values = {name: getattr(rollback, name) for name in _ROLLBACK_FIELDS if name != "id"}
    values["state"] = rollback.state.value
    values["active"] = "yes" if rollback.state.active else None
    values["output"] = rollback.output[-OUTPUT_LIMIT:]
    return values


def _rollback(row: RollbackRow) -> Rollback:
    values = {name: getattr(row, name) for name in _ROLLBACK_FIELDS}
    return Rollback(**{**values, "state": RollbackState(row.state), "via": RollbackVia(row.via)})
