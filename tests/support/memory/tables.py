"""The in-memory database: one dict per table, keyed as the real table's unique key.

Rows are plain domain values. Repositories hand out copies, never the stored row, so a
service that changes a value without saving it changes nothing, as with SQL.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from shepherd.domain.alerts import Incident, Page, Rollback, StoredAlert
from shepherd.domain.circuits import Circuit
from shepherd.domain.deploys import Change, Deploy, DeployEvent, DeployPerson
from shepherd.domain.jobs import Job
from shepherd.domain.notify import Ack, Notification
from shepherd.domain.watch import StoredCheck, TimelineEntry, Watch

T = TypeVar("T")


@dataclass
class Tables:
    deploys: dict[int, Deploy] = field(default_factory=dict)
    events: dict[int, DeployEvent] = field(default_factory=dict)
    changes: dict[int, list[Change]] = field(default_factory=dict)  # by deploy, in position order
    people: dict[int, list[DeployPerson]] = field(default_factory=dict)  # by deploy
    jobs: dict[int, Job] = field(default_factory=dict)
    notifications: dict[int, Notification] = field(default_factory=dict)
    acks: dict[int, Ack] = field(default_factory=dict)
    slack_users: dict[str, tuple[str | None, datetime]] = field(default_factory=dict)  # by email
    watches: dict[int, Watch] = field(default_factory=dict)  # by deploy
    checks: dict[tuple[int, str], StoredCheck] = field(default_factory=dict)  # by deploy and name
    timeline: dict[int, TimelineEntry] = field(default_factory=dict)
    alerts: dict[int, StoredAlert] = field(default_factory=dict)
    pages: dict[int, Page] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)
    rollbacks: dict[int, Rollback] = field(default_factory=dict)
    circuits: dict[str, Circuit] = field(default_factory=dict)  # by destination

    def copy(self) -> Tables:
        return copy.deepcopy(self)


class Sequences:
    """Ids, shared by every transaction and never given back (as a database sequence)."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}

    def next(self, table: str) -> int:
        return next(self._counters.setdefault(table, itertools.count(1)))


def merge(store: Tables, base: Tables, work: Tables) -> None:
    """Apply to `store` the rows `work` added, changed or deleted since `base`, and no others.

    Row by row, so a transaction that committed meanwhile keeps what this one did not touch.
    """
    for table in fields(Tables):
        into: dict[Any, Any] = getattr(store, table.name)
        before: dict[Any, Any] = getattr(base, table.name)
        after: dict[Any, Any] = getattr(work, table.name)
        for key, row in after.items():
            if key not in before or before[key] != row:
                into[key] = copy.deepcopy(row)
        for key in before.keys() - after.keys():
            into.pop(key, None)


def out(row: T) -> T:
    """A copy to hand out: what the caller does to it stays out of the table until saved."""
    return copy.deepcopy(row)
