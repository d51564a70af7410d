"""The judge's tests on the tail: a wider or heavier-tailed new side with an unchanged median.

Both count points far out (beyond the pooled p90, or paired differences that stray far from their
median), so both are discrete. The exact tail of a small count is more conservative than its nominal
level, so both report the mid-p (half the probability of the count seen, all of the ones beyond;
Lancaster). And with few points far out even "all of them on the new side" is not significant, so
each result carries its floor, the smallest p-value the test could have given on these points: a
test which cannot reach its level yet does not take a share of it (Tarone's refinement of Bonferroni;
judge_verdict.py spends the level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from shepherd.domain.watch.judge.stats import Floats, deflate, inflation, lag1, median, quantile, ranks

MIN_EXCEEDANCES = 12  # points beyond the pooled threshold: with fewer, no count is significant
TAIL_QUANTILE = 0.9  # the "tail" compared: p90 of the points is the highest an hour of 30 s points resolves
SYMMETRY_REACH = 4.0  # how far beyond its median, in lower-half spreads, a paired difference strays


@dataclass(frozen=True)
class Tail:
    p: float
    threshold: float
    above_new: int  # new-side points beyond the threshold
    expected: float  # ... and how many to expect if the sides did not differ
    floor: float = 0.0  # the p-value had every point beyond the threshold been a new-side one


def tail_p(new: Floats, old: Floats, *, upper: bool) -> Tail:
    """Exceedance test: do more of the new side's points lie beyond the pooled p90 (or p10)?

    Each side is first centred on its median and scaled by the spread of its *other* half (for the
    upper tail: median − p25), so this sees a tail grown on one side only — some minutes slower,
    none faster, as contention, GC pressure or a slow path do — and not a spread that grew both ways,
    which is what a small canary's p95 looks like anyway (fewer requests behind each point).
    Under "no difference" the count of new points beyond the pooled threshold is hypergeometric (a
    permutation argument; no distribution assumed). Mann–Whitney does not see any of this when the
    median holds (kayenta#780). Exceedances that come in runs count for less: the autocorrelation of
    the old side's exceedances (valid under "no difference", and not diluted by a new side whose slow
    minutes come in episodes) inflates the variance.
    """
    sign = 1.0 if upper else -1.0
    a, b = _standardise(sign * new), _standardise(sign * old)
    pooled = np.concatenate([a, b])
    # p90 once there are enough points; before that a lower threshold (down to the upper quartile), as
    # all of 4 exceedances falling on the new side is still only p ≈ 0.06.
    q = min(TAIL_QUANTILE, max(0.75, 1 - MIN_EXCEEDANCES / pooled.size))
    threshold = float(quantile(pooled, q))
    beyond_all = int(np.count_nonzero(pooled > threshold))
    k = int(np.count_nonzero(a > threshold))
    expected = beyond_all * a.size / pooled.size

    def mid_p(count: int) -> float:
        return hypergeom_mid_p(count, pooled.size, beyond_all, a.size) if count > expected else 1.0

    factor = inflation((b > threshold).astype(np.float64))
    floor = mid_p(min(beyond_all, a.size))
    return Tail(deflate(mid_p(k), factor), threshold, k, expected, deflate(floor, factor))


def _standardise(x: Floats) -> Floats:
    q25, q50 = quantile(x, np.array([0.25, 0.5]))
    spread = float(q50 - q25)
    if spread <= 0:
        spread = float(np.ptp(x)) / 4 or 1.0
    return np.asarray((x - q50) / spread)


def hypergeom_mid_p(k: int, total: int, marked: int, drawn: int) -> float:
    """P(X > k) + ½ P(X = k) for X ~ Hypergeometric(total, marked, drawn), summed in log space."""
    low, high = max(k, 0, drawn - (total - marked)), min(marked, drawn)
    if low > high:
        return 0.0
    x = np.arange(low, high + 1, dtype=np.float64)
    log_pmf = (
        _log_choose(marked, x) + _log_choose(total - marked, drawn - x) - _log_choose(total, float(drawn))
    )
    pmf = np.exp(log_pmf)
    at_k = float(pmf[0]) if low == k else 0.0
    return float(min(1.0, pmf.sum() - at_k / 2))


def _log_choose(n: float, k: Floats | float) -> Floats:
    return np.asarray(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))


@dataclass(frozen=True)
class Strays:
    """The sign test on the paired differences that stray far: its p-value and what it rests on."""

    p: float
    floor: float  # the p-value had every stray gone the tested way
    strays: int  # differences that strayed that far, either way
    points: int  # differences looked at


def symmetry(d: Floats, *, upper: bool, reach: float = SYMMETRY_REACH) -> Strays:
    """Canary mode: do the minute-by-minute differences stray further up than down (or down than up)?

    Both versions see the same minutes, so what the shared load, database and dependencies do cancels
    in new − old; what is left is each version's own noise, and if the new one is no worse than the old
    (whatever their levels), that is as likely to stray `reach` × its lower-half spread above its median
    as below it. Given how many differences stray that far, the count above is then Binomial(½) (a sign
    test on the extremes). Some minutes ×3, or slow episodes, pile up on one side only. Straying that
    comes in runs counts for less: the autocorrelation of the strays on the untested side (the same as
    on the tested side when nothing changed, and not diluted by slow episodes) inflates the variance.
    """
    x = (d - median(d)) * (1.0 if upper else -1.0) if d.size >= 4 else d
    spread = -float(quantile(x, 0.25)) if d.size >= 4 else 0.0
    if spread <= 0:
        return Strays(1.0, 1.0, 0, int(d.size))
    above, below = x > reach * spread, x < -reach * spread
    k, total = int(np.count_nonzero(above)), int(np.count_nonzero(above | below))
    factor = inflation(below.astype(np.float64))
    floor = deflate(0.5 ** (total + 1), factor) if total else 1.0
    if 2 * k <= total:
        return Strays(1.0, floor, total, int(d.size))
    # bdtrc(k, n, ½) = P(X > k): the mid-p is the mean of P(X > k) and P(X ≥ k).
    mid_p = 0.5 * float(special.bdtrc(k, total, 0.5) + special.bdtrc(k - 1, total, 0.5))
    return Strays(deflate(mid_p, factor), floor, total, int(d.size))


MIN_PAIRS = 10  # paired points before the extremes test takes a share of the level


def extremes_p(new: Floats, old: Floats, *, upper: bool) -> Strays:
    """Canary mode: is the new version worse exactly in the minutes that are far from typical?

    A longer tail with the median unchanged makes the new version slower in the minutes where both
    are far out (the slow minutes get slower), not in the typical ones. So the minute-by-minute
    difference d = new − old rises with how far the minute is from the typical level, measured on
    both versions together: the distance |s − median(s)| of s = new + old. That is Pitman and
    Morgan's test of paired variances turned towards the tails, on ranks so that one GC spike
    counts as one minute: a plain level difference between the versions moves every d alike and
    cancels (the ranks of the distance are centred), and a new version that is merely noisier both
    ways makes d rise at the top and fall at the bottom, which cancels too. The variance is the
    sandwich (robust to a noisier new version), made larger when both series wander (AR(1)).
    """
    n = new.size
    if n < MIN_PAIRS:
        return Strays(1.0, 1.0, 0, int(n))
    d = (new - old) if upper else (old - new)
    s = new + old
    rank_d = ranks(d)[0] - (n + 1) / 2
    distance = ranks(np.abs(s - median(s)))[0] - (n + 1) / 2
    variance = float(((rank_d * distance) ** 2).sum())
    if variance <= 0:
        return Strays(1.0, 1.0, 0, int(n))
    rho = max(0.0, lag1(d)) * max(0.0, lag1(distance))
    z = float(rank_d @ distance) / math.sqrt(variance * (1 + rho) / (1 - rho))
    return Strays(float(special.ndtr(-z)), 0.0, int(n), int(n))
