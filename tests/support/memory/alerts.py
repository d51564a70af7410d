"""Alerts, pages, incidents and rollbacks in memory, with the SQL repositories' keys and order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from shepherd.domain.alerts import Alert, Incident, IncidentState, Page, Rollback, StoredAlert
from shepherd.domain.errors import DuplicateKey
from tests.support.memory.tables import Sequences, Tables, out

_KEY_LENGTH = 255  # the SQL columns cut fingerprints and names to this
_OUTPUT_LIMIT = 20_000  # characters of a rollback's output the SQL repository keeps (the end)


class FakeAlertRepository:
    def __init__(self, tables: Tables, ids: Sequences) -> None:
        self._t, self._ids = tables, ids

    def record(self, alert: Alert, *, now: datetime) -> bool:
        alert = replace(alert, fingerprint=alert.fingerprint[:_KEY_LENGTH], name=alert.name[:_KEY_LENGTH])
        row = self._by_fingerprint(alert)
        if row is None:
            alert_id = self._ids.next("alerts")
            self._t.alerts[alert_id] = StoredAlert(alert=alert, received_at=now, updated_at=now, id=alert_id)
            return True
        if not _news(row.alert, alert):
            return False
        row.alert, row.updated_at = alert, now
        return True

    def record_many(self, alerts: list[Alert], *, now: datetime) -> list[Alert]:
        latest = {(a.source, a.fingerprint[:_KEY_LENGTH]): a for a in alerts}  # a repeated one: last wins
        return [a for a in latest.values() if self.record(a, now=now)]

    def _by_fingerprint(self, alert: Alert) -> StoredAlert | None:
        key = (alert.source, alert.fingerprint)
        return next(
            (s for s in self._t.alerts.values() if (s.alert.source, s.alert.fingerprint) == key), None
        )

    def firing_on_page(self, page_id: int) -> int:
        return sum(s.page_id == page_id and s.alert.firing for s in self._t.alerts.values())

    def unrouted(self, *, service: str | None, limit: int = 500) -> list[StoredAlert]:
        found = [
            s
            for s in self._t.alerts.values()
            if s.alert.service == service and s.routed_status != s.alert.status.value
        ]
        return [out(s) for s in sorted(found, key=lambda s: s.id or 0)[:limit]]

    def mark_routed(self, alert_id: int, *, status: str, page_id: int | None, ranking: list[Any]) -> None:
        row = self._t.alerts[alert_id]
        row.routed_status, row.page_id, row.ranking = status, page_id, out(ranking)

    def get(self, alert_id: int) -> StoredAlert | None:
        found = self._t.alerts.get(alert_id)
        return out(found) if found else None

    def for_pages(self, page_ids: list[int]) -> list[StoredAlert]:
        found = [s for s in self._t.alerts.values() if s.page_id in page_ids]
        return [out(s) for s in sorted(found, key=lambda s: (s.alert.starts_at, s.id or 0))]

    def recent(self, *, limit: int = 50) -> list[StoredAlert]:
        return [out(s) for s in sorted(self._t.alerts.values(), key=lambda s: -(s.id or 0))[:limit]]

    def add_page(self, page: Page) -> Page:
        page.id = self._ids.next("pages")
        self._t.pages[page.id] = out(page)
        return page

    def save_page(self, page: Page) -> None:
        assert page.id in self._t.pages
        self._t.pages[page.id] = out(page)

    def page(self, page_id: int) -> Page | None:
        found = self._t.pages.get(page_id)
        return out(found) if found else None

    def grouping_page(self, *, deploy_id: int, at: datetime) -> Page | None:
        found = [p for p in self._t.pages.values() if p.deploy_id == deploy_id and p.group_until >= at]
        latest = max(found, key=lambda p: p.id or 0, default=None)
        return out(latest) if latest else None

    def pages_for_deploy(self, deploy_id: int) -> list[Page]:
        return [out(p) for p in self._ordered_pages() if p.deploy_id == deploy_id]

    def pages_for_incident(self, incident_id: int) -> list[Page]:
        return [out(p) for p in self._ordered_pages() if p.incident_id == incident_id]

    def _ordered_pages(self) -> list[Page]:
        return sorted(self._t.pages.values(), key=lambda p: p.id or 0)


def _news(stored: Alert, alert: Alert) -> bool:
    """A redelivery with the same state, times and summary says nothing new."""
    fields = ("status", "starts_at", "ends_at", "summary")
    return any(getattr(stored, f) != getattr(alert, f) for f in fields)


class FakeIncidentRepository:
    def __init__(self, tables: Tables, ids: Sequences) -> None:
        self._t, self._ids = tables, ids

    def add(self, incident: Incident) -> Incident:
        incident.id = self._ids.next("incidents")
        self._t.incidents[incident.id] = out(incident)
        return incident

    def save(self, incident: Incident) -> None:
        assert incident.id in self._t.incidents
        self._t.incidents[incident.id] = out(incident)

    def get(self, incident_id: int) -> Incident | None:
        found = self._t.incidents.get(incident_id)
        return out(found) if found else None

    def open_for_deploy(self, deploy_id: int) -> Incident | None:
        found = self.query(state=IncidentState.OPEN.value, deploy_id=deploy_id, limit=1)
        return found[0] if found else None

    def query(
        self,
        *,
        state: str | None = None,
        service: str | None = None,
        deploy_id: int | None = None,
        limit: int = 50,
    ) -> list[Incident]:
        found = [
            i
            for i in sorted(self._t.incidents.values(), key=lambda i: -(i.id or 0))
            if (state is None or i.state == state)
            and (service is None or i.service == service)
            and (deploy_id is None or i.deploy_id == deploy_id)
        ]
        return [out(i) for i in found[:limit]]

    def add_rollback(self, rollback: Rollback) -> Rollback:
        """DuplicateKey when one is requested or running for the deploy (a unique key in SQL)."""
        if rollback.state.active and any(
            r.deploy_id == rollback.deploy_id and r.state.active for r in self._t.rollbacks.values()
        ):
            raise DuplicateKey(f"a rollback of deploy {rollback.deploy_id} is already under way")
        rollback.id = self._ids.next("rollbacks")
        self._t.rollbacks[rollback.id] = _kept(rollback)
        return rollback

    def save_rollback(self, rollback: Rollback) -> None:
        assert rollback.id in self._t.rollbacks
        self._t.rollbacks[rollback.id] = _kept(rollback)

    def rollback(self, rollback_id: int, *, for_update: bool = False) -> Rollback | None:
        found = self._t.rollbacks.get(rollback_id)
        return out(found) if found else None

    def rollbacks(self, deploy_id: int) -> list[Rollback]:
        found = sorted(self._t.rollbacks.values(), key=lambda r: r.id or 0)
        return [out(r) for r in found if r.deploy_id == deploy_id]


def _kept(rollback: Rollback) -> Rollback:
    return replace(rollback, output=rollback.output[-_OUTPUT_LIMIT:])
