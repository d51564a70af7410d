"""Health signals as plain values: series of points, checks, and the judge's results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class CheckKind(StrEnum):
    RATIO = "ratio"  # e.g. error ratio; `weight` is the request volume behind each point
    LATENCY = "latency"  # e.g. p95 seconds
    COUNT = "count"  # events per interval (rates)
    GAUGE = "gauge"  # anything else (memory, queue depth)


class Direction(StrEnum):
    INCREASE_IS_BAD = "increase_is_bad"
    DECREASE_IS_BAD = "decrease_is_bad"
    BOTH = "both"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NODATA = "nodata"
    INCONCLUSIVE = "inconclusive"


class Verdict(StrEnum):
    """A deploy's (or gate's) judgement."""

    PASS = "pass"
    FAIL = "fail"
    RUNNING = "running"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Point:
    t: float  # epoch seconds
    v: float
    w: float | None = None  # weight, e.g. requests behind a ratio point


@dataclass(frozen=True)
class Series:
    """One labelled time series as a metrics source returns it."""

    labels: Mapping[str, str]
    points: tuple[Point, ...]


@dataclass(frozen=True)
class CheckSpec:
    """What the judge needs to know about a check (from shepherd.yaml `checks`)."""

    name: str
    kind: CheckKind
    direction: Direction = Direction.INCREASE_IS_BAD
    tolerance: float = 0.1  # relative change that is acceptable (0.1 = 10 %)
    critical: bool = False
    min_points: int = 5


@dataclass(frozen=True)
class CheckResult:
    """The judge's answer for one check, with the numbers behind it."""

    name: str
    outcome: Outcome
    reason: str  # one sentence a person understands
    baseline: float | None = None  # the summary compared (mean ratio, median latency, …)
    candidate: float | None = None
    ratio: float | None = None  # candidate / baseline
    p_value: float | None = None
    test: str = ""  # which test decided
    critical: bool = False
    details: Mapping[str, float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeployJudgement:
    verdict: Verdict
    score: float  # 0-100, share of checks passing (Kayenta-style)
    reason: str
    checks: tuple[CheckResult, ...]
