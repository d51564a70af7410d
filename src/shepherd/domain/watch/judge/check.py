"""The regression judge: is the new version (or the hour after a deploy) worse than the old one?

Per check, pure and deterministic. The tests, and why these ones:

- Error ratios with request volumes, and sparse counts, are compared as event rates (a conditional
  binomial test, quasi-likelihood for over-dispersion), not as ranks of mostly-zero points: Kayenta's
  Mann–Whitney passes 0 → a few errors a minute because the medians are both 0 (kayenta#426).
- Everything else gets Mann–Whitney U on the points (a shift of the typical value) and a test on the
  tail, which sees a wider or heavier-tailed distribution with an unchanged median (kayenta#780). In
  canary mode (both versions in the same minutes) that is a sign test on the paired differences that
  stray far from their median: what both versions share cancels minute by minute, so with nothing
  changed they stray as often up as down, while some minutes ×3 or slow episodes stray one way only.
  Otherwise it is an exceedance test (p90 of the points, each side about its own median).
- The tolerance is built into the null hypothesis, not checked afterwards: the new side is compared
  with the old side made `tolerance` worse, so "significant" means "significantly beyond what you said
  you accept". A week-ago pair, when given, can only excuse: the old side is also made as much worse
  as the same hour a week ago became (the daily traffic cycle), never better. The tail test compares
  shapes (each side about its own median), which a factor on the level does not change, so it gets
  its own excuse: each old point in the tested half moves out as far as the week-ago quantile at its
  rank moved beyond the week-ago median (a daily batch job inside the hour widens the tail on top of
  the level); never inwards. The tail must also be heavier than the same hour's a week ago
  (intersection–union: both comparisons must find it, so the larger p is the test's).
- Points 30 s apart are autocorrelated; z-scores are shrunk by the AR(1) variance inflation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from shepherd.domain.watch.judge.stats import (
    Floats,
    Sample,
    block_dispersion,
    dispersion,
    inflation,
    mann_whitney_p,
    median,
    paired,
    paired_t_p,
    pearson_residuals,
    quantile,
    rate_p,
    sample,
    shared_level,
    stratified_dispersion,
    welch_t_p,
)
from shepherd.domain.watch.judge.tails import TAIL_QUANTILE, Tail, symmetry, tail_p
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
) -> CheckResult:
    """Judge one check: `candidate` (new version / after) against `baseline` (old version / before).

    `before_after` and `names` (the old and the new version, canary mode) only word the reason; by
    default a check with a week-ago pair is after-vs-before.
    """
    after_before = seasonal is not None if before_after is None else before_after
    canary = versions(*names) if names else CANARY
    sides = BEFORE_AFTER if after_before else canary
    old, new = sample(baseline), sample(candidate)
    missing = _missing(spec, old, new, sides)
    if missing is not None:
        return missing
    details: dict[str, float | str] = {"n_old": old.size, "n_new": new.size, "tolerance": spec.tolerance}
    ctx = Context(spec, sides, _week(spec, seasonal, details), details)
    ups = _directions(spec.direction)
    weighted = spec.kind is CheckKind.RATIO and old.w is not None and new.w is not None
    if weighted or _sparse(spec, old, new):
        findings = _rate_findings(ctx, old, new, ups, weighted=weighted)
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


def _season(ctx: Context, up: bool, stat: Callable[[Sample], float]) -> float:
    """How much `stat` changed between the same windows a week ago, clipped so it can only excuse.

    A rise a week ago excuses a rise today (the morning ramp, the nightly batch job); a fall a week
    ago is not held against today, since traffic is never exactly the same two weeks running.
    """
    if ctx.week is None:
        return 1.0
    before, after = stat(ctx.week[0]), stat(ctx.week[1])
    if before <= 0 or after <= 0:
        return 1.0
    factor = after / before
    return max(1.0, factor) if up else min(1.0, factor)


def _rate(s: Sample) -> float:
    if s.w is not None:
        return float((s.v * s.w).sum() / s.w.sum())
    return float(s.v.mean())


def _level(s: Sample) -> float:
    return median(s.v)


def _null(ctx: Context, up: bool, season: float) -> float:
    """The factor on the old side that is still acceptable: tolerance on top of the week-ago change."""
    return season * (1 + ctx.spec.tolerance if up else max(0.0, 1 - ctx.spec.tolerance))


def _rate_findings(
    ctx: Context, old: Sample, new: Sample, ups: tuple[bool, ...], *, weighted: bool
) -> list[Finding]:
    if weighted and old.w is not None and new.w is not None:
        events_old, events_new, exposure_old, exposure_new = old.v * old.w, new.v * new.w, old.w, new.w
        binomial = float(max(old.v.max(), new.v.max())) <= 1.0
        test = "rate test (volume-weighted)"
    else:
        # No volumes: each point is one unit of exposure and the smallest non-zero value one event, so
        # 0/1/2-event points (or their per-second rates) count as what they are.
        positive = np.concatenate([old.v[old.v > 0], new.v[new.v > 0]])
        unit = float(positive.min()) if positive.size else 1.0
        events_old, events_new = old.v / unit, new.v / unit
        exposure_old, exposure_new = np.ones_like(old.v), np.ones_like(new.v)
        binomial, test = False, "rate test (sparse counts)"
    pairs = paired(old, new)
    if pairs is not None:
        i_old, i_new = pairs
        phi, residuals = stratified_dispersion(
            events_new[i_new], exposure_new[i_new], events_old[i_old], exposure_old[i_old]
        )
        phi *= inflation(residuals)
    else:
        phi = dispersion([(events_old, exposure_old), (events_new, exposure_new)], binomial=binomial)
        phi *= inflation(
            pearson_residuals(events_old, exposure_old), pearson_residuals(events_new, exposure_new)
        )
        phi = max(phi, block_dispersion(events_old, exposure_old), block_dispersion(events_new, exposure_new))
    ctx.details.update(dispersion=round(phi, 3), paired="yes" if pairs is not None else "no")
    totals = (
        float(events_new.sum()),
        float(exposure_new.sum()),
        float(events_old.sum()),
        float(exposure_old.sum()),
    )
    rate_old = _rate(old) if weighted else float(old.v.mean())
    rate_new = _rate(new) if weighted else float(new.v.mean())
    findings = []
    for up in ups:
        season = _season(ctx, up, _rate if weighted else _level_mean)
        null = _null(ctx, up, season)
        p = rate_p(*totals, null_ratio=null, dispersion=phi, greater=up)
        beyond = rate_new > rate_old * null if up else rate_new < rate_old * null
        findings.append(Finding("rate", test, up, p, rate_old, rate_new, beyond, season))
    return findings


def _level_mean(s: Sample) -> float:
    return float(s.v.mean())


def _shape_findings(ctx: Context, old: Sample, new: Sample, ups: tuple[bool, ...]) -> list[Finding]:
    nonnegative = bool(old.v.min() >= 0 and new.v.min() >= 0)
    logs = bool(old.v.min() > 0 and new.v.min() > 0)  # compare on a log scale: latency changes by factors
    pairs = paired(old, new)
    ctx.details["paired"] = "yes" if pairs is not None else "no"
    findings = []
    for up in ups:
        season = _season(ctx, up, _level)
        worst_ok = _worst_acceptable(ctx, old.v, up, season, nonnegative)
        x = Compared(
            old.v, new.v, worst_ok, *((np.log(new.v), np.log(worst_ok)) if logs else (new.v, worst_ok))
        )
        if pairs is not None:
            a, b = x.new_x[pairs[1]], x.ok_x[pairs[0]]
            level = shared_level(a, b)
            x = replace(x, new_r=a - level, ok_r=b - level, diff=a - b)
        findings.append(_location(x, up, season, logs))
        if ctx.spec.kind is not CheckKind.RATIO:  # a ratio's tail is its error bursts: the level says enough
            findings.append(_tail_finding(ctx, x, up, logs))
    return findings


@dataclass(frozen=True)
class Compared:
    """One direction's comparison: raw sides, the worst acceptable old side, and what the tests see."""

    old: Floats
    new: Floats
    worst_ok: Floats
    new_x: Floats  # new, on the tested scale (log for positive values)
    ok_x: Floats  # worst_ok, same scale
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
        ok_median = median(x.worst_ok)
        beyond = median_new > ok_median if up else median_new < ok_median
        return Finding("mw", "Mann–Whitney U", up, p, median_old, median_new, beyond, season, "median")
    if x.diff is not None:
        p = paired_t_p(x.diff if up else -x.diff, inflation(x.diff))
    else:
        vif = inflation(x.new_x, x.ok_x)
        p = welch_t_p(x.new_x, x.ok_x, vif) if up else welch_t_p(x.ok_x, x.new_x, vif)
    mean_new, mean_ok = float(x.new_x.mean()), float(x.ok_x.mean())
    beyond = mean_new > mean_ok if up else mean_new < mean_ok
    test = "t-test" + (" on logs" if logs else "")
    return Finding("t", test, up, p, median_old, median_new, beyond, season, "median")


