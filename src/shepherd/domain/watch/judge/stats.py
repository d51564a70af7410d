"""The statistics behind the judge, kept apart from its rules and wording. Pure: numpy and scipy only.

Every p-value here is one-sided ("the new side is worse in this direction") and deterministic: no
resampling, no random noise, so the same points always give the same verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy import special

from shepherd.domain.watch.metrics import Point

Floats = NDArray[np.float64]

# Autocorrelation between neighbouring points is capped: above this the effective sample is so small
# that the estimate of ρ itself is the noisiest number around.
MAX_RHO = 0.8
PRIOR_RHO, PRIOR_POINTS = 0.5, 10.0
LEVEL_WINDOW = 11  # timestamps in the running level both versions share (5 min at 30 s)
BLOCK = 10  # points per block when measuring slow drift of event rates (5 min at 30 s)
PAIRED_SHARE = 0.8  # this share of points at common timestamps makes two sides "the same minutes"
DISPERSION_EVENTS = 20.0  # events at which an estimated over-dispersion counts half
PRIOR_NOISE = 0.2  # typical point-to-point noise of an error rate (log scale), for the dispersion prior


@dataclass(frozen=True)
class Sample:
    """One side's points as arrays, in time order, without NaN or infinite values."""

    t: Floats
    v: Floats
    w: Floats | None  # weights (e.g. requests) when every point has one

    @property
    def size(self) -> int:
        return int(self.v.size)


def sample(points: Sequence[Point]) -> Sample:
    t = np.fromiter((p.t for p in points), dtype=np.float64, count=len(points))
    v = np.fromiter((p.v for p in points), dtype=np.float64, count=len(points))
    weighted = bool(points) and all(p.w is not None for p in points)
    w = np.fromiter((p.w or 0.0 for p in points), dtype=np.float64, count=len(points)) if weighted else None
    keep = np.isfinite(v) & np.isfinite(t)
    if w is not None:
        # A point without traffic has no ratio to speak of: it is a missing point, not a zero.
        keep &= np.isfinite(w) & (w > 0)
    if t.size > 1 and bool((t[1:] < t[:-1]).any()):
        order = np.argsort(t, kind="stable")
        t, v, keep = t[order], v[order], keep[order]
        w = w[order] if w is not None else None
    return Sample(t[keep], v[keep], w[keep] if w is not None else None)


def lag1(x: Floats) -> float:
    """Lag-1 autocorrelation of a series' ranks (0 when too short to say).

    Ranks, because one GC spike in a short series otherwise dominates the variance and hides that
    the other points wander together.
    """
    if x.size < 4:
        return 0.0
    d = ranks(x)[0] - (x.size + 1) / 2
    den = float(d @ d)
    return float(d[1:] @ d[:-1]) / den if den > 0 else 0.0


def ranks(x: Floats) -> tuple[Floats, float]:
    """Average ranks (1-based, ties share their mean rank) and the tie term Σ(t³ − t).

    Written out because scipy's rankdata and mannwhitneyu spend most of their time at these sizes
    (≤ a few hundred points) validating arguments: the watch ranks every check at every look.
    """
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    counts = np.diff(np.append(starts, x.size))
    mean_rank = starts + (counts + 1) / 2.0
    out = np.empty(x.size, dtype=np.float64)
    out[order] = np.repeat(mean_rank, counts)
    return out, float((counts.astype(np.float64) ** 3 - counts).sum())


def quantile(x: Floats, q: Floats | float) -> Floats:
    """np.quantile's default (linear) method, bit for bit, on a 1-D array: a sort and a lerp.

    np.quantile costs ~50 µs a call at these sizes, almost all of it generic dispatch, and a look
    takes about a dozen; this takes ~10 µs.
    """
    ordered = np.sort(x)
    at = np.asarray(q, dtype=np.float64) * (ordered.size - 1)
    low = np.floor(at).astype(np.intp)
    high = np.minimum(low + 1, ordered.size - 1)
    a, b = ordered[low], ordered[high]
    t = at - low
    # numpy's lerp: from the nearer end, so a quantile never falls outside [a, b].
    return np.asarray(np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t))


def median(x: Floats) -> float:
    """np.median of a 1-D array, without its dispatch cost."""
    ordered = np.sort(x)
    mid = ordered.size // 2
    return float(ordered[mid] if ordered.size % 2 else (ordered[mid - 1] + ordered[mid]) / 2)


