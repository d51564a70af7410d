"""The watch: observing a service for a while after a deploy. Pure parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shepherd.domain.watch.metrics import CheckResult, Point, Verdict

WEEK = timedelta(days=7)
MIN_STEPS = 5  # judging fewer points than this is guessing


@dataclass
class Watch:
    deploy_id: int
    started_at: datetime
    ends_at: datetime
    interval_seconds: float
    verdict: Verdict = Verdict.RUNNING
    score: float = 0.0
    reason: str = "Watching: no look yet."
    looks: int = 0
    stable_version: str | None = None
    last_look_at: datetime | None = None
    failed_at: datetime | None = None
    finished: bool = False

    @property
    def step_seconds(self) -> float:
        # Points every interval, at most 30 s apart: the judge wants dozens of points per hour.
        return max(1.0, min(30.0, self.interval_seconds))


class WatchMode(StrEnum):
    """How a check compares: new vs stable version in the same minutes, or the hour before vs after."""

    CANARY = "canary"
    BEFORE_AFTER = "before_after"


@dataclass(frozen=True)
class StoredCheck:
    """The latest judgement of one check, with the points it was made on (for charts)."""

    deploy_id: int
    result: CheckResult
    mode: WatchMode
    baseline: tuple[Point, ...]
    candidate: tuple[Point, ...]
    judged_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # e.g. verdict, flagger, alert, rollback
    text: str
    deploy_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Windows:
    candidate: Window
    baseline: Window
    seasonal: tuple[Window, Window] | None  # (before, after) one week earlier


def windows(*, deploy_start: datetime, now: datetime, canary: bool, step_seconds: float) -> Windows | None:
    """What to compare at `now`; None while there is too little to judge."""
    elapsed = now - deploy_start
    if elapsed < timedelta(seconds=MIN_STEPS * step_seconds):
        return None
    candidate = Window(deploy_start, now)
    if canary:
        return Windows(candidate, candidate, None)
    baseline = Window(deploy_start - elapsed, deploy_start)
    seasonal = (
        Window(baseline.start - WEEK, baseline.end - WEEK),
        Window(candidate.start - WEEK, candidate.end - WEEK),
    )
    return Windows(candidate, baseline, seasonal)


def verdict_changed(before: Verdict, after: Verdict) -> bool:
    return before is not after
