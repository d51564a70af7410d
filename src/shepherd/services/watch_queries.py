"""The metric queries of one watch look: which to make, made all at once, and their points.

Every check of a look needs the same few queries (its value query and, for a weighted ratio,
its volume query, on each side: new and old, and the week-ago pair), all independent; they go
out together through `Parallel`, and a query that fails spoils only its own check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shepherd.domain.config import Check, render_template
from shepherd.domain.watch import MetricsError, Point, Series, WatchMode, Window
from shepherd.services.metrics_port import MetricsSource
from shepherd.services.parallel import Parallel

Answer = list[Series] | MetricsError


@dataclass(frozen=True)
class Side:
    """One side of a comparison: the version its query asks for, over which window."""

    version: str
    window: Window


@dataclass(frozen=True)
class CheckQueries:
    """What one check asks its source for in one look: per side a value query (+ volume query)."""

    check: Check
    source: MetricsSource
    values: Mapping[str, str]  # the query placeholders other than {version}
    sides: tuple[Side, ...]  # candidate, baseline, then the week-ago before and after, if any
    step_seconds: float
    mode: WatchMode

    def calls(self) -> list[Callable[[], Answer]]:
        queries = [self.check.query] + ([self.check.weight_query] if self.check.weight_query else [])
        return [self._call(query, side) for side in self.sides for query in queries]

    def _call(self, query: str, side: Side) -> Callable[[], Answer]:
        text = render_template(query, {**self.values, "version": side.version})

        def call() -> Answer:
            try:
                return self.source.query_range(
                    text, start=side.window.start, end=side.window.end, step_seconds=self.step_seconds
                )
            except MetricsError as exc:  # this check's problem: the look's other checks go on
                return exc

        return call

    def points(self, answers: Sequence[list[Series]]) -> list[list[Point]]:
        """Per side, its points; with a volume query, each point weighted by its requests."""
        per_side = 2 if self.check.weight_query else 1
        out = []
        for i in range(0, len(answers), per_side):
            points = merge(answers[i], summed=self.check.kind == "count")
            if per_side == 2:
                # A weight query gives a rate (requests per second): per point that is rate × step.
                weights = {p.t: p.v * self.step_seconds for p in merge(answers[i + 1], summed=True)}
                points = [Point(p.t, p.v, weights.get(p.t)) for p in points]
            out.append(points)
        return out


def fetch_all(parallel: Parallel, plans: Sequence[CheckQueries]) -> list[list[list[Point]] | MetricsError]:
    """Each plan's points per side, or the first error among its own queries."""
    calls = [plan.calls() for plan in plans]
    answers = iter(parallel.all([call for mine in calls for call in mine]))
    out: list[list[list[Point]] | MetricsError] = []
    for plan, mine in zip(plans, calls, strict=True):
        got = [next(answers) for _ in mine]
        error = next((a for a in got if isinstance(a, MetricsError)), None)
        out.append(error if error is not None else plan.points([a for a in got if isinstance(a, list)]))
    return out


def merge(series: Sequence[Series], *, summed: bool) -> list[Point]:
    """One series per query is expected; several are summed (counts) or averaged (the rest)."""
    if len(series) == 1:
        return list(series[0].points)
    by_time: dict[float, list[float]] = {}
    for one in series:
        for point in one.points:
            by_time.setdefault(point.t, []).append(point.v)
    return [Point(t, sum(vs) if summed else sum(vs) / len(vs)) for t, vs in sorted(by_time.items())]
