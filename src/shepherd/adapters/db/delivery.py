"""The delivery history: deploys with their changes, watch verdicts and incident causes, in four reads.

Core selects, not ORM objects: a year of a busy service is tens of thousands of deploys and
hundreds of thousands of changes, and the metrics need a handful of columns of each.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, Text, cast, func, select
from sqlalchemy.orm import Session

from shepherd.adapters.db.tables import ChangeRow, DeployRow, IncidentRow, WatchRow
from shepherd.domain.delivery import ChangeRecord, DeployRecord
from shepherd.domain.deploys import DeployStatus

_DEPLOYS: Table = DeployRow.__table__  # type: ignore[assignment]
_CHANGES: Table = ChangeRow.__table__  # type: ignore[assignment]
_WATCHES: Table = WatchRow.__table__  # type: ignore[assignment]
_INCIDENTS: Table = IncidentRow.__table__  # type: ignore[assignment]


class SqlDeliveryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def history(self, *, services: Sequence[str], environment: str, since: datetime) -> list[DeployRecord]:
        """Every deploy of `services` to `environment` that started at or after `since`, with what
        the delivery metrics need of it (the later ones find reverts and recoveries)."""
        d = _DEPLOYS.c
        scope = (d.service.in_(list(services)), d.environment == environment, d.started_at >= since)
        ids = select(d.id).where(*scope)
        deploys = self._session.execute(
            select(
                d.id,
                d.service,
                d.environment,
                d.sha,
                d.status,
                d.started_at,
                d.finished_at,
                d.idempotency_key,
                d.rollback,
            ).where(*scope)
        ).all()
        changes = self._changes(scope)
        failed_watches = set(
            self._session.scalars(
                select(_WATCHES.c.deploy_id).where(
                    _WATCHES.c.deploy_id.in_(ids), _WATCHES.c.verdict == "fail"
                )
            )
        )
        causes: dict[int, list[int]] = defaultdict(list)
        i = _INCIDENTS.c
        for incident_id, deploy_id in self._session.execute(
            select(i.id, i.cause_deploy_id).where(i.cause_deploy_id.in_(ids)).order_by(i.id)
        ):
            causes[deploy_id].append(incident_id)
        return [_record(row, changes, failed_watches, causes) for row in deploys]

    def _changes(self, scope: tuple[Any, ...]) -> dict[int, list[ChangeRecord]]:
        c, d = _CHANGES.c, _DEPLOYS.c
        # Authored times as epoch seconds and reverts as text: a busy service's year is a hundred
        # thousand changes, and the column types' conversions were most of reading them.
        rows = self._session.execute(
            select(
                c.deploy_id,
                c.sha,
                self._epoch(c.authored_at),
                c.pr_number,
                cast(c.reverts, Text),
                self._epoch(c.pr_first_authored_at),
            )
            .join(_DEPLOYS, d.id == c.deploy_id)
            .where(*scope)
        ).all()  # in one go (row by row costs more than the query on PostgreSQL); no order needed
        out: dict[int, list[ChangeRecord]] = defaultdict(list)
        at = datetime.fromtimestamp
        for deploy_id, sha, authored, pr_number, reverts, first in rows:
            shas = tuple(json.loads(reverts)) if reverts and reverts != "[]" else ()
            pr_first = at(float(first), UTC) if first is not None else None
            out[deploy_id].append(ChangeRecord(sha, at(float(authored), UTC), pr_number, pr_first, shas))
        return out

    def _epoch(self, column: Any) -> Any:
        if self._session.get_bind().dialect.name == "sqlite":  # stored as UTC text
            return (func.julianday(column) - 2440587.5) * 86400.0
        return func.extract("epoch", column)


def _record(
    row: Any, changes: dict[int, list[ChangeRecord]], failed_watches: set[int], causes: dict[int, list[int]]
) -> DeployRecord:
    return DeployRecord(
        id=row.id,
        service=row.service,
        environment=row.environment,
        sha=row.sha,
        status=DeployStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        idempotency_key=row.idempotency_key,
        changes=tuple(changes.get(row.id, ())),
        watch_failed=row.id in failed_watches,
        incidents=tuple(causes.get(row.id, ())),
        rollback=bool(row.rollback),
    )
