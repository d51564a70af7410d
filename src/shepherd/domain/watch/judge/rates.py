"""The rate test: error ratios with their request volumes, and sparse counts, compared as event rates.

Given all the events, the new side's share of them is binomial with its share of the exposure
(requests, or points) as the probability: an exact conditional test of the two counts, so a metric
that is mostly zeros still carries its evidence (kayenta#426). Over-dispersion widens it, measured
on the old side alone in canary mode (stats.long_run_dispersion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shepherd.domain.watch.judge.null import CANARY_MARGIN, null_factor, week_change
from shepherd.domain.watch.judge.stats import (
    Floats,
    Sample,
    block_dispersion,
    dispersion,
    inflation,
    long_run_dispersion,
    paired,
    pearson_residuals,
    rate_p,
)
from shepherd.domain.watch.judge.verdict import Context, Finding

WEIGHTED = "rate test (volume-weighted)"
TRIM = 0.1  # share of the new side's points a rate finding must survive without (its worst ones)
ONE_MINUTE = 0.05  # a rate test whose finding vanishes (p above this) without its worst point does not fail


@dataclass(frozen=True)
class Counts:
    """Both sides as events over exposure (requests, or points), for the rate test."""

    events_old: Floats
    events_new: Floats
    exposure_old: Floats
    exposure_new: Floats
    binomial: bool  # events are a share of the exposure (errors of requests), not a free count
    test: str

    def totals(self) -> tuple[float, float, float, float]:
        return (
            float(self.events_new.sum()),
            float(self.exposure_new.sum()),
            float(self.events_old.sum()),
            float(self.exposure_old.sum()),
        )

    def words(self) -> str:
        """The counts behind a rate, as a person checks them: ": 22 errors vs 1 in ~6,400 requests each"."""
        new, old = round(float(self.events_new.sum())), round(float(self.events_old.sum()))
        if self.test != WEIGHTED:
            return f": {new:,} vs {old:,} in {self.events_new.size} and {self.events_old.size} points"
        x_new, x_old = float(self.exposure_new.sum()), float(self.exposure_old.sum())
        noun = "error" if new == 1 else "errors"
        if max(x_new, x_old) <= 1.25 * min(x_new, x_old):
            return f": {new:,} {noun} vs {old:,} in ~{_about((x_new + x_old) / 2)} requests each"
        return f": {new:,} {noun} in ~{_about(x_new)} requests vs {old:,} in ~{_about(x_old)}"

    def without_worst_new(self, up: bool) -> tuple[float, float, float, float] | None:
        """The totals without the new side's most extreme points in the tested direction (TRIM of
        them, at least one). None when too few points to drop any."""
        e, x = self.events_new, self.exposure_new
        if e.size < 3:
            return None
        total_old = float(self.exposure_old.sum())
        rate = float(self.events_old.sum()) / total_old if total_old > 0 else 0.0
        excess = (e - x * rate) * (1.0 if up else -1.0)
        keep = np.ones(e.size, dtype=bool)
        keep[np.argsort(excess)[-max(1, int(e.size * TRIM)) :]] = False
        return (float(e[keep].sum()), float(x[keep].sum()), self.totals()[2], total_old)


def _about(x: float) -> str:
    """A request count as people say it: 6,412 → "6,400", 1,234,567 → "1,200,000"."""
    if x < 100:
        return f"{x:,.0f}"
    digits = len(str(int(x))) - 2
    return f"{round(x, -digits):,.0f}"


def _counts(old: Sample, new: Sample, *, weighted: bool) -> Counts:
    if weighted and old.w is not None and new.w is not None:
        binomial = float(max(old.v.max(), new.v.max())) <= 1.0
        return Counts(old.v * old.w, new.v * new.w, old.w, new.w, binomial, WEIGHTED)
    # No volumes: each point is one unit of exposure and the smallest non-zero value one event, so
    # 0/1/2-event points (or their per-second rates) count as what they are.
    positive = np.concatenate([old.v[old.v > 0], new.v[new.v > 0]])
    unit = float(positive.min()) if positive.size else 1.0
    ones_old, ones_new = np.ones_like(old.v), np.ones_like(new.v)
    return Counts(old.v / unit, new.v / unit, ones_old, ones_new, False, "rate test (sparse counts)")


def rate_findings(
    ctx: Context, old: Sample, new: Sample, ups: tuple[bool, ...], *, weighted: bool
) -> list[Finding]:
    c = _counts(old, new, weighted=weighted)
    pairs = paired(old, new)
    phi = _rate_dispersion(
        (c.events_old, c.events_new),
        (c.exposure_old, c.exposure_new),
        paired=pairs is not None,
        binomial=c.binomial,
    )
    ctx.details.update(dispersion=round(phi, 3), paired="yes" if pairs is not None else "no")
    rate_old = _rate(old) if weighted else float(old.v.mean())
    rate_new = _rate(new) if weighted else float(new.v.mean())
    findings = []
    for up in ups:
        season = week_change(ctx, up, _rate if weighted else _level_mean)
        null = null_factor(ctx, up, season)
        tested = (
            null_factor(ctx, up, season, CANARY_MARGIN) if pairs is not None else null
        )  # see _shape_findings
        p = rate_p(*c.totals(), null_ratio=tested, dispersion=phi, greater=up)
        beyond = rate_new > rate_old * null if up else rate_new < rate_old * null
        beyond = beyond and _not_one_minute(c, up, tested, phi)
        findings.append(Finding("rate", c.test, up, p, rate_old, rate_new, beyond, season, note=c.words()))
    return findings


def _not_one_minute(c: Counts, up: bool, null: float, phi: float) -> bool:
    """A rate finding must not rest on a burst or two: the rest of the minutes must look worse too.

    A retry storm in one minute carries thousands of errors, and the old version's minutes cannot
    show a burst that did not happen to them. So without its worst points (one in ten, at least one)
    the new side must still look worse, at p below ONE_MINUTE. A regression that comes in bursts
    leaves more than one in ten minutes worse, so it still fails.
    """
    trimmed = c.without_worst_new(up)
    return trimmed is None or rate_p(*trimmed, null_ratio=null, dispersion=phi, greater=up) <= ONE_MINUTE


def _rate_dispersion(
    events: tuple[Floats, Floats], exposure: tuple[Floats, Floats], *, paired: bool, binomial: bool
) -> float:
    """Over-dispersion of the event counts: of the old side alone in canary mode.

    Canary mode: a regression makes the new version's errors burstier, and that must not widen the
    band that judges it, while the old version in the same minutes shows what bursts and drift are
    normal. Before vs after, the two sides are different hours: each hour's own drift counts.
    """
    if paired:
        return long_run_dispersion(events[0], exposure[0], binomial=binomial)
    sides = list(zip(events, exposure, strict=True))
    phi = dispersion(sides, binomial=binomial)
    phi *= inflation(*(pearson_residuals(e, x, binomial=binomial) for e, x in sides))
    return max(phi, *(block_dispersion(e, x) for e, x in sides))


def _level_mean(s: Sample) -> float:
    return float(s.v.mean())


def _rate(s: Sample) -> float:
    if s.w is not None:
        return float((s.v * s.w).sum() / s.w.sum())
    return float(s.v.mean())
