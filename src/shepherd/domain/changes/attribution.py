"""From the commits of a range to changes, pull requests and people. Pure.

GitHub history has a first-parent *mainline*: merge commits (a PR merged with a merge
commit), squash commits `subject (#N)` and direct pushes. A commit on a side branch belongs
to the oldest mainline merge that brings it in; that merge names the PR, and its *author*
is the person who merged (GitHub commits web merges as `GitHub <noreply@github.com>`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shepherd.domain.changes.people import PeopleDirectory, is_person, person_key
from shepherd.domain.config import Service, compile_globs
from shepherd.domain.deploys import (
    Change,
    Changeset,
    DeployPerson,
    Identity,
    PersonRef,
    RawCommit,
    Role,
)

LISTED_CHANGES_LIMIT = 1000

_MERGE_PR_RE = re.compile(r"^Merge pull request #(\d+)\b")
_SQUASH_PR_RE = re.compile(r"\(#(\d+)\)\s*$")


def pr_number_from_subject(subject: str) -> int | None:
    match = _MERGE_PR_RE.match(subject) or _SQUASH_PR_RE.search(subject)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class _PullRequest:
    number: int | None
    merger: Identity | None
    merge_sha: str | None


def mainline(commits: Sequence[RawCommit], head: str) -> list[str]:
    """First-parent chain from `head` within the range, newest first."""
    by_sha = {c.sha: c for c in commits}
    chain = []
    sha: str | None = head
    while sha is not None and sha in by_sha:
        chain.append(sha)
        parents = by_sha[sha].parents
        sha = parents[0] if parents else None
    return chain


def assign_pull_requests(commits: Sequence[RawCommit], head: str) -> dict[str, _PullRequest]:
    """For every commit of the range, the PR (and merger) it arrived through, if any."""
    by_sha = {c.sha: c for c in commits}
    line = mainline(commits, head)
    assigned: dict[str, _PullRequest] = {}
    for sha in line:
        assigned[sha] = _own_pr(by_sha[sha].subject)
    for sha in reversed(line):  # oldest merge first claims shared side commits
        merge = by_sha[sha]
        if not merge.is_merge:
            continue
        pr = _PullRequest(
            pr_number_from_subject(merge.subject),
            merge.author if is_person(merge.author) else None,
            merge.sha,
        )
        stack = list(merge.parents[1:])
        while stack:
            side = stack.pop()
            if side in assigned or side not in by_sha:
                continue
            assigned[side] = pr
            stack.extend(by_sha[side].parents)
    for commit in commits:  # side commits of merges outside the range
        if commit.sha not in assigned:
            assigned[commit.sha] = _own_pr(commit.subject)
    return assigned


_NO_PR = _PullRequest(None, None, None)


def _own_pr(subject: str) -> _PullRequest:
    """A commit's own PR, from a squash-merge subject "… (#123)"; most commits have none."""
    number = pr_number_from_subject(subject)
    return _NO_PR if number is None else _PullRequest(number, None, None)


def prs_without_merger(commits: Sequence[RawCommit], head: str, paths: Sequence[str] = ()) -> list[int]:
    """PRs of this service's non-merge commits whose merger git cannot tell (squash, rebase)."""
    prs = assign_pull_requests(commits, head)
    service_paths = compile_globs(paths)
    wanted: dict[int, None] = {}
    for commit in commits:
        pr = prs[commit.sha]
        if service_paths and not any(rx.match(f) for f in commit.files for rx in service_paths):
            continue
        if not commit.is_merge and pr.number is not None and pr.merger is None:
            wanted[pr.number] = None
    return list(wanted)


@dataclass(frozen=True)
class AttributionInput:
    commits: Sequence[RawCommit]  # git log order: newest first
    head_sha: str
    base_sha: str | None
    service: Service
    directory: PeopleDirectory
    pr_mergers: Mapping[int, tuple[Identity, str | None]]  # PR → (merger, GitHub login)
    pr_first_authored: Mapping[int, datetime] = field(default_factory=dict)  # PR → its first commit's time
    notes: tuple[str, ...] = ()
    limit: int = LISTED_CHANGES_LIMIT


