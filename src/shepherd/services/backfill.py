"""Use case: import a history of deploys (`shepherd deploys import FILE.jsonl`).

Every line is read and checked before anything is written, so a bad line 812 leaves the database
as it was. Deploys are recorded oldest first as backfill (attributed; nobody told, nothing
watched), under an idempotency key of their own or one made from what they are, so importing the
same file twice records each deploy once. Their attribution then runs in this process, so the
delivery metrics are complete when the command returns, with no worker running.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shepherd.domain.config import ShepherdConfig
from shepherd.domain.deploys import DeployStatus
from shepherd.domain.jobs import JobKind
from shepherd.services.deploys import ReachedStatus, StartDeploy, record_deploy_start
from shepherd.services.errors import Invalid
from shepherd.services.jobs import JobRunner
from shepherd.services.ports import Clock, UnitOfWorkFactory

MAX_PROBLEMS = 20  # lines reported at most; the count says how many more


class ImportedDeploy(BaseModel):
    """One line of the file."""

    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=63)
    environment: str = Field(min_length=1, max_length=100)
    sha: str = Field(min_length=7, max_length=40, pattern=r"^[0-9a-fA-F]+$")
    previous_sha: str | None = Field(default=None, min_length=7, max_length=40, pattern=r"^[0-9a-fA-F]+$")
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    status: Literal["succeeded", "failed", "rolled_back", "started", "progressing"]
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=180)

    def key(self) -> str:
        """Its own key, or one made from the deploy itself: the same line twice is one deploy."""
        if self.idempotency_key:
            return f"import:{self.idempotency_key}"
        what = f"{self.service}|{self.environment}|{self.sha.lower()}|{self.started_at.isoformat()}"
        return "import:" + hashlib.sha256(what.encode()).hexdigest()[:32]


def read_history(lines: Iterable[str], *, config: ShepherdConfig) -> list[ImportedDeploy]:
    """Every line checked; Invalid naming the lines that are wrong (and why) if any is."""
    deploys: list[ImportedDeploy] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        problem, deploy = _line(number, line, config)
        if problem:
            problems.append(problem)
        elif deploy is not None:
            deploys.append(deploy)
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = f"\n  … and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
        raise Invalid(
            f"{len(problems)} bad line(s), nothing imported:\n  " + "\n  ".join(shown) + more,
            details={"lines": len(problems)},
        )
    return sorted(deploys, key=lambda d: d.started_at)


def _line(number: int, line: str, config: ShepherdConfig) -> tuple[str | None, ImportedDeploy | None]:
    try:
        deploy = ImportedDeploy.model_validate(json.loads(line))
    except json.JSONDecodeError as exc:
        return f"line {number}: not JSON ({exc.msg} at column {exc.colno})", None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(the line)"
        return f"line {number}: {where}: {first['msg']}", None
    service = config.service(deploy.service)
    if service is None:
        return f"line {number}: no service named {deploy.service!r} in shepherd.yaml", None
    if deploy.environment not in service.environments:
        return f"line {number}: service {deploy.service!r} has no environment {deploy.environment!r}", None
    if deploy.finished_at is not None and deploy.finished_at < deploy.started_at:
        return f"line {number}: finished_at is before started_at", None
    return None, deploy


@dataclass(frozen=True)
class Imported:
    deploy_ids: list[int]
    created: int  # new ones; the rest were already there (the same key)


def import_history(
    deploys: list[ImportedDeploy],
    *,
    uow_factory: UnitOfWorkFactory,
    config: ShepherdConfig,
    clock: Clock,
    progress: Callable[[int], None] = lambda n: None,
) -> Imported:
    ids, created = [], 0
    for deploy in deploys:
        final = deploy.status in ("succeeded", "failed", "rolled_back")
        recorded, new = record_deploy_start(
            StartDeploy(
                service=deploy.service,
                environment=deploy.environment,
                sha=deploy.sha,
                previous_sha=deploy.previous_sha,
                source="import",
                idempotency_key=deploy.key(),
                started_at=deploy.started_at,
                backfill=True,
            ),
            uow_factory=uow_factory,
            config=config,
            clock=clock,
            reached=ReachedStatus(
                status=DeployStatus(deploy.status),
                idempotency_key=f"{deploy.key()}:{deploy.status}",
                occurred_at=(deploy.finished_at or deploy.started_at) if final else None,
            ),
        )
        assert recorded.id is not None
        ids.append(recorded.id)
        created += new
        progress(1)
    return Imported(ids, created)


def attribute_now(
    deploy_ids: list[int], *, runner: JobRunner, progress: Callable[[int], None] = lambda n: None
) -> int:
    """Run the attribution jobs of these deploys here and now, oldest first; how many ran."""
    ran = 0
    for deploy_id in deploy_ids:
        with runner.uow_factory() as uow:
            pending = [
                j for j in uow.jobs.query(state="pending", deploy_id=deploy_id) if j.kind == JobKind.ATTRIBUTE
            ]
        for job in pending:
            leased = runner.lease_job(job.id)
            if leased is not None:
                runner.run(leased)
                ran += 1
        progress(1)
    return ran
