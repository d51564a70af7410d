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
    ChangeRecord,
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
    lead_changes: tuple[tuple[ChangeRecord, DeployRecord, float], ...]  # each change, its deploy, hours
    failures: tuple[Failure, ...]
    recoveries: tuple[Recovery, ...]
    rework: tuple[DeployRecord, ...]
    batch: Spread  # changes per deploy

    @property
    def lead_hours(self) -> tuple[float, ...]:
        return tuple(hours for _, _, hours in self.lead_changes)

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


@dataclass(frozen=True)
class History:
    """A history analysed once: each service and environment's deploys in order, which deploys
    failed (and why), and which fixed another by a revert. Any period of it is then cheap."""

    timeline: dict[tuple[str, str], list[DeployRecord]]
    failed: dict[int, Failure]
    fixes: frozenset[int]
    position: dict[int, int]  # a deploy's index in its timeline


def analyse(history: Iterable[DeployRecord], *, revert_window: timedelta = REVERT_WINDOW) -> History:
    """`history` holds every deploy of the services and environments asked about that can matter:
    those of the periods asked, and those after them (a revert within the window, the deploy that
    recovered a failure). Duplicates (the same idempotency key) count once."""
    timeline = _timelines(_unique(history))
    failed: dict[int, Failure] = {}
    fixes: set[int] = set()
    position: dict[int, int] = {}
    for line in timeline.values():
        reverts = _reverts_index(line)
        for i, d in enumerate(line):
            position[d.id] = i
            fix = _reverted_by(d, reverts, i, revert_window) if reverts else None
            if fix is not None:
                fixes.add(fix.id)
            failure = _failure(d, fix)
            if failure is not None:
                failed[d.id] = failure
    return History(timeline, failed, frozenset(fixes), position)


def delivery(
    history: Iterable[DeployRecord] | History,
    *,
    since: datetime,
    until: datetime,
    revert_window: timedelta = REVERT_WINDOW,
) -> Delivery:
    """The keys for the deploys of `history` that started in [since, until)."""
    h = history if isinstance(history, History) else analyse(history, revert_window=revert_window)
    period = [d for line in h.timeline.values() for d in line if d.final and since <= d.started_at < until]
    period.sort(key=lambda d: (d.started_at, d.id))
    reached = [d for d in period if d.status in REACHED]
    failures = tuple(h.failed[d.id] for d in period if d.id in h.failed)
    return Delivery(
        since=since,
        until=until,
        deploys=tuple(period),
        reached=len(reached),
        deploy_days=len({d.started_at.date() for d in reached}),
        lead_changes=tuple(_lead_times(period)),
        failures=failures,
        recoveries=tuple(_recovery(f, h) for f in failures),
        rework=tuple(d for d in period if d.rollback or d.id in h.fixes),
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


def _failure(d: DeployRecord, fix: DeployRecord | None) -> Failure | None:
    """The first rule that makes `d` a failed deploy, if any (records.FailureRule's order)."""
    if d.status is DeployStatus.FAILED:
        return Failure(d, FailureRule.FAILED, "its status is failed")
    if d.status is DeployStatus.ROLLED_BACK:
        return Failure(d, FailureRule.ROLLED_BACK, "it was rolled back")
    if d.watch_failed:
        return Failure(d, FailureRule.WATCH, "its watch's verdict was fail")
    if d.incidents:
        return Failure(d, FailureRule.INCIDENT, ", ".join(f"incident #{i}" for i in d.incidents))
    if fix is not None:
        return Failure(d, FailureRule.REVERTED, f"reverted by deploy #{fix.id} ({fix.sha[:7]})")
    return None


@dataclass(frozen=True)
class Reverts:
    """Every sha the deploys of one line say they revert: full ones exactly, abbreviations by their
    first 7 characters (few deploys revert anything, and fewer name a short sha)."""

    full: dict[str, list[tuple[int, DeployRecord]]]
    short: dict[str, list[tuple[str, int, DeployRecord]]]

    def __bool__(self) -> bool:
        return bool(self.full or self.short)

    def of(self, sha: str) -> list[tuple[int, DeployRecord]]:
        found = self.full.get(sha, [])
        if self.short:
            found = found + [
                (j, fix) for named, j, fix in self.short.get(sha[:7], ()) if sha.startswith(named)
            ]
        return found


def _reverts_index(line: list[DeployRecord]) -> Reverts:
    full: dict[str, list[tuple[int, DeployRecord]]] = {}
    short: dict[str, list[tuple[str, int, DeployRecord]]] = {}
    for i, d in enumerate(line):
        for c in d.changes:
            for reverted in c.reverts:
                named = reverted.lower()
                if len(named) == 40:
                    full.setdefault(named, []).append((i, d))
                elif len(named) >= 7:
                    short.setdefault(named[:7], []).append((named, i, d))
    return Reverts(full, short)


def _reverted_by(d: DeployRecord, reverts: Reverts, i: int, window: timedelta) -> DeployRecord | None:
    """The first later deploy, starting within `window` of `d`'s finish, with a change reverting one
    of `d`'s changes. A revert names a sha, full or abbreviated (7 characters or more)."""
    end = _finish(d) + window
    found = [
        (j, fix) for c in d.changes for j, fix in reverts.of(c.sha.lower()) if j > i and fix.started_at <= end
    ]
    return min(found, key=lambda jf: jf[0])[1] if found else None


def _lead_times(period: list[DeployRecord]) -> list[tuple[ChangeRecord, DeployRecord, float]]:
    """Each change's hours from its authored time (its pull request's earliest, when known) to the
    finish of the first succeeded deploy in the period that took it to production."""
    done: set[str] = set()
    out = []
    for d in period:
        if d.status is not DeployStatus.SUCCEEDED or d.finished_at is None:
            continue
        earliest = _earliest_by_pr(d)
        for c in d.changes:
            if c.sha in done:
                continue
            done.add(c.sha)
            start = earliest[c.pr_number] if c.pr_number is not None else c.authored_at
            out.append((c, d, (d.finished_at - start).total_seconds() / HOUR))
    return out


def _earliest_by_pr(d: DeployRecord) -> dict[int, datetime]:
    """Per pull request: the earliest authored time among its commits in the deploy, or GitHub's."""
    earliest: dict[int, datetime] = {}
    for c in d.changes:
        if c.pr_number is not None:
            times = (
                c.authored_at,
                c.pr_first_authored_at or c.authored_at,
                earliest.get(c.pr_number, c.authored_at),
            )
            earliest[c.pr_number] = min(times)
    return earliest


def _recovery(f: Failure, h: History) -> Recovery:
    """The next deploy of the same service and environment that succeeded and is not itself failed."""
    line = h.timeline[f.deploy.key]
    failed_at = _finish(f.deploy)
    for d in line[h.position[f.deploy.id] + 1 :]:
        ok = d.status is DeployStatus.SUCCEEDED and d.id not in h.failed
        # A deploy that finished before the failure did (they overlapped) did not recover it.
        if ok and d.finished_at is not None and d.finished_at >= failed_at:
            return Recovery(f, d)
    return Recovery(f, None)


def _finish(d: DeployRecord) -> datetime:
    return d.finished_at or d.started_at
