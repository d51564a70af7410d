"""The regression judge: is the new version (or the hour after a deploy) worse than the old one?

Per check, pure and deterministic. The tests, and why these ones:

- Error ratios with request volumes, and sparse counts, are compared as event rates (judge/rates.py:
  the exact conditional test of the two counts, widened by the old side's over-dispersion), not as
  ranks of mostly-zero points: Kayenta's Mann–Whitney passes 0 → a few errors a minute because the
  medians are both 0 (kayenta#426).
- Everything else gets Mann–Whitney U on the points (a shift of the typical value; a t-test while
  points are few) and tests on the tail, which see a wider or heavier-tailed distribution with an
  unchanged median (kayenta#780). In canary mode (both versions in the same minutes) those are a
  sign test on the paired differences that stray far from their median (what both versions share
  cancels minute by minute, so with nothing changed they stray as often up as down, while some
  minutes ×3 or slow episodes stray one way only) and a test of whether the new version is worse
  exactly in the far-out minutes (tails.extremes_p). Otherwise it is an exceedance test (p90 of the
  points, each side about its own median).
- The tolerance (judge/null.py): before vs after, the new side is compared with the old side made
  `tolerance` worse, so "significant" means "significantly beyond what you said you accept". In
  canary mode half of it is in the null and the estimate must clear all of it: both versions share
  the minutes, and half the tolerance absorbs the few per cent two sets of hosts differ by. A
  week-ago pair, when given, can only excuse: the old side is also made as much worse as the same
  hour a week ago became (the daily traffic cycle), never better. The tail test compares shapes
  (each side about its own median), which a factor on the level does not change, so it gets its own
  excuse: each old point in the tested half moves out as far as the week-ago quantile at its rank
  moved beyond the week-ago median (a daily batch job inside the hour widens the tail on top of the
  level); never inwards. The tail must also be heavier than the same hour's a week ago
  (intersection–union: both comparisons must find it, so the larger p is the test's).
- Points 30 s apart are autocorrelated; z-scores are shrunk by the AR(1) variance inflation.
- The level each test may spend at this look comes from the watch's sequential design (judge/looks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from shepherd.domain.watch.judge.looks import Look
from shepherd.domain.watch.judge.null import CANARY_MARGIN, null_factor, week_change, worst_acceptable
from shepherd.domain.watch.judge.rates import rate_findings
from shepherd.domain.watch.judge.stats import (
    Floats,
    Sample,
    inflation,
    mann_whitney_p,
    median,
    paired,
    paired_t_p,
    quantile,
    sample,
    shared_level,
    welch_t_p,
)
from shepherd.domain.watch.judge.tails import TAIL_QUANTILE, Tail, extremes_p, symmetry, tail_p
from shepherd.domain.watch.judge.verdict import (
    BEFORE_AFTER,
    CANARY,
    Context,
    Finding,
    Sides,
    decide,
    fmt,
    versions,
)
from shepherd.domain.watch.metrics import (
    CheckKind,
    CheckResult,
    CheckSpec,
    Direction,
    Outcome,
    Point,
)

MW_FROM = 20  # points a side from which Mann–Whitney, not the t-test, judges the typical value
SPARSE_ZEROS = 0.25  # a count or unweighted ratio with this share of zero points is compared as a rate


def judge_check(
    spec: CheckSpec,
    baseline: Sequence[Point],
    candidate: Sequence[Point],
    *,
    seasonal: tuple[Sequence[Point], Sequence[Point]] | None = None,
    before_after: bool | None = None,
    names: tuple[str, str] | None = None,
    look: Look | None = None,
) -> CheckResult:
    """Judge one check: `candidate` (new version / after) against `baseline` (old version / before).

    `before_after` and `names` (the old and the new version, canary mode) only word the reason; by
    default a check with a week-ago pair is after-vs-before. `look` places this judgement in the
    watch's schedule of looks, which sets the level it may spend (judge/looks.py); without one it is
    a single comparison.
    """
    after_before = seasonal is not None if before_after is None else before_after
    canary = versions(*names) if names else CANARY
    sides = BEFORE_AFTER if after_before else canary
    old, new = sample(baseline), sample(candidate)
    missing = _missing(spec, old, new, sides)
    if missing is not None:
        return missing
    details: dict[str, float | str] = {"n_old": old.size, "n_new": new.size, "tolerance": spec.tolerance}
    ctx = Context(spec, sides, _week(spec, seasonal, details), details, look)
    ups = _directions(spec.direction)
    weighted = spec.kind is CheckKind.RATIO and old.w is not None and new.w is not None
    if weighted or _sparse(spec, old, new):
        findings = rate_findings(ctx, old, new, ups, weighted=weighted)
    else:
        findings = _shape_findings(ctx, old, new, ups)
    return decide(ctx, findings)


def _directions(direction: Direction) -> tuple[bool, ...]:
    return {Direction.INCREASE_IS_BAD: (True,), Direction.DECREASE_IS_BAD: (False,)}.get(
        direction, (True, False)
    )


def _missing(spec: CheckSpec, old: Sample, new: Sample, sides: Sides) -> CheckResult | None:
    need = max(1, spec.min_points)
    short = [(label, s.size) for label, s in ((sides.old, old), (sides.new, new)) if s.size < need]
    if not short:
        return None
    text = " and ".join(f"{_points(n)} {label}" for label, n in short)
    return CheckResult(
        name=spec.name,
        outcome=Outcome.NODATA,
        reason=f"{spec.name}: {text} (need {need} a side).",
        critical=spec.critical,
        details={"n_old": old.size, "n_new": new.size, "min_points": need},
    )


def _points(n: int) -> str:
    return "no points from" if n == 0 else f"only {n} point{'s' if n != 1 else ''} from"


def _sparse(spec: CheckSpec, old: Sample, new: Sample) -> bool:
    if spec.kind not in (CheckKind.COUNT, CheckKind.RATIO):
        return False
    return any(float(np.mean(s.v == 0)) >= SPARSE_ZEROS for s in (old, new))


def _week(
    spec: CheckSpec, seasonal: tuple[Sequence[Point], Sequence[Point]] | None, details: dict[str, float | str]
) -> tuple[Sample, Sample] | None:
    if seasonal is None:
        return None
    before, after = sample(seasonal[0]), sample(seasonal[1])
    if min(before.size, after.size) < max(1, spec.min_points):
        details["seasonal"] = "ignored: too few week-ago points"
        return None
    return before, after


def _level(s: Sample) -> float:
    return median(s.v)


def _shape_findings(ctx: Context, old: Sample, new: Sample, ups: tuple[bool, ...]) -> list[Finding]:
    nonnegative = bool(old.v.min() >= 0 and new.v.min() >= 0)
    logs = bool(old.v.min() > 0 and new.v.min() > 0)  # compare on a log scale: latency changes by factors
    pairs = paired(old, new)
    ctx.details["paired"] = "yes" if pairs is not None else "no"
    findings = []
    for up in ups:
        season = week_change(ctx, up, _level)
        limit = worst_acceptable(ctx, old.v, up, season, nonnegative)
        # Canary mode holds half the tolerance in the null and asks the estimate to clear all of it;
        # before vs after holds all of it, as the hour before is a different hour (module docstring).
        worst_ok = worst_acceptable(ctx, old.v, up, season, nonnegative, CANARY_MARGIN) if pairs else limit
        scale: Callable[[Floats], Floats] = np.log if logs else np.asarray
        x = Compared(old.v, new.v, worst_ok, scale(new.v), scale(worst_ok), limit, scale(limit))
        if pairs is not None:
            a, b = x.new_x[pairs[1]], x.ok_x[pairs[0]]
            level = shared_level(a, b)
            x = replace(x, new_r=a - level, ok_r=b - level, diff=a - b)
        findings.append(_location(x, up, season, logs))
        if ctx.spec.kind is not CheckKind.RATIO:  # a ratio's tail is its error bursts: the level says enough
            findings.append(_tail_finding(ctx, x, up, logs))
            if x.diff is not None:
                findings.append(_extremes_finding(ctx, x, up))
    return findings


@dataclass(frozen=True)
class Compared:
    """One direction's comparison: raw sides, the worst acceptable old side, and what the tests see."""

    old: Floats
    new: Floats
    worst_ok: Floats
    new_x: Floats  # new, on the tested scale (log for positive values)
    ok_x: Floats  # worst_ok, same scale
    limit: Floats  # the old side made as bad as the tolerance allows: the estimate must clear it
    limit_x: Floats  # limit, same scale
    new_r: Floats | None = None  # canary mode: minus the level both versions share at each moment
    ok_r: Floats | None = None
    diff: Floats | None = None  # canary mode: new − worst_ok, minute by minute

    def tested(self) -> tuple[Floats, Floats]:
        if self.new_r is not None and self.ok_r is not None:
            return self.new_r, self.ok_r
        return self.new_x, self.ok_x


