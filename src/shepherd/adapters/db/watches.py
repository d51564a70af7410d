"""Watches, their latest check judgements and the deploy timeline in SQL."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shepherd.adapters.db.tables import CheckResultRow, TimelineRow, WatchRow
from shepherd.domain.metrics import CheckResult, Outcome, Point, Verdict
from shepherd.domain.watch import StoredCheck, TimelineEntry, Watch

_WATCH_FIELDS = [f.name for f in fields(Watch)]


class SqlWatchRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, deploy_id: int) -> Watch | None:
        row = self._session.get(WatchRow, deploy_id)
        if row is None:
            return None
        values = {name: getattr(row, name) for name in _WATCH_FIELDS}
        return Watch(**{**values, "verdict": Verdict(row.verdict)})

    def save(self, watch: Watch) -> None:
        values = {name: getattr(watch, name) for name in _WATCH_FIELDS}
        values["verdict"] = watch.verdict.value
        row = self._session.get(WatchRow, watch.deploy_id)
        if row is None:
            self._session.add(WatchRow(**values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        self._session.flush()

    def checks(self, deploy_id: int) -> list[StoredCheck]:
        query = (
            select(CheckResultRow).where(CheckResultRow.deploy_id == deploy_id).order_by(CheckResultRow.id)
        )
        return [_stored(row) for row in self._session.scalars(query)]

    def save_check(self, stored: StoredCheck) -> None:
        query = select(CheckResultRow).where(
            CheckResultRow.deploy_id == stored.deploy_id, CheckResultRow.name == stored.result.name
        )
        row = self._session.scalars(query).one_or_none()
        values = _check_values(stored)
        if row is None:
            self._session.add(CheckResultRow(**values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        self._session.flush()

    def add_timeline(self, entry: TimelineEntry) -> None:
        values = {k: v for k, v in asdict(entry).items() if k != "id"}
        self._session.add(TimelineRow(**values))
        self._session.flush()

    def timeline(self, deploy_id: int) -> list[TimelineEntry]:
        query = (
            select(TimelineRow)
            .where(TimelineRow.deploy_id == deploy_id)
            .order_by(TimelineRow.at, TimelineRow.id)
        )
        return [
            TimelineEntry(
                id=r.id, deploy_id=r.deploy_id, at=r.at, kind=r.kind, text=r.text, data=dict(r.data or {})
            )
            for r in self._session.scalars(query)
        ]


def _points(points: tuple[Point, ...]) -> list[list[float]]:
    return [[p.t, p.v] if p.w is None else [p.t, p.v, p.w] for p in points]


def _check_values(stored: StoredCheck) -> dict[str, Any]:
    result = stored.result
    return {
        "deploy_id": stored.deploy_id,
        "name": result.name,
        "outcome": result.outcome.value,
        "reason": result.reason,
        "baseline": result.baseline,
        "candidate": result.candidate,
        "ratio": result.ratio,
        "p_value": result.p_value,
        "test": result.test,
        "critical": result.critical,
        "details": dict(result.details),
        "mode": stored.mode,
        "baseline_points": _points(stored.baseline),
        "candidate_points": _points(stored.candidate),
        "judged_at": stored.judged_at,
    }


def _stored(row: CheckResultRow) -> StoredCheck:
    result = CheckResult(
        name=row.name,
        outcome=Outcome(row.outcome),
        reason=row.reason,
        baseline=row.baseline,
        candidate=row.candidate,
        ratio=row.ratio,
        p_value=row.p_value,
        test=row.test,
        critical=row.critical,
        details=dict(row.details or {}),
    )
    return StoredCheck(
        deploy_id=row.deploy_id,
        result=result,
        mode=row.mode,
        baseline=tuple(Point(*p) for p in row.baseline_points),
        candidate=tuple(Point(*p) for p in row.candidate_points),
        judged_at=row.judged_at,
    )
