"""A baseline judge following Kayenta's NetflixACAJudge rules, to measure Shepherd's judge against.

Facts taken from spinnaker/kayenta (kayenta-judge `NetflixACAJudge`, `MannWhitneyClassifier`;
kayenta-mannwhitney `MannWhitney`), re-expressed here; no code copied:

- Two-sided Mann–Whitney with a 98 % confidence interval (`confLevel = 0.98`) of the shift between
  the experiment (new) and control (old), and its Hodges–Lehmann estimate. The interval is R's
  asymptotic `wilcox.test` one (normal quantile, continuity correction, tie-corrected variance, found
  by root search); the root of that step function is an order statistic of the pairwise differences,
  which is how it is computed here.
- `tolerance = 0.25`: the metric is High when the interval's lower end is above 0.25 × |estimate|
  (Low: upper end below −0.25 × |estimate|), i.e. the interval excludes zero by a margin.
- Effect size = mean ratio, experiment ÷ control (1.0 when the control mean is 0). High also needs
  it at or above `allowedIncrease`, Low at or below `allowedDecrease` (Kayenta's default for both is
  1.0; here they are 1 ± the check's tolerance, what a user would configure to match Shepherd's).
- Identical samples, or a single value across both, pass. Two constant samples get tiny Gaussian
  noise in Kayenta; here the interval is the plain difference instead (same outcome, deterministic).
- NaNs are removed (`nanStrategy: remove`); outlier removal is off (Kayenta's default since #621).

Kayenta has no minimum point count; `min_points` is applied anyway so both judges start judging at
the same look.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special, stats

from shepherd.domain.watch.judge.stats import Floats, sample
from shepherd.domain.watch.metrics import CheckResult, CheckSpec, Direction, Outcome, Point

KAYENTA_TOLERANCE = 0.25
KAYENTA_CONFIDENCE = 0.98
TEST = "Kayenta Mann–Whitney (98 % CI)"


def kayenta_judge_check(
    spec: CheckSpec, baseline: Sequence[Point], candidate: Sequence[Point]
) -> CheckResult:
    control, experiment = sample(baseline).v, sample(candidate).v
    need = max(1, spec.min_points)
    if min(control.size, experiment.size) < need:
        reason = f"{spec.name}: {control.size} control and {experiment.size} experiment points (need {need})."
        return CheckResult(spec.name, Outcome.NODATA, reason, test=TEST, critical=spec.critical)
    if (
        np.array_equal(np.sort(control), np.sort(experiment))
        or np.ptp(np.concatenate([control, experiment])) == 0
    ):
        return _result(spec, Outcome.PASS, "identical data", control, experiment, 1.0, 1.0)
    low, high, estimate = hodges_lehmann_interval(experiment, control, KAYENTA_CONFIDENCE)
    bound = KAYENTA_TOLERANCE * abs(estimate)
    deviation = _mean_ratio(experiment, control)
    up = spec.direction in (Direction.INCREASE_IS_BAD, Direction.BOTH)
    down = spec.direction in (Direction.DECREASE_IS_BAD, Direction.BOTH)
    p = float(stats.mannwhitneyu(experiment, control, method="asymptotic").pvalue)
    if up and low > bound and deviation >= 1 + spec.tolerance:
        return _result(spec, Outcome.FAIL, "High", control, experiment, deviation, p)
    if down and high < -bound and deviation <= 1 - spec.tolerance:
        return _result(spec, Outcome.FAIL, "Low", control, experiment, deviation, p)
    return _result(spec, Outcome.PASS, "Pass", control, experiment, deviation, p)


def _mean_ratio(experiment: Floats, control: Floats) -> float:
    mean = float(control.mean())
    return 1.0 if mean == 0 else float(experiment.mean()) / mean


def _result(
    spec: CheckSpec, outcome: Outcome, label: str, control: Floats, experiment: Floats, ratio: float, p: float
) -> CheckResult:
    reason = f"{spec.name} classified {label} (mean ratio ×{ratio:.2f})."
    return CheckResult(
        spec.name,
        outcome,
        reason,
        baseline=float(control.mean()),
        candidate=float(experiment.mean()),
        ratio=ratio,
        p_value=p,
        test=TEST,
        critical=spec.critical,
    )


def hodges_lehmann_interval(x: Floats, y: Floats, confidence: float) -> tuple[float, float, float]:
    """(low, high, estimate) of the shift x − y: R's asymptotic two-sample Wilcoxon interval."""
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        diff = float(x[0] - y[0])
        return diff, diff, diff
    nx, ny = x.size, y.size
    pairs = nx * ny
    diffs = np.subtract.outer(x, y).ravel()
    sigma = math.sqrt(nx * ny / 12 * ((nx + ny + 1) - (_ties(x) + _ties(y)) / ((nx + ny) * (nx + ny - 1))))
    z = float(special.ndtri(1 - (1 - confidence) / 2))
    # The shifted statistic is a step function with steps at the sorted differences; the roots R's
    # uniroot finds are (up to its tolerance) these order statistics. Continuity correction: ±0.5.
    k_low = _clip(math.floor(pairs / 2 - 0.5 - z * sigma) + 1, pairs)
    k_high = _clip(math.floor(pairs / 2 + 0.5 + z * sigma) + 1, pairs)
    mid = pairs // 2
    picks = sorted({k_low - 1, k_high - 1, mid, max(0, mid - 1)})
    part = np.partition(diffs, picks)
    estimate = float(part[mid]) if pairs % 2 else float((part[mid - 1] + part[mid]) / 2)
    return float(part[k_low - 1]), float(part[k_high - 1]), estimate


def _ties(v: Floats) -> float:
    _, counts = np.unique(v, return_counts=True)
    c = counts.astype(np.float64)
    return float((c**3 - c).sum())


def _clip(k: int, n: int) -> int:
    return min(n, max(1, k))