def _location(x: Compared, up: bool, season: float, logs: bool) -> Finding:
    """Has the typical value moved beyond tolerance? Mann–Whitney U; a t-test while points are few.

    With fewer than MW_FROM points a side a rank test cannot reach the significance level at all (its
    smallest p-value is set by the number of orderings), so a big regression would wait minutes for
    enough points; a t-test on logs sees a tripling in 5 points. From MW_FROM on, the rank test's
    robustness to spikes matters more than its speed.
    """
    median_old, median_new = median(x.old), median(x.new)
    new_t, ok_t = x.tested()
    if min(new_t.size, ok_t.size) >= MW_FROM:
        p = mann_whitney_p(new_t, ok_t, greater=up, factor=inflation(new_t, ok_t))
        ok_median = median(x.limit)
        beyond = median_new > ok_median if up else median_new < ok_median
        return Finding("mw", "Mann–Whitney U", up, p, median_old, median_new, beyond, season, "median")
    if x.diff is not None:
        p = paired_t_p(x.diff if up else -x.diff, inflation(x.diff))
    else:
        vif = inflation(x.new_x, x.ok_x)
        p = welch_t_p(x.new_x, x.ok_x, vif) if up else welch_t_p(x.ok_x, x.new_x, vif)
    mean_new, mean_ok = float(x.new_x.mean()), float(x.limit_x.mean())
    beyond = mean_new > mean_ok if up else mean_new < mean_ok
    test = "t-test" + (" on logs" if logs else "")
    return Finding("t", test, up, p, median_old, median_new, beyond, season, "median")