def inflation(*series: Floats) -> float:
    """Variance inflation (1+ρ)/(1−ρ) of a mean over autocorrelated points (AR(1) approximation).

    Metrics scraped every 30 s are not independent draws: a slow GC, a warm cache or a noisy neighbour
    lasts minutes, and a Prometheus rate over 1 m sampled every 30 s shares half its data with the next
    point. Tests that treat such points as independent are far too sure of themselves; this factor is
    how much less sure to be. ρ is pooled over the sides (weighted by length) and, because a handful of
    points cannot show their own autocorrelation, shrunk towards a prior ρ of 0.5 worth 10 points.
    """
    total = sum(s.size for s in series)
    if total == 0:
        return 1.0
    observed = sum(lag1(s) * s.size for s in series)
    rho = (observed + PRIOR_RHO * PRIOR_POINTS) / (total + PRIOR_POINTS)
    rho = min(MAX_RHO, max(0.0, rho))
    return (1 + rho) / (1 - rho)


def deflate(p: float, factor: float) -> float:
    """A one-sided p-value with its z-score shrunk by √factor (the autocorrelation correction)."""
    if factor <= 1.0 or not 0.0 < p < 1.0:
        return p
    z = -float(special.ndtri(p))
    return float(special.ndtr(-z / math.sqrt(factor)))


def mann_whitney_p(new: Floats, old: Floats, *, greater: bool, factor: float) -> float:
    """One-sided Mann–Whitney U: is `new` stochastically larger (or smaller) than `old`?"""
    if new.size == 0 or old.size == 0 or np.ptp(np.concatenate([new, old])) == 0:
        return 1.0
    # The normal approximation with tie correction and continuity, as scipy's method="asymptotic"
    # (never "exact": O(n·m) memory and slow at n≈600); accurate at the sizes we judge (≥ 5 a side).
    n1, n2 = new.size, old.size
    n = n1 + n2
    r, ties = ranks(np.concatenate([new, old]))
    u_new = float(r[:n1].sum()) - n1 * (n1 + 1) / 2
    u = u_new if greater else n1 * n2 - u_new
    sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    p = float(special.ndtr(-(u - n1 * n2 / 2 - 0.5) / sd)) if sd > 0 else 1.0
    return deflate(p, factor)


def rate_p(
    new_events: float,
    new_exposure: float,
    old_events: float,
    old_exposure: float,
    *,
    null_ratio: float,
    dispersion: float,
    greater: bool,
) -> float:
    """Conditional test of two event rates: is the new rate above (below) `null_ratio` × the old one?

    Given the total number of events, the new side's share is binomial with probability set by the
    exposures (requests, or points) and the null ratio. This compares counts, not ranks, so a metric
    that is mostly zeros still carries its evidence (kayenta#426): 0 errors in 40,000 requests against
    9 in 12,000 is a difference, even though both medians are 0. Over-dispersion is handled
    quasi-likelihood style by shrinking both counts by the dispersion factor (continuous extension of
    the binomial through the regularised incomplete beta function).
    """
    a, b = new_events / dispersion, old_events / dispersion
    share = new_exposure * null_ratio / (old_exposure + new_exposure * null_ratio)
    if greater:
        return 1.0 if a <= 0 else float(special.betainc(a, b + 1, share))
    return 1.0 if b <= 0 else float(special.betainc(b, a + 1, 1 - share))


def dispersion(sides: Sequence[tuple[Floats, Floats]], *, binomial: bool) -> float:
    """Pearson dispersion of per-point event counts around each side's own rate (≥ 1).

    `sides` holds (events, exposure) per point. A dispersion of 4 means the points scatter as if there
    were a quarter of the events: bursts, retries, a flaky dependency.
    """
    num, dof = 0.0, 0
    for events, exposure in sides:
        total = float(exposure.sum())
        rate = float(events.sum()) / total if total > 0 else 0.0
        if events.size < 2 or rate <= 0 or (binomial and rate >= 1):
            continue
        expected = exposure * rate
        var = expected * (1 - rate) if binomial else expected
        num += float((((events - expected) ** 2) / var).sum())
        dof += events.size - 1
    return max(1.0, num / dof) if dof else 1.0


def pearson_residuals(events: Floats, exposure: Floats, *, binomial: bool = False) -> Floats:
    total = float(exposure.sum())
    rate = float(events.sum()) / total if total > 0 else 0.0
    if rate <= 0 or (binomial and rate >= 1):
        return np.zeros_like(events)
    expected = exposure * rate
    var = expected * (1 - rate) if binomial else expected
    return np.asarray((events - expected) / np.sqrt(var))


def paired(old: Sample, new: Sample) -> tuple[NDArray[np.intp], NDArray[np.intp]] | None:
    """Indices of the points both sides have at the same timestamps, when most of them pair up.

    That is canary mode: old and new version in the same minutes, sharing their load, their database
    and their dependencies. Comparing them minute by minute removes all of that from the noise.
    """
    _, i_old, i_new = np.intersect1d(old.t, new.t, assume_unique=True, return_indices=True)
    if i_old.size < 3 or i_old.size < PAIRED_SHARE * max(old.size, new.size):
        return None
    return i_old, i_new


