"""Deploys, notifications and watches in memory, with the SQL repositories' ordering and keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from shepherd.domain.deploys import Change, Changeset, Deploy, DeployEvent, DeployPerson, DeployStatus
from shepherd.domain.errors import DuplicateKey
from shepherd.domain.notify import Ack, Notification
from shepherd.domain.watch import StoredCheck, TimelineEntry, Watch
from tests.support.memory.tables import Sequences, Tables, out


class FakeDeployRepository:
    def __init__(self, tables: Tables, ids: Sequences) -> None:
        self._t, self._ids = tables, ids

    def add(self, deploy: Deploy) -> Deploy:
        key = deploy.idempotency_key
        if key is not None and any(d.idempotency_key == key for d in self._t.deploys.values()):
            raise DuplicateKey(f"idempotency key {key!r} already used")
        deploy.id = self._ids.next("deploys")
        self._t.deploys[deploy.id] = out(deploy)
        return deploy

    def get(self, deploy_id: int, *, for_update: bool = False) -> Deploy | None:
        found = self._t.deploys.get(deploy_id)
        return out(found) if found else None

    def by_idempotency_key(self, key: str) -> Deploy | None:
        return next((out(d) for d in self._t.deploys.values() if d.idempotency_key == key), None)

    def save(self, deploy: Deploy) -> None:
        if deploy.id not in self._t.deploys:
            raise LookupError(f"deploy {deploy.id} does not exist")
        self._t.deploys[deploy.id] = out(deploy)

    def query(
        self,
        *,
        service: str | None = None,
        environment: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Deploy]:
        found = [
            d
            for d in sorted(self._t.deploys.values(), key=lambda d: -(d.id or 0))
            if (not service or d.service == service)
            and (not environment or d.environment == environment)
            and (not status or d.status == status)
            and (not before_id or (d.id or 0) < before_id)
        ]
        return [out(d) for d in found[:limit]]

    def last_succeeded(self, *, service: str, environment: str, before: Deploy) -> Deploy | None:
        found = [
            d
            for d in self._t.deploys.values()
            if (d.service, d.environment, d.status) == (service, environment, DeployStatus.SUCCEEDED)
            and d.id != before.id
            and d.started_at <= before.started_at
        ]
        latest = max(found, key=lambda d: (d.started_at, d.id or 0), default=None)
        return out(latest) if latest else None

    def add_event(self, event: DeployEvent) -> DeployEvent:
        key = event.idempotency_key
        if key is not None and self.event_by_key(key) is not None:
            raise DuplicateKey(f"event key {key!r} already used")
        stored = replace(event, id=self._ids.next("events"))
        self._t.events[stored.id or 0] = stored
        return stored

    def event_by_key(self, key: str) -> DeployEvent | None:
        return next((e for e in self._t.events.values() if e.idempotency_key == key), None)

    def events(self, deploy_id: int) -> list[DeployEvent]:
        found = [e for e in self._t.events.values() if e.deploy_id == deploy_id]
        return sorted(found, key=lambda e: (e.received_at, e.id or 0))

    def store_changeset(self, deploy_id: int, changeset: Changeset) -> None:
        # Replaces what an earlier attempt stored, as the SQL repository does.
        self._t.changes[deploy_id] = list(changeset.changes)
        self._t.people[deploy_id] = out(list(changeset.people))

    def changes(self, deploy_id: int, *, limit: int | None = None) -> list[Change]:
        return list(self._t.changes.get(deploy_id, []))[:limit]

    def people(self, deploy_id: int) -> list[DeployPerson]:
        return out(self._t.people.get(deploy_id, []))


class FakeNotificationRepository:
    def __init__(self, tables: Tables, ids: Sequences) -> None:
        self._t, self._ids = tables, ids

    def for_deploy(self, deploy_id: int) -> list[Notification]:
        return [out(n) for n in self._t.notifications.values() if n.deploy_id == deploy_id]

    def add(self, notification: Notification) -> Notification:
        key = (notification.deploy_id, notification.key)
        if any((n.deploy_id, n.key) == key for n in self._t.notifications.values()):
            raise DuplicateKey(f"notification {key} exists")
        notification.id = self._ids.next("notifications")
        self._t.notifications[notification.id] = out(notification)
        return notification

    def save(self, notification: Notification) -> None:
        if notification.id not in self._t.notifications:
            raise LookupError(f"notification {notification.id} does not exist")
        self._t.notifications[notification.id] = out(notification)

    def add_ack(self, ack: Ack) -> bool:
        key = (ack.deploy_id, ack.kind, ack.slack_user)
        if any((a.deploy_id, a.kind, a.slack_user) == key for a in self._t.acks.values()):
            return False
        stored = replace(ack, id=self._ids.next("acks"))
        self._t.acks[stored.id or 0] = stored
        return True

    def acks(self, deploy_id: int) -> list[Ack]:
        found = [a for a in self._t.acks.values() if a.deploy_id == deploy_id]
        return sorted(found, key=lambda a: (a.acked_at, a.id or 0))

    def cached_slack_user(self, email: str) -> tuple[str | None, datetime] | None:
        return self._t.slack_users.get(email.lower())

    def cache_slack_user(self, email: str, user_id: str | None, *, now: datetime) -> None:
        self._t.slack_users[email.lower()] = (user_id, now)

    def email_of_slack_user(self, user_id: str) -> str | None:
        return next((email for email, (uid, _) in self._t.slack_users.items() if uid == user_id), None)


class FakeWatchRepository:
    def __init__(self, tables: Tables, ids: Sequences) -> None:
        self._t, self._ids = tables, ids

    def get(self, deploy_id: int) -> Watch | None:
        found = self._t.watches.get(deploy_id)
        return out(found) if found else None

    def get_many(self, deploy_ids: Sequence[int]) -> dict[int, Watch]:
        return {i: out(self._t.watches[i]) for i in deploy_ids if i in self._t.watches}

    def save(self, watch: Watch) -> None:
        self._t.watches[watch.deploy_id] = out(watch)

    def checks(self, deploy_id: int) -> list[StoredCheck]:
        # Dict order is first-insert order, as the SQL rows' ids are: a replaced check keeps its place.
        return [c for (d, _), c in self._t.checks.items() if d == deploy_id]

    def save_check(self, stored: StoredCheck) -> None:
        self.save_checks([stored])

    def save_checks(self, stored: Sequence[StoredCheck]) -> None:
        for check in stored:
            self._t.checks[(check.deploy_id, check.result.name)] = check

    def add_timeline(self, entry: TimelineEntry) -> None:
        stored = replace(entry, id=self._ids.next("timeline"), data=dict(entry.data))
        self._t.timeline[stored.id or 0] = stored

    def timeline(self, deploy_id: int) -> list[TimelineEntry]:
        found = [e for e in self._t.timeline.values() if e.deploy_id == deploy_id]
        return [out(e) for e in sorted(found, key=lambda e: (e.at, e.id or 0))]