def _tail_finding(ctx: Context, x: Compared, up: bool, logs: bool) -> Finding:
    q = TAIL_QUANTILE if up else 1 - TAIL_QUANTILE
    season = week_change(ctx, up, lambda s: float(quantile(s.v, q)))
    new_t, ok_t = x.tested()
    if x.diff is not None:  # canary mode: the minute-by-minute differences, stray up vs down
        strays = symmetry(x.diff, upper=up)
        # Its answer changes only when another minute strays, not at every look: charged per stray.
        p, floor = strays.p, strays.floor
        test = "tail symmetry of the paired differences"
    else:
        before = tail_p(new_t, _tail_excuse(ctx, ok_t, up, logs), upper=up)
        week = _week_tail(ctx, new_t, up, logs)
        p, floor = max(before.p, week.p), max(before.floor, week.floor)
        test = f"tail exceedance (p{round(q * 100)})"
    q_old, q_new = float(quantile(x.old, q)), float(quantile(x.new, q))
    label = f"p{round(q * 100)}"
    kind = ctx.spec.kind
    note = f" while the median went {fmt(kind, median(x.old))} → {fmt(kind, median(x.new))}"
    limit = q_old * null_factor(ctx, up, season)
    beyond = q_new > limit if up else q_new < limit
    return Finding("tail", test, up, p, q_old, q_new, beyond, season, label, note, floor)


def _extremes_finding(ctx: Context, x: Compared, up: bool) -> Finding:
    """Canary mode: the new version worse in the far-out minutes (tails.extremes_p)."""
    q = TAIL_QUANTILE if up else 1 - TAIL_QUANTILE
    assert x.diff is not None and x.new_r is not None and x.ok_r is not None
    result = extremes_p(x.new_r, x.ok_r, upper=up)
    q_old, q_new = float(quantile(x.old, q)), float(quantile(x.new, q))
    label = f"p{round(q * 100)}"
    kind = ctx.spec.kind
    note = f" while the median went {fmt(kind, median(x.old))} → {fmt(kind, median(x.new))}"
    limit = q_old * null_factor(ctx, up, 1.0)
    beyond = q_new > limit if up else q_new < limit
    test = "tail test (slow minutes slower)"
    return Finding("extremes", test, up, result.p, q_old, q_new, beyond, 1.0, label, note, result.floor)


NO_OBJECTION = Tail(0.0, 0.0, 0, 0.0, 0.0)


def _week_tail(ctx: Context, new_t: Floats, up: bool, logs: bool) -> Tail:
    """The tail after the deploy against the same hour a week ago (p 0, no objection, without a week).

    The tail test must find the hour after worse than both the hour before (excused by the week-ago
    move) and the same hour a week ago: an intersection–union test, so taking the larger p needs no
    correction. A batch job or a traffic peak that widens this hour's tail every day is in the
    week-ago hour too, while a regression is worse than both.
    """
    if ctx.week is None:
        return NO_OBJECTION
    week_after = ctx.week[1].v
    if week_after.size < 2 or (logs and week_after.min() <= 0):
        return NO_OBJECTION
    return tail_p(new_t, np.log(week_after) if logs else week_after, upper=up)


def _tail_excuse(ctx: Context, ok: Floats, up: bool, logs: bool) -> Floats:
    """The old side with its tested half of the tail moved out as the same hour's did a week ago.

    On the tested scale (log for positive values), relative to the week-ago median's move, which the
    level test already excuses; never inwards (see the module docstring).
    """
    if ctx.week is None or ok.size < 2:
        return ok
    before, after = ctx.week
    if logs and min(before.v.min(), after.v.min()) <= 0:
        return ok
    scale: Callable[[Floats], Floats] = np.log if logs else np.asarray
    u = (np.argsort(np.argsort(ok, kind="stable")) + 0.5) / ok.size
    moved = quantile(scale(after.v), np.append(u, 0.5)) - quantile(scale(before.v), np.append(u, 0.5))
    beyond = moved[:-1] - moved[-1]
    if up:
        return ok + np.where(u > 0.5, np.maximum(beyond, 0.0), 0.0)
    return ok + np.where(u < 0.5, np.minimum(beyond, 0.0), 0.0)
