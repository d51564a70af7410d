"""What every benchmark shares: the work directory, timing helpers, the result shape."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

WORK = Path(__file__).resolve().parent / ".work"
T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class Section:
    """One benchmark's figures: rows of (what, value), plus free-text notes."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    measured_at: str = ""
    cpu_reference: float = 0.0  # seconds of reference_loop() just before: how fast the machine was then

    def add(self, what: str, value: str) -> None:
        self.rows.append((what, value))


def reference_loop(steps: int = 10_000_000, repeat: int = 3) -> float:
    """Best of `repeat` timings of a plain Python loop: the machine's speed when a section was measured.

    Shared cloud machines change speed from hour to hour (2× seen); this lets a reader tell a slower
    machine from slower code when two runs' figures differ.
    """
    best = float("inf")
    for _ in range(repeat):
        start, total = time.perf_counter(), 0
        for i in range(steps):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


def timed(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> tuple[float, T]:
    """Wall time of one call, and its result."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def seconds(value: float) -> str:
    return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"


def millis(value: float) -> str:
    return f"{value * 1000:,.1f} ms"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)