def shared_level(a: Floats, b: Floats) -> Floats:
    """The running median of both aligned series pooled: what the two sides share at each moment.

    Subtracting it leaves each side's own noise, plus half of any real difference between them (the
    level sits between the sides), so tests on what is left still see a shift or a wider spread.
    """
    n = a.size
    width = min(LEVEL_WINDOW, n if n % 2 else n - 1)
    if width < 3:
        return np.full(n, float(np.median(np.concatenate([a, b]))))
    half = width // 2
    windows = np.concatenate(
        [sliding_window_view(np.pad(x, half, mode="reflect"), width) for x in (a, b)], axis=1
    )
    return np.asarray(np.median(windows, axis=1))


def t_p(diff: float, se: float, dof: float, factor: float) -> float:
    """One-sided p of a t statistic diff/se, made less sure by the autocorrelation factor."""
    if se <= 0:
        return 0.0 if diff > 0 else 1.0
    # The standard error grows with the autocorrelation; the degrees of freedom stay (cutting them to
    # n/factor as well makes a 5-point test unable to see even a tripling).
    return float(special.stdtr(max(1.0, dof), -diff / (se * math.sqrt(max(1.0, factor)))))


def paired_t_p(d: Floats, factor: float) -> float:
    """Is the mean of the minute-by-minute differences above 0?"""
    n = d.size
    if n < 2:
        return 1.0
    return t_p(float(d.mean()), float(d.std(ddof=1)) / math.sqrt(n), n - 1, factor)


def welch_t_p(a: Floats, b: Floats, factor: float) -> float:
    """Welch's t: is the mean of `a` above the mean of `b`?"""
    na, nb = a.size, b.size
    if na < 2 or nb < 2:
        return 1.0
    va, vb = float(a.var(ddof=1)) / na, float(b.var(ddof=1)) / nb
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1)) if va + vb > 0 else na + nb - 2
    return t_p(float(a.mean() - b.mean()), se, dof, factor)


def long_run_dispersion(events: Floats, exposure: Floats, *, binomial: bool, bandwidth: int = BLOCK) -> float:
    """Over-dispersion of one side's event total: the long-run variance of its Pearson residuals (≥ 1).

    What the conditional rate test needs is how much more the side's whole-window count varies than
    a Poisson (binomial) count would: bursts within a point and drifts over minutes (a flaky
    dependency, retries) both count, so the residuals' autocovariances are added up to `bandwidth`
    points (at most a third of the points) with Bartlett's weights (Newey and West), which keeps the
    estimate positive. The excess over 1 is shrunk while the side has few events
    (DISPERSION_EVENTS): a handful of errors that happen to fall in one half of the window is what
    a Poisson process does, not evidence of bursts.
    """
    r = pearson_residuals(events, exposure, binomial=binomial)
    n = r.size
    if n < 4 or not r.any():
        return 1.0
    r = r - r.mean()
    width = max(1, min(bandwidth, n // 3))
    plain = float(r @ r)
    total = plain
    for lag in range(1, width + 1):
        total += 2 * (1 - lag / (width + 1)) * float(r[lag:] @ r[:-lag])
    # Never below the points' own scatter: at these lengths an apparently negative autocorrelation
    # is noise in the estimate far more often than a real property of error counts.
    excess = max(0.0, max(total, plain) / (n - 1) - 1)
    count = float(events.sum())
    observed = 1 + excess * count / (count + DISPERSION_EVENTS)
    # A few points cannot show their own scatter: until they can, lean on the scatter error counts
    # commonly have, a point-to-point noise of PRIOR_NOISE on the rate, worth PRIOR_POINTS points.
    # It grows with the events a point holds, so it never swamps a sparse count's evidence.
    prior = 1 + PRIOR_NOISE**2 * count / n
    return max(observed, ((n - 1) * observed + PRIOR_POINTS * prior) / (n - 1 + PRIOR_POINTS))


def block_dispersion(events: Floats, exposure: Floats) -> float:
    """Pearson dispersion of 5-minute block totals around the side's rate (0 when too few blocks).

    Error ratios drift for minutes at a time (a flaky dependency, a retry storm); block totals show
    that drift where per-point residuals and a lag-1 correlation underrate it.
    """
    blocks = events.size // BLOCK
    if blocks < 3:
        return 0.0
    cut = blocks * BLOCK
    e = events[-cut:].reshape(blocks, BLOCK).sum(axis=1)
    x = exposure[-cut:].reshape(blocks, BLOCK).sum(axis=1)
    return dispersion([(e, x)], binomial=False)
