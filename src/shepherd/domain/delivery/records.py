"""What the delivery metrics are computed from: deploys with their changes and what happened to them.

Plain values, filled by the repositories from deploys, changesets, watches, incidents and
rollbacks; the metrics (delivery/metrics.py) read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from shepherd.domain.deploys import DeployStatus

FINAL = frozenset({DeployStatus.SUCCEEDED, DeployStatus.FAILED, DeployStatus.ROLLED_BACK})
REACHED = frozenset({DeployStatus.SUCCEEDED, DeployStatus.ROLLED_BACK})  # it got to production
REVERT_WINDOW = timedelta(hours=24)


class ChangeRecord(NamedTuple):
    """One change (not a merge commit) of a deploy's changeset. A tuple: a year of a busy service
    is hundreds of thousands of them, read at once."""

    sha: str
    authored_at: datetime
    pr_number: int | None = None
    # The earliest authored time among the pull request's commits, when known (GitHub keeps them
    # after a squash merge, whose one commit carries the merge time).
    pr_first_authored_at: datetime | None = None
    reverts: tuple[str, ...] = ()  # the shas its message says it reverts ("This reverts commit …")


@dataclass(frozen=True)
class DeployRecord:
    id: int
    service: str
    environment: str
    sha: str
    status: DeployStatus
    started_at: datetime
    finished_at: datetime | None = None
    idempotency_key: str | None = None
    changes: tuple[ChangeRecord, ...] = ()
    watch_failed: bool = False  # its watch's verdict was fail
    incidents: tuple[int, ...] = ()  # incidents that name it as the cause (confirmed or linked)
    rollback: bool = False  # Shepherd's own rollback, or its sha is an ancestor of the one it replaced

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def key(self) -> tuple[str, str]:
        return self.service, self.environment


class FailureRule(StrEnum):
    """Why a deploy counts as failed, in the order the rules are tried."""

    FAILED = "failed"  # its final status
    ROLLED_BACK = "rolled_back"
    WATCH = "watch"  # its watch's verdict was fail
    INCIDENT = "incident"  # an incident names it as the cause
    REVERTED = "reverted"  # a later deploy within the window reverts one of its changes


@dataclass(frozen=True)
class Failure:
    deploy: DeployRecord
    rule: FailureRule
    detail: str  # "incident #12", "reverted by deploy #45 (a1b2c3d)"