def build_changeset(data: AttributionInput) -> Changeset:
    prs = assign_pull_requests(data.commits, data.head_sha)
    service_paths = compile_globs(data.service.paths)
    rules = [(rule.name, compile_globs(rule.paths)) for rule in data.service.path_rules]
    changes: list[Change] = []
    skipped = 0
    resolve = _Resolver(data.directory)
    for commit in data.commits:
        if commit.is_merge:
            continue  # a merge names a PR and a merger; it is not a change of its own
        if service_paths and not any(rx.match(f) for f in commit.files for rx in service_paths):
            skipped += 1
            continue
        changes.append(_change(commit, prs[commit.sha], rules, data, resolve))
    return Changeset(
        base_sha=data.base_sha,
        head_sha=data.head_sha,
        changes=tuple(changes[: data.limit]),
        total_commits=len(data.commits),
        total_changes=len(changes),
        people=tuple(collect_people(changes)),
        skipped_outside_paths=skipped,
        notes=data.notes,
    )


def _change(
    commit: RawCommit,
    pr: _PullRequest,
    rules: list[tuple[str, list[re.Pattern[str]]]],
    data: AttributionInput,
    resolve: _Resolver,
) -> Change:
    author = resolve(commit.author)
    coauthors: list[PersonRef] = []
    seen = {author.email.lower()}
    for identity in commit.coauthors:
        if is_person(identity) and identity.email.lower() not in seen:
            seen.add(identity.email.lower())
            coauthors.append(resolve(identity))
    merger: PersonRef | None = resolve(pr.merger) if pr.merger else None
    if merger is None and pr.number is not None and pr.number in data.pr_mergers:
        identity, login = data.pr_mergers[pr.number]
        merger = resolve(identity, login=login)
    matched = tuple(name for name, rxs in rules if any(rx.match(f) for f in commit.files for rx in rxs))
    return Change(
        sha=commit.sha,
        subject=commit.subject,
        author=author,
        coauthors=tuple(coauthors),
        authored_at=commit.authored_at,
        committed_at=commit.committed_at,
        files=commit.files,
        pr_number=pr.number,
        merger=merger,
        merge_sha=pr.merge_sha,
        path_rules=matched,
        reverts=commit.reverts,
        pr_first_authored_at=data.pr_first_authored.get(pr.number) if pr.number is not None else None,
    )


class _Resolver:
    """PeopleDirectory.resolve, once per identity: a range has thousands of commits, few people."""

    def __init__(self, directory: PeopleDirectory) -> None:
        self._directory = directory
        self._seen: dict[tuple[str, str, str | None], PersonRef] = {}

    def __call__(self, identity: Identity, *, login: str | None = None) -> PersonRef:
        # Plain strings, not the Identity: a dataclass hash is a Python call, ~15,000 of them a range.
        key = (identity.name, identity.email, login)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = self._directory.resolve(identity, login=login)
        return found


def collect_people(changes: Sequence[Change]) -> list[DeployPerson]:
    """Everyone with a stake, in order of first appearance: authors, co-authors, mergers."""
    people: dict[str, DeployPerson] = {}
    counted: dict[str, set[str]] = {}  # shas already listed per person (a list alone is O(n²))

    # Caches of pure functions of a ref, keyed by object id: the resolver hands out one object per
    # person, and hashing a dataclass is a Python call per lookup. Every ref stays alive in `changes`,
    # so ids are not reused; two equal refs that are distinct objects just compute the same answer twice.
    keys: dict[int, str] = {}

    def add(ref: PersonRef, role: Role, change: Change) -> None:
        key = keys.get(id(ref))
        if key is None:
            key = keys[id(ref)] = person_key(ref)
        entry = people.get(key)
        if entry is None:
            entry = people[key] = DeployPerson(ref=ref)
            counted[key] = set()
        entry.roles.add(role)
        if role is Role.MERGER:
            if change.pr_number is not None:
                entry.merged_prs.add(change.pr_number)
        elif change.sha not in counted[key]:
            counted[key].add(change.sha)
            entry.change_shas.append(change.sha)

    human: dict[int, bool] = {}  # is_person once per author, not once per change
    for change in changes:
        author = change.author
        known = human.get(id(author))
        if known is None:
            known = human[id(author)] = is_person(Identity(author.name, author.email))
        if known:
            add(author, Role.AUTHOR, change)
        for co in change.coauthors:
            add(co, Role.COAUTHOR, change)
    for change in changes:
        if change.merger is not None:
            add(change.merger, Role.MERGER, change)
    return list(people.values())
