"""Notifications, acks and the Slack identity cache in SQL."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shepherd.adapters.db.tables import AckRow, NotificationRow, SlackUserRow
from shepherd.domain.notify import Ack, AckKind, Kind, Notification, State

_FIELDS = [f.name for f in fields(Notification)]


class SqlNotificationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def for_deploy(self, deploy_id: int) -> list[Notification]:
        query = (
            select(NotificationRow).where(NotificationRow.deploy_id == deploy_id).order_by(NotificationRow.id)
        )
        return [_notification(row) for row in self._session.scalars(query)]

    def add(self, notification: Notification) -> Notification:
        values = {k: v for k, v in asdict(notification).items() if k != "id"}
        row = NotificationRow(
            **{**values, "kind": notification.kind.value, "state": notification.state.value}
        )
        self._session.add(row)
        self._session.flush()
        notification.id = row.id
        return notification

    def save(self, notification: Notification) -> None:
        row = self._session.get(NotificationRow, notification.id)
        if row is None:
            raise LookupError(f"notification {notification.id} does not exist")
        for key in _FIELDS:
            value = getattr(notification, key)
            setattr(row, key, value.value if key in ("kind", "state") else value)
        self._session.flush()

    def add_ack(self, ack: Ack) -> bool:
        """Record an ack; False when this person already pressed this button on this deploy."""
        values = {k: v for k, v in asdict(ack).items() if k != "id"}
        values["kind"] = ack.kind.value
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(AckRow).values(**values).on_conflict_do_nothing().returning(AckRow.id)
        return self._session.execute(statement).scalar_one_or_none() is not None

    def acks(self, deploy_id: int) -> list[Ack]:
        query = select(AckRow).where(AckRow.deploy_id == deploy_id).order_by(AckRow.acked_at, AckRow.id)
        return [
            Ack(
                id=row.id,
                deploy_id=row.deploy_id,
                kind=AckKind(row.kind),
                slack_user=row.slack_user,
                name=row.name,
                acked_at=row.acked_at,
            )
            for row in self._session.scalars(query)
        ]

    def cached_slack_user(self, email: str) -> tuple[str | None, datetime] | None:
        row = self._session.get(SlackUserRow, email.lower())
        return (row.user_id, row.looked_up_at) if row else None

    def cache_slack_user(self, email: str, user_id: str | None, *, now: datetime) -> None:
        row = self._session.get(SlackUserRow, email.lower())
        if row is None:
            self._session.add(SlackUserRow(email=email.lower(), user_id=user_id, looked_up_at=now))
        else:
            row.user_id, row.looked_up_at = user_id, now
        self._session.flush()

    def email_of_slack_user(self, user_id: str) -> str | None:
        query = select(SlackUserRow.email).where(SlackUserRow.user_id == user_id).limit(1)
        return self._session.execute(query).scalar_one_or_none()


def _notification(row: NotificationRow) -> Notification:
    values: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
    values["kind"] = Kind(row.kind)
    values["state"] = State(row.state)
    return Notification(**values)