def _tail_finding(ctx: Context, x: Compared, up: bool, logs: bool) -> Finding:
    q = TAIL_QUANTILE if up else 1 - TAIL_QUANTILE
    season = _season(ctx, up, lambda s: float(quantile(s.v, q)))
    new_t, ok_t = x.tested()
    if x.diff is not None:  # canary mode: the minute-by-minute differences, stray up vs down
        strays = symmetry(x.diff, upper=up)
        # Its answer changes only when another minute strays, not at every look: charged per stray.
        p, floor, looks = strays.p, strays.floor, strays.points_per_stray
        test = "tail symmetry of the paired differences"
    else:
        before = tail_p(new_t, _tail_excuse(ctx, ok_t, up, logs), upper=up)
        week = _week_tail(ctx, new_t, up, logs)
        p, floor, looks = max(before.p, week.p), max(before.floor, week.floor), 1.0
        test = f"tail exceedance (p{round(q * 100)})"
    q_old, q_new = float(quantile(x.old, q)), float(quantile(x.new, q))
    label = f"p{round(q * 100)}"
    kind = ctx.spec.kind
    note = f" while the median went {fmt(kind, median(x.old))} → {fmt(kind, median(x.new))}"
    limit = q_old * _null(ctx, up, season)
    beyond = q_new > limit if up else q_new < limit
    return Finding("tail", test, up, p, q_old, q_new, beyond, season, label, note, floor, looks)


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


def _worst_acceptable(ctx: Context, old: Floats, up: bool, season: float, nonnegative: bool) -> Floats:
    """The old side made as bad as the tolerance (and the week-ago change) allows."""
    if nonnegative:
        return old * _null(ctx, up, season)
    # Values that cross zero (a gauge like a temperature delta) shift instead of scale.
    scale = float(np.median(np.abs(old)))
    shift = scale * (season - 1) + (scale * ctx.spec.tolerance if up else -scale * ctx.spec.tolerance)
    return old + shift
