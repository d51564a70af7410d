"""The five delivery keys (DORA) from deploy records, exactly as docs/delivery.md defines them. Pure.

For one service and environment, or a team (the union of its services), and a period
[since, until) by deploy start time. Medians, never means, always with their counts; an empty
period gives None and a count of 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from shepherd.domain.delivery.records import (
    REACHED,
    REVERT_WINDOW,
    DeployRecord,
    Failure,
    FailureRule,
)
from shepherd.domain.deploys import DeployStatus

HOUR = 3600.0


@dataclass(frozen=True)
class Spread:
    """Median and p90 (linear interpolation between order statistics, numpy's default) of a sample."""

    median: float | None
    p90: float | None
    count: int

    @staticmethod
    def of(values: Sequence[float]) -> Spread:
        if not values:
            return Spread(None, None, 0)
        a = np.asarray(values, dtype=np.float64)
        return Spread(float(np.median(a)), float(np.percentile(a, 90)), len(values))


@dataclass(frozen=True)
class Recovery:
    failure: Failure
    recovered_by: DeployRecord | None  # None: not recovered yet (open)

    @property
    def hours(self) -> float | None:
        end = self.recovered_by.finished_at if self.recovered_by else None
        return None if end is None else (end - _finish(self.failure.deploy)).total_seconds() / HOUR


@dataclass(frozen=True)
class Delivery:
    since: datetime
    until: datetime
    deploys: tuple[DeployRecord, ...]  # D: final status, started in the period, each once
    reached: int  # of them, deploys that reached production (succeeded or rolled back)
    deploy_days: int  # distinct UTC days with one of those
    lead_hours: tuple[float, ...]  # per change taken to production
    failures: tuple[Failure, ...]
    recoveries: tuple[Recovery, ...]
    rework: tuple[DeployRecord, ...]
    batch: Spread  # changes per deploy

    @property
    def lead_time(self) -> Spread:
        return Spread.of(self.lead_hours)

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400

    @property
    def per_day(self) -> float | None:
        return self.reached / self.days if self.days > 0 else None

    @property
    def failure_rate(self) -> float | None:
        return len(self.failures) / len(self.deploys) if self.deploys else None

    @property
    def rework_rate(self) -> float | None:
        return len(self.rework) / len(self.deploys) if self.deploys else None

    @property
    def recovery(self) -> Spread:
        return Spread.of([h for r in self.recoveries if (h := r.hours) is not None])

    @property
    def open_failures(self) -> int:
        return sum(r.recovered_by is None for r in self.recoveries)


def delivery(
    history: Iterable[DeployRecord],
    *,
    since: datetime,
    until: datetime,
    revert_window: timedelta = REVERT_WINDOW,
) -> Delivery:
    """The keys for the deploys of `history` that started in [since, until).

    `history` holds every deploy of the services and environments asked about that can matter:
    those of the period, and those after it (a revert within the window, the deploy that
    recovered a failure). Duplicates (the same idempotency key) count once.
    """
    timeline = _timelines(_unique(history))
    failed = {f.deploy.id: f for f in _failures(timeline, revert_window)}
    period = [d for line in timeline.values() for d in line if d.final and since <= d.started_at < until]
    period.sort(key=lambda d: (d.started_at, d.id))
    reached = [d for d in period if d.status in REACHED]
    failures = tuple(failed[d.id] for d in period if d.id in failed)
    fixes = _fix_deploys(timeline, revert_window)
    return Delivery(
        since=since,
        until=until,
        deploys=tuple(period),
        reached=len(reached),
        deploy_days=len({d.started_at.date() for d in reached}),
        lead_hours=tuple(_lead_times(period)),
        failures=failures,
        recoveries=tuple(_recovery(f, timeline[f.deploy.key], failed) for f in failures),
        rework=tuple(d for d in period if d.rollback or d.id in fixes),
        batch=Spread.of([float(len(d.changes)) for d in period]),
    )


def _unique(history: Iterable[DeployRecord]) -> list[DeployRecord]:
    """One record per idempotency key (the first recorded), and per id."""
    seen_keys: set[str] = set()
    seen_ids: set[int] = set()
    out = []
    for d in sorted(history, key=lambda d: d.id):
        if d.id in seen_ids or (d.idempotency_key is not None and d.idempotency_key in seen_keys):
            continue
        seen_ids.add(d.id)
        if d.idempotency_key is not None:
            seen_keys.add(d.idempotency_key)
        out.append(d)
    return out


def _timelines(deploys: list[DeployRecord]) -> dict[tuple[str, str], list[DeployRecord]]:
    lines: dict[tuple[str, str], list[DeployRecord]] = {}
    for d in deploys:
        lines.setdefault(d.key, []).append(d)
    for line in lines.values():
        line.sort(key=lambda d: (d.started_at, d.id))
    return lines


def _failures(timeline: dict[tuple[str, str], list[DeployRecord]], window: timedelta) -> list[Failure]:
    out = []
    for line in timeline.values():
        for i, d in enumerate(line):
            failure = _failure(d, line[i + 1 :], window)
            if failure is not None:
                out.append(failure)
    return out


def _failure(d: DeployRecord, later: list[DeployRecord], window: timedelta) -> Failure | None:
    """The first rule that makes `d` a failed deploy, if any (records.FailureRule's order)."""
    if d.status is DeployStatus.FAILED:
        return Failure(d, FailureRule.FAILED, "its status is failed")
    if d.status is DeployStatus.ROLLED_BACK:
        return Failure(d, FailureRule.ROLLED_BACK, "it was rolled back")
    if d.watch_failed:
        return Failure(d, FailureRule.WATCH, "its watch's verdict was fail")
    if d.incidents:
        return Failure(d, FailureRule.INCIDENT, ", ".join(f"incident #{i}" for i in d.incidents))
    fix = _reverted_by(d, later, window)
    if fix is not None:
        return Failure(d, FailureRule.REVERTED, f"reverted by deploy #{fix.id} ({fix.sha[:7]})")
    return None


def _reverted_by(d: DeployRecord, later: list[DeployRecord], window: timedelta) -> DeployRecord | None:
    """The first later deploy, starting within `window` of `d`'s finish, with a change reverting one
    of `d`'s changes. A revert names a sha, full or abbreviated (7 characters or more)."""
    if not d.changes:
        return None
    shas = [c.sha for c in d.changes]
    end = _finish(d) + window
    for fix in later:
        if fix.started_at > end:
            break
        if any(_names(reverted, shas) for c in fix.changes for reverted in c.reverts):
            return fix
    return None


def _names(reverted: str, shas: list[str]) -> bool:
    reverted = reverted.lower()
    return len(reverted) >= 7 and any(sha.lower().startswith(reverted) for sha in shas)


def _fix_deploys(timeline: dict[tuple[str, str], list[DeployRecord]], window: timedelta) -> set[int]:
    """Deploys that reverted a change of an earlier deploy of theirs within the window."""
    fixes = set()
    for line in timeline.values():
        for i, d in enumerate(line):
            fix = _reverted_by(d, line[i + 1 :], window)
            if fix is not None:
                fixes.add(fix.id)
    return fixes


def _lead_times(period: list[DeployRecord]) -> list[float]:
    """Hours from each change's authored time (its pull request's earliest, when known) to the
    finish of the first succeeded deploy in the period that took it to production."""
    done: set[str] = set()
    hours = []
    for d in period:
        if d.status is not DeployStatus.SUCCEEDED or d.finished_at is None:
            continue
        earliest = _earliest_by_pr(d)
        for c in d.changes:
            if c.sha in done:
                continue
            done.add(c.sha)
            start = earliest.get(c.pr_number, c.authored_at) if c.pr_number is not None else c.authored_at
            hours.append((d.finished_at - start).total_seconds() / HOUR)
    return hours


def _earliest_by_pr(d: DeployRecord) -> dict[int | None, datetime]:
    """Per pull request: the earliest authored time among its commits in the deploy, or GitHub's."""
    earliest: dict[int | None, datetime] = {}
    for c in d.changes:
        if c.pr_number is None:
            continue
        times = [c.authored_at] + ([c.pr_first_authored_at] if c.pr_first_authored_at else [])
        known = earliest.get(c.pr_number)
        earliest[c.pr_number] = min(times + ([known] if known else []))
    return earliest


def _recovery(f: Failure, line: list[DeployRecord], failed: dict[int, Failure]) -> Recovery:
    """The next deploy of the same service and environment that succeeded and is not itself failed."""
    after = [d for d in line if (d.started_at, d.id) > (f.deploy.started_at, f.deploy.id)]
    failed_at = _finish(f.deploy)
    for d in after:
        ok = d.status is DeployStatus.SUCCEEDED and d.id not in failed
        # A deploy that finished before the failure did (they overlapped) did not recover it.
        if ok and d.finished_at is not None and d.finished_at >= failed_at:
            return Recovery(f, d)
    return Recovery(f, None)


def _finish(d: DeployRecord) -> datetime:
    return d.finished_at or d.started_at
