"""Deploys, changes and people as plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

SHA_RE = re.compile(r"^[0-9a-fA-F]{7,40}$")


class DeployStatus(StrEnum):
    STARTED = "started"
    PROGRESSING = "progressing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({DeployStatus.SUCCEEDED, DeployStatus.FAILED, DeployStatus.ROLLED_BACK})


class AttributionState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "attribution_failed"


class Role(StrEnum):
    AUTHOR = "author"
    COAUTHOR = "coauthor"
    MERGER = "merger"


@dataclass(frozen=True)
class Identity:
    """A name and email as git or GitHub gave them (before matching to a configured person)."""

    name: str
    email: str

    @property
    def key(self) -> str:
        return self.email.lower()


@dataclass(frozen=True)
class RawCommit:
    """One commit as `git log` reports it."""

    sha: str
    parents: tuple[str, ...]
    author: Identity
    committer: Identity
    authored_at: datetime
    committed_at: datetime
    subject: str
    coauthors: tuple[Identity, ...] = ()
    files: tuple[str, ...] = ()
    reverts: tuple[str, ...] = ()  # the shas its message says it reverts ("This reverts commit …")

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(frozen=True)
class PersonRef:
    """An identity, matched to a configured person when one has that email or login."""

    name: str
    email: str
    person: str | None = None  # the configured person's name
    github_login: str | None = None


@dataclass(frozen=True)
class Change:
    """One commit of a changeset, with its pull request and people."""

    sha: str
    subject: str
    author: PersonRef
    coauthors: tuple[PersonRef, ...]
    authored_at: datetime
    committed_at: datetime
    files: tuple[str, ...]
    pr_number: int | None = None
    merger: PersonRef | None = None
    merge_sha: str | None = None
    path_rules: tuple[str, ...] = ()
    reverts: tuple[str, ...] = ()  # shas of earlier commits this one reverts
    pr_first_authored_at: datetime | None = None  # its PR's first commit, from GitHub (squash merges)

    @property
    def authors(self) -> tuple[PersonRef, ...]:
        return (self.author, *self.coauthors)


@dataclass
class DeployPerson:
    """Someone with a stake in a deploy, and why."""

    ref: PersonRef
    roles: set[Role] = field(default_factory=set)
    change_shas: list[str] = field(default_factory=list)
    merged_prs: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Changeset:
    """What attribution found for one deploy."""

    base_sha: str | None
    head_sha: str
    changes: tuple[Change, ...]  # newest first, at most the listing limit
    total_commits: int
    total_changes: int
    people: tuple[DeployPerson, ...]
    skipped_outside_paths: int = 0
    notes: tuple[str, ...] = ()


@dataclass
class Deploy:
    """One rollout of one sha of a service to one environment."""

    service: str
    environment: str
    sha: str
    status: DeployStatus
    source: str
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    id: int | None = None
    previous_sha: str | None = None
    version: str | None = None  # the value of the version label in metrics (default: the sha)
    ref: str | None = None
    deployer: str | None = None
    url: str | None = None
    percent: int | None = None
    stage: str | None = None
    message: str | None = None
    idempotency_key: str | None = None
    finished_at: datetime | None = None
    attribution_state: AttributionState = AttributionState.PENDING
    attribution_error: str | None = None
    attribution_notes: list[str] = field(default_factory=list)
    base_sha: str | None = None
    total_commits: int | None = None
    total_changes: int | None = None
    skipped_changes: int | None = None
    rollback: bool = False  # its sha is already part of the deploy it replaced (a rollback, an older build)
    backfill: bool = False  # recorded from history: attributed, but nobody is told and nothing watched


@dataclass(frozen=True)
class DeployEvent:
    """One lifecycle report about a deploy, kept whether or not it moved the state."""

    deploy_id: int
    status: DeployStatus
    source: str
    occurred_at: datetime
    received_at: datetime
    applied: bool
    percent: int | None = None
    stage: str | None = None
    message: str | None = None
    idempotency_key: str | None = None
    id: int | None = None
