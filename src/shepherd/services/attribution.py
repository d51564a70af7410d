"""Use case: attribute a deploy's changes (the `attribute` job).

Works out the range (previous sha given, else the last succeeded deploy of the same
service and environment), reads it with git, asks GitHub who merged squash/rebase PRs
when a token is set, and stores changes and people with plain-language notes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shepherd.domain.changes import AttributionInput, PeopleDirectory, build_changeset, prs_without_merger
from shepherd.domain.config import Service, ShepherdConfig
from shepherd.domain.deploys import AttributionState, Changeset, Deploy, Identity, RawCommit
from shepherd.domain.errors import ChangeSourceError
from shepherd.domain.jobs import JobKind, Transient
from shepherd.domain.text import plural
from shepherd.services.collector import collector_paused
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.notify import sync_job
from shepherd.services.ports import ChangeSource, ChangeSources, PullRequestSource

log = logging.getLogger("shepherd.attribution")
MAX_PR_LOOKUPS = 100


@dataclass(frozen=True)
class AttributionDeps:
    config: ShepherdConfig
    change_sources: ChangeSources
    pull_requests: PullRequestSource | None = None


@dataclass(frozen=True)
class _Range:
    base: str | None
    head: str
    notes: tuple[str, ...]
    empty: bool = False
    rollback: bool = False  # head is already part of the base: the deploy goes back in history


def attribute_changes(ctx: JobContext, deps: AttributionDeps) -> None:
    deploy_id = int(ctx.payload["deploy_id"])
    with ctx.transaction() as uow:
        deploy = uow.deploys.get(deploy_id)
        if deploy is None:
            return  # deleted since; nothing to attribute
        previous = None
        if deploy.previous_sha is None:
            previous = uow.deploys.last_succeeded(
                service=deploy.service, environment=deploy.environment, before=deploy
            )
    service = deps.config.service(deploy.service)
    try:
        if service is None:
            raise ChangeSourceError(f"service {deploy.service!r} is no longer in shepherd.yaml")
        source = deps.change_sources.for_repository(service.repository)
        span = _find_range(source, deploy, previous.sha if previous else None)
        with collector_paused():
            commits = [] if span.empty else list(source.commits(base=span.base, head=span.head))
        prs = _pr_facts(deps, service, commits, span.head)  # HTTP: collector on
        with collector_paused():
            changeset = build_changeset(
                AttributionInput(
                    commits=commits,
                    head_sha=span.head,
                    base_sha=span.base,
                    service=service,
                    directory=PeopleDirectory(deps.config.people),
                    pr_mergers=prs.mergers,
                    pr_first_authored=prs.first_authored,
                    notes=span.notes + prs.notes,
                )
            )
    except ChangeSourceError as exc:
        if isinstance(exc, Transient) and ctx.job.attempts < ctx.job.max_attempts:
            raise  # the remote may come back: retried with backoff
        _record_failure(ctx, deploy, str(exc))
        return
    _record(ctx, deploy, changeset, rollback=span.rollback)


def _find_range(source: ChangeSource, deploy: Deploy, last_sha: str | None) -> _Range:
    head = source.ensure(deploy.sha)
    base_sha = deploy.previous_sha or last_sha
    where = f"{deploy.service} to {deploy.environment}"
    if base_sha is None:
        note = (
            f"First deploy of {where} that Shepherd knows of: "
            "only the head commit (and the PR it merges) is listed."
        )
        return _Range(None, head, (note,))
    try:
        base = source.ensure(base_sha)
    except ChangeSourceError as exc:
        if isinstance(exc, Transient):
            raise
        note = f"The previous sha {base_sha[:12]} is not in the repository: only the head commit is listed."
        return _Range(None, head, (note,))
    if base == head:
        return _Range(base, head, (f"Redeploy of {head[:12]}: no new changes.",), empty=True)
    if source.is_ancestor(head, base):
        note = (
            f"{head[:12]} is already part of the previous deploy {base[:12]} "
            "(a rollback or an older build): no new changes."
        )
        return _Range(base, head, (note,), empty=True, rollback=True)
    if not source.is_ancestor(base, head):
        merge_base = source.merge_base(base, head)
        if merge_base is None:
            note = f"{base[:12]} and {head[:12]} share no history: only the head commit is listed."
            return _Range(None, head, (note,))
        note = (
            f"The previous sha {base[:12]} is not an ancestor of {head[:12]} (history was rewritten, "
            f"e.g. a force push): listing the changes since their merge base {merge_base[:12]}."
        )
        return _Range(merge_base, head, (note,))
    return _Range(base, head, ())


@dataclass(frozen=True)
class _PrFacts:
    """What GitHub said about the squash/rebase PRs git alone cannot tell about."""

    mergers: dict[int, tuple[Identity, str | None]]
    first_authored: dict[int, datetime]  # its first commit's time: a squash keeps only the merge's
    notes: tuple[str, ...] = ()


def _pr_facts(deps: AttributionDeps, service: Service, commits: list[RawCommit], head: str) -> _PrFacts:
    repo = service.github_full_name
    if deps.pull_requests is None or repo is None or not commits:
        return _PrFacts({}, {})
    wanted = prs_without_merger(commits, head, service.paths)
    facts = _PrFacts({}, {})
    for number in wanted[:MAX_PR_LOOKUPS]:
        try:
            merger = deps.pull_requests.merger(repo, number)
            first = deps.pull_requests.first_authored_at(repo, number)
        except Exception as exc:  # GitHub being down must not stop attribution
            log.warning("GitHub PR lookup failed for %s#%s: %s", repo, number, exc)
            note = f"GitHub did not answer who merged some PRs ({exc}); mergers left unknown."
            return _PrFacts(facts.mergers, facts.first_authored, (note,))
        if merger is not None:
            facts.mergers[number] = merger
        if first is not None:
            facts.first_authored[number] = first
    if len(wanted) > MAX_PR_LOOKUPS:
        note = f"Asked GitHub about the first {MAX_PR_LOOKUPS} of {len(wanted)} squash/rebase PRs."
        return _PrFacts(facts.mergers, facts.first_authored, (note,))
    return facts


def _record(ctx: JobContext, deploy: Deploy, changeset: Changeset, *, rollback: bool) -> None:
    notes = list(changeset.notes)
    if changeset.total_changes > len(changeset.changes):
        notes.append(
            f"{plural(changeset.total_changes, 'change')}; the first {len(changeset.changes):,} are listed, "
            "people and counts cover all of them."
        )
    if changeset.skipped_outside_paths:
        skipped = plural(changeset.skipped_outside_paths, "commit")
        notes.append(f"{skipped} outside this service's paths (monorepo) left out.")
    _finish(
        ctx,
        deploy,
        changeset,
        attribution_state=AttributionState.DONE,
        attribution_error=None,
        attribution_notes=notes,
        base_sha=changeset.base_sha,
        total_commits=changeset.total_commits,
        total_changes=changeset.total_changes,
        skipped_changes=changeset.skipped_outside_paths,
        sha=changeset.head_sha,  # the full sha, however short the one reported
        rollback=rollback,
    )


def _record_failure(ctx: JobContext, deploy: Deploy, reason: str) -> None:
    _finish(ctx, deploy, None, attribution_state=AttributionState.FAILED, attribution_error=reason)


def _finish(ctx: JobContext, deploy: Deploy, changeset: Changeset | None, **changes: Any) -> None:
    """The outcome and the job's completion in one transaction: a retry never half-applies."""
    assert deploy.id is not None
    with ctx.transaction(finish=True) as uow:
        if changeset is not None:
            uow.deploys.store_changeset(deploy.id, changeset)
        current = uow.deploys.get(deploy.id)
        assert current is not None  # the job holds no lock, but deploys are never deleted
        uow.deploys.save(replace(current, **changes, updated_at=ctx.now()))
        if not current.backfill:  # history is recorded, not announced
            uow.jobs.enqueue(sync_job(deploy.id), now=ctx.now())  # now everyone can be told


def register_jobs(registry: HandlerRegistry, deps: AttributionDeps) -> None:
    registry.register(JobKind.ATTRIBUTE, attribute_changes, deps)
