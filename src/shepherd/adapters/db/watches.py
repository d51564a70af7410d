"""Watches, their latest check judgements and the deploy timeline in SQL.

A watch tick reads its watch and writes it and its check rows back, so those statements are
Core, built once (per dialect for the insert): the ORM's select-then-update per check row
cost more than the database's work. Points are stored packed (points.py), not as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from functools import cache
from typing import Any

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from shepherd.adapters.db.points import pack, unpack
from shepherd.adapters.db.tables import CheckResultRow, TimelineRow, WatchRow
from shepherd.domain.watch import CheckResult, Outcome, StoredCheck, TimelineEntry, Verdict, Watch, WatchMode

_WATCH_FIELDS = [f.name for f in fields(Watch)]
_WATCHES: Table = WatchRow.__table__  # type: ignore[assignment]
_CHECKS: Table = CheckResultRow.__table__  # type: ignore[assignment]
_GET_WATCH = select(_WATCHES).where(_WATCHES.c.deploy_id == bindparam("id"))
_GET_WATCHES = select(_WATCHES).where(_WATCHES.c.deploy_id.in_(bindparam("ids", expanding=True)))
_INSERT_WATCH = insert(_WATCHES)
_GET_CHECKS = select(_CHECKS).where(_CHECKS.c.deploy_id == bindparam("id")).order_by(_CHECKS.c.id)
_UPDATE_WATCH = (
    update(_WATCHES)
    .where(_WATCHES.c.deploy_id == bindparam("id"))
    .values({name: bindparam(f"v_{name}") for name in _WATCH_FIELDS if name != "deploy_id"})
)


# The SET clause comes from the parameters' keys (all but the row's key, see _replacing).
_UPDATE_CHECK = update(_CHECKS).where(
    _CHECKS.c.deploy_id == bindparam("key_deploy_id"), _CHECKS.c.name == bindparam("key_name")
)


@cache
def _insert_missing_checks(dialect: str) -> Insert:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_(_CHECKS).on_conflict_do_nothing(index_elements=[_CHECKS.c.deploy_id, _CHECKS.c.name])


class SqlWatchRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, deploy_id: int) -> Watch | None:
        row = self._session.connection().execute(_GET_WATCH, {"id": deploy_id}).first()
        return None if row is None else _watch(row)

    def get_many(self, deploy_ids: Sequence[int]) -> dict[int, Watch]:
        if not deploy_ids:
            return {}
        rows = self._session.connection().execute(_GET_WATCHES, {"ids": list(deploy_ids)})
        return {row.deploy_id: _watch(row) for row in rows}

    def save(self, watch: Watch) -> None:
        values = {name: getattr(watch, name) for name in _WATCH_FIELDS}
        values["verdict"] = watch.verdict.value
        connection = self._session.connection()
        params = {"id": watch.deploy_id, **{f"v_{k}": v for k, v in values.items() if k != "deploy_id"}}
        if connection.execute(_UPDATE_WATCH, params).rowcount == 0:
            connection.execute(_INSERT_WATCH, values)

    def checks(self, deploy_id: int) -> list[StoredCheck]:
        rows = self._session.connection().execute(_GET_CHECKS, {"id": deploy_id})
        return [_stored(row) for row in rows]

    def save_check(self, stored: StoredCheck) -> None:
        self.save_checks([stored])

    def save_checks(self, stored: Sequence[StoredCheck]) -> None:
        """Replace each check's row (by deploy and name) in one executemany; insert the missing ones.

        Not one upsert: on PostgreSQL every INSERT … ON CONFLICT takes a new id from the sequence,
        and at 2,000 watches that would exhaust an integer id in about four months.
        """
        if not stored:
            return
        rows = [_check_values(s) for s in stored]
        connection = self._session.connection()
        updated = connection.execute(_UPDATE_CHECK, [_replacing(row) for row in rows])
        if updated.rowcount != len(rows):  # a first look, a check new in shepherd.yaml (or no count)
            connection.execute(_insert_missing_checks(self._session.get_bind().dialect.name), rows)

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


def _watch(row: Row[Any]) -> Watch:
    values = {name: getattr(row, name) for name in _WATCH_FIELDS}
    return Watch(**{**values, "verdict": Verdict(row.verdict)})


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
        "baseline_packed": pack(stored.baseline),
        "candidate_packed": pack(stored.candidate),
        "judged_at": stored.judged_at,
    }


def _replacing(values: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in values.items() if k not in ("deploy_id", "name")}
    return {**row, "key_deploy_id": values["deploy_id"], "key_name": values["name"]}


def _stored(row: Row[Any]) -> StoredCheck:
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
        mode=WatchMode(row.mode),
        baseline=unpack(row.baseline_packed),
        candidate=unpack(row.candidate_packed),
        judged_at=row.judged_at,
    )
