"""Alerts and pages in SQL."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shepherd.domain.alerts import Alert, AlertLink, AlertStatus, Page, PageState, Severity, StoredAlert

from .tables import AlertRow, PageRow

_PAGE_FIELDS = [f.name for f in fields(Page)]


class SqlAlertRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, alert: Alert, *, now: datetime) -> bool:
        """Store an alert's latest state; False when it says nothing new (a redelivery)."""
        row = self._by_fingerprint(alert.source, alert.fingerprint)
        if row is None:
            try:
                with self._session.begin_nested():
                    self._session.add(
                        AlertRow(**_alert_values(alert), received_at=now, updated_at=now, ranking=[])
                    )
                return True
            except IntegrityError:  # another request stored it first: treat as an update
                row = self._by_fingerprint(alert.source, alert.fingerprint)
                assert row is not None
        if not _news(row, alert):
            return False
        for key, value in _alert_values(alert).items():
            setattr(row, key, value)
        row.updated_at = now
        self._session.flush()
        return True

    def record_many(self, alerts: list[Alert], *, now: datetime) -> list[Alert]:
        """`record` for a webhook's batch in a few statements; returns the alerts that said something new."""
        latest = {(a.source, a.fingerprint[:255]): a for a in alerts}  # a body may repeat one: last wins
        if not latest:
            return []
        query = select(AlertRow).where(
            AlertRow.source.in_({s for s, _ in latest}), AlertRow.fingerprint.in_([f for _, f in latest])
        )
        existing = {(r.source, r.fingerprint): r for r in self._session.scalars(query)}
        changed, fresh = [], []
        for key, alert in latest.items():
            row = existing.get(key)
            if row is None:
                fresh.append(alert)
            elif _news(row, alert):
                for name, value in _alert_values(alert).items():
                    setattr(row, name, value)
                row.updated_at = now
                changed.append(alert)
        try:
            with self._session.begin_nested():
                self._session.add_all(
                    AlertRow(**_alert_values(a), received_at=now, updated_at=now, ranking=[]) for a in fresh
                )
            changed += fresh
        except IntegrityError:  # a concurrent request stored some of them: one by one, then
            changed += [a for a in fresh if self.record(a, now=now)]
        self._session.flush()
        return changed

    def firing_on_page(self, page_id: int) -> int:
        query = select(func.count()).where(AlertRow.page_id == page_id, AlertRow.status == "firing")
        return int(self._session.scalar(query) or 0)

    def _by_fingerprint(self, source: str, fingerprint: str) -> AlertRow | None:
        query = select(AlertRow).where(AlertRow.source == source, AlertRow.fingerprint == fingerprint)
        return self._session.scalars(query).one_or_none()

    def unrouted(self, *, service: str | None, limit: int = 500) -> list[StoredAlert]:
        """Alerts of a service whose latest state the router has not acted on, oldest first."""
        query = (
            select(AlertRow)
            .where(AlertRow.service == service if service is not None else AlertRow.service.is_(None))
            .where(or_(AlertRow.routed_status.is_(None), AlertRow.routed_status != AlertRow.status))
            .order_by(AlertRow.id)
            .limit(limit)
        )
        return [_stored(r) for r in self._session.scalars(query)]

    def mark_routed(self, alert_id: int, *, status: str, page_id: int | None, ranking: list[Any]) -> None:
        row = self._session.get(AlertRow, alert_id)
        assert row is not None
        row.routed_status, row.page_id, row.ranking = status, page_id, ranking
        self._session.flush()

    def get(self, alert_id: int) -> StoredAlert | None:
        row = self._session.get(AlertRow, alert_id)
        return _stored(row) if row else None

    def for_pages(self, page_ids: list[int]) -> list[StoredAlert]:
        if not page_ids:
            return []
        query = (
            select(AlertRow).where(AlertRow.page_id.in_(page_ids)).order_by(AlertRow.starts_at, AlertRow.id)
        )
        return [_stored(r) for r in self._session.scalars(query)]

    def recent(self, *, limit: int = 50) -> list[StoredAlert]:
        query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
        return [_stored(r) for r in self._session.scalars(query)]

    # pages

    def add_page(self, page: Page) -> Page:
        row = PageRow(**_page_values(page))
        self._session.add(row)
        self._session.flush()
        page.id = row.id
        return page

    def save_page(self, page: Page) -> None:
        row = self._session.get(PageRow, page.id)
        assert row is not None
        for key, value in _page_values(page).items():
            setattr(row, key, value)
        self._session.flush()

    def page(self, page_id: int) -> Page | None:
        row = self._session.get(PageRow, page_id)
        return _page(row) if row else None

    def grouping_page(self, *, deploy_id: int, at: datetime) -> Page | None:
        """The page an alert starting `at` joins: this deploy's, opened no later, still grouping."""
        query = (
            select(PageRow)
            .where(PageRow.deploy_id == deploy_id, PageRow.group_until >= at)
            .order_by(PageRow.id.desc())
            .limit(1)
        )
        row = self._session.scalars(query).one_or_none()
        return _page(row) if row else None

    def pages_for_deploy(self, deploy_id: int) -> list[Page]:
        query = select(PageRow).where(PageRow.deploy_id == deploy_id).order_by(PageRow.id)
        return [_page(r) for r in self._session.scalars(query)]

    def pages_for_incident(self, incident_id: int) -> list[Page]:
        query = select(PageRow).where(PageRow.incident_id == incident_id).order_by(PageRow.id)
        return [_page(r) for r in self._session.scalars(query)]


def _alert_values(alert: Alert) -> dict[str, Any]:
    return {
        "source": alert.source,
        "fingerprint": alert.fingerprint[:255],
        "name": alert.name[:255],
        "status": alert.status.value,
        "service": alert.service,
        "environment": alert.environment,
        "severity": alert.severity.value,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "summary": alert.summary,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "links": [[link.kind, link.url, link.title] for link in alert.links],
    }


def _news(row: AlertRow, alert: Alert) -> bool:
    return (row.status, row.starts_at, row.ends_at, row.summary) != (
        alert.status.value,
        alert.starts_at,
        alert.ends_at,
        alert.summary,
    )


def _stored(row: AlertRow) -> StoredAlert:
    alert = Alert(
        source=row.source,
        fingerprint=row.fingerprint,
        name=row.name,
        status=AlertStatus(row.status),
        service=row.service,
        environment=row.environment,
        severity=Severity(row.severity),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        summary=row.summary,
        labels=dict(row.labels or {}),
        annotations=dict(row.annotations or {}),
        links=tuple(AlertLink(*link) for link in row.links or []),
    )
    return StoredAlert(
        alert=alert,
        received_at=row.received_at,
        updated_at=row.updated_at,
        id=row.id,
        routed_status=row.routed_status,
        page_id=row.page_id,
        ranking=list(row.ranking or []),
    )


def _page_values(page: Page) -> dict[str, Any]:
    values = {name: getattr(page, name) for name in _PAGE_FIELDS if name != "id"}
    values["state"] = page.state.value
    return values


def _page(row: PageRow) -> Page:
    values = {name: getattr(row, name) for name in _PAGE_FIELDS}
    values["state"] = PageState(row.state)
    values["reasons"] = list(row.reasons or [])
    return Page(**values)
