"""The capabilities services need, as small Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from shepherd.domain.jobs import Job, NewJob, Transient
from shepherd.domain.messages import Message
from shepherd.domain.model import (
    Change,
    Changeset,
    Deploy,
    DeployEvent,
    DeployPerson,
    Identity,
    RawCommit,
)
from shepherd.domain.notifications import Ack, Notification


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class DeployRepository(Protocol):
    def add(self, deploy: Deploy) -> Deploy: ...
    def get(self, deploy_id: int, *, for_update: bool = False) -> Deploy | None: ...
    def by_idempotency_key(self, key: str) -> Deploy | None: ...
    def save(self, deploy: Deploy) -> None: ...
    def query(
        self,
        *,
        service: str | None = None,
        environment: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Deploy]: ...
    def last_succeeded(self, *, service: str, environment: str, before: Deploy) -> Deploy | None: ...
    def add_event(self, event: DeployEvent) -> DeployEvent: ...
    def event_by_key(self, key: str) -> DeployEvent | None: ...
    def events(self, deploy_id: int) -> list[DeployEvent]: ...
    def store_changeset(self, deploy_id: int, changeset: Changeset) -> None: ...
    def changes(self, deploy_id: int, *, limit: int | None = None) -> list[Change]: ...
    def people(self, deploy_id: int) -> list[DeployPerson]: ...


class JobQueue(Protocol):
    """The jobs table. `enqueue` joins the caller's transaction; the rest is the worker's."""

    def enqueue(self, job: NewJob, *, now: datetime) -> int | None: ...
    def query(
        self, *, state: str | None = None, deploy_id: int | None = None, limit: int = 100
    ) -> list[Job]: ...
    def counts(self) -> dict[str, int]: ...
    def next_run_at(self) -> datetime | None: ...
    def lease(self, *, now: datetime, seconds: float, limit: int = 1) -> list[Job]: ...
    def extend(self, job_id: int, token: str, *, until: datetime) -> None: ...
    def finish(self, job_id: int, token: str, *, now: datetime) -> None: ...
    def retry(self, job_id: int, token: str, *, now: datetime, run_at: datetime, error: str) -> None: ...
    def reschedule(
        self, job_id: int, token: str, *, now: datetime, run_at: datetime, payload: dict[str, Any]
    ) -> None: ...
    def bury(self, job_id: int, token: str, *, now: datetime, error: str) -> None: ...
    def revive(self, job_id: int, *, now: datetime) -> bool: ...


class NotificationRepository(Protocol):
    def for_deploy(self, deploy_id: int) -> list[Notification]: ...
    def add(self, notification: Notification) -> Notification: ...
    def save(self, notification: Notification) -> None: ...
    def add_ack(self, ack: Ack) -> bool: ...
    def acks(self, deploy_id: int) -> list[Ack]: ...
    def cached_slack_user(self, email: str) -> tuple[str | None, datetime] | None: ...
    def cache_slack_user(self, email: str, user_id: str | None, *, now: datetime) -> None: ...
    def email_of_slack_user(self, user_id: str) -> str | None: ...


class UnitOfWork(Protocol):
    """One transaction. Nothing is written unless `commit` is called."""

    @property
    def deploys(self) -> DeployRepository: ...
    @property
    def jobs(self) -> JobQueue: ...
    @property
    def notifications(self) -> NotificationRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class ChangeSourceError(Exception):
    """A git problem a person can act on (missing sha, unreachable remote)."""


class ChangeSource(Protocol):
    """Commits of a service's repository, read with git."""

    def ensure(self, sha: str) -> str:
        """The full sha, fetching when it is missing; ChangeSourceError if it stays missing."""
        ...

    def is_ancestor(self, older: str, newer: str) -> bool: ...
    def merge_base(self, a: str, b: str) -> str | None: ...
    def commits(self, *, base: str | None, head: str) -> Sequence[RawCommit]:
        """`base..head` newest first with files; only `head` itself when base is None."""
        ...


class ChangeSources(Protocol):
    def for_repository(self, repository: str) -> ChangeSource: ...


@dataclass(frozen=True)
class MessageRef:
    """Where a message landed: enough to update it or reply in its thread."""

    channel: str
    ts: str


class NotifierError(Exception):
    """Base of what a notifier raises; `code` is the platform's error string."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class NotifierRateLimited(NotifierError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("ratelimited", f"rate limited; retry after {retry_after:g}s")
        self.retry_after = retry_after


class NotifierUnavailable(NotifierError, Transient):
    """5xx, timeouts, connection trouble: retry later. `maybe_sent`: a post may have landed."""

    def __init__(self, code: str, message: str = "", *, maybe_sent: bool = False) -> None:
        super().__init__(code, message)
        self.maybe_sent = maybe_sent


class NotifierRejected(NotifierError):
    """A permanent refusal (invalid_auth, channel_not_found, …): retrying cannot help."""


class Notifier(Protocol):
    """Sends neutral messages; Block Kit (or console text) is the adapter's business."""

    def post(
        self, *, target: str, message: Message, key: str, thread: MessageRef | None = None
    ) -> MessageRef: ...
    def update(self, ref: MessageRef, message: Message) -> None: ...
    def find_posted(
        self, *, target: str, key: str, since: datetime, thread: MessageRef | None = None
    ) -> MessageRef | None:
        """A message posted with this key since then (to settle a post of unknown outcome)."""
        ...

    def lookup_user(self, email: str) -> str | None:
        """The platform user id for an email, None when nobody has it."""
        ...


class PullRequestSource(Protocol):
    """Who merged a PR, when git cannot tell (squash and rebase merges)."""

    def merger(self, repo_full_name: str, number: int) -> tuple[Identity, str | None] | None: ...
