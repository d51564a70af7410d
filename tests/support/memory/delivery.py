"""The delivery history over the in-memory tables, as the SQL repository reads it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shepherd.domain.delivery import ChangeRecord, DeployRecord
from shepherd.domain.watch import Verdict
from tests.support.memory.tables import Tables


class FakeDeliveryRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def history(self, *, services: Sequence[str], environment: str, since: datetime) -> list[DeployRecord]:
        causes: dict[int, list[int]] = {}
        for incident in sorted(self._t.incidents.values(), key=lambda i: i.id or 0):
            if incident.cause_deploy_id is not None and incident.id is not None:
                causes.setdefault(incident.cause_deploy_id, []).append(incident.id)
        out = []
        for d in self._t.deploys.values():
            if d.service not in services or d.environment != environment or d.started_at < since:
                continue
            assert d.id is not None
            watch = self._t.watches.get(d.id)
            changes = tuple(
                ChangeRecord(c.sha, c.authored_at, c.pr_number, c.pr_first_authored_at, c.reverts)
                for c in self._t.changes.get(d.id, [])
            )
            out.append(
                DeployRecord(
                    id=d.id,
                    service=d.service,
                    environment=d.environment,
                    sha=d.sha,
                    status=d.status,
                    started_at=d.started_at,
                    finished_at=d.finished_at,
                    idempotency_key=d.idempotency_key,
                    changes=changes,
                    watch_failed=watch is not None and watch.verdict is Verdict.FAIL,
                    incidents=tuple(causes.get(d.id, ())),
                    rollback=d.rollback,
                )
            )
        return out
