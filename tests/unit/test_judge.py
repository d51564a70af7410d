"""The judge on constructed scenarios: each says what a person would expect it to conclude."""

from __future__ import annotations

import numpy as np
import pytest

from shepherd.domain.watch import (
    CheckKind,
    CheckResult,
    CheckSpec,
    Direction,
    Outcome,
    Point,
    Verdict,
)
from shepherd.domain.watch.judge import judge_check, judge_deploy, kayenta_judge_check

STEP = 30.0
LATENCY = CheckSpec("latency_p95", CheckKind.LATENCY)
ERRORS = CheckSpec("error_ratio", CheckKind.RATIO)


def latency(
    seed: int, n: int = 60, level: float = 0.2, sigma: float = 0.08, start: float = 0.0
) -> list[Point]:
    rng = np.random.default_rng(seed)
    values = level * np.exp(rng.normal(0, sigma, n))
    return [Point(start + i * STEP, float(v)) for i, v in enumerate(values)]


def error_ratio(seed: int, rate: float, n: int = 60, volume: float = 600.0) -> list[Point]:
    rng = np.random.default_rng(seed)
    weights = rng.poisson(volume, n).astype(float)
    errors = rng.poisson(weights * rate)
    return [
        Point(i * STEP, float(e / w), float(w)) for i, (e, w) in enumerate(zip(errors, weights, strict=True))
    ]


def test_clean_latency_passes_with_a_reason() -> None:
    result = judge_check(LATENCY, latency(1), latency(2))
    assert result.outcome is Outcome.PASS
    assert result.ratio is not None and 0.9 < result.ratio < 1.1
    assert result.reason.startswith("latency_p95 ") and result.reason.endswith("."), result.reason


def test_latency_step_up_fails_and_says_by_how_much() -> None:
    result = judge_check(LATENCY, latency(1), latency(2, level=0.4))
    assert result.outcome is Outcome.FAIL
    assert result.ratio is not None and 1.8 < result.ratio < 2.2
    assert result.p_value is not None and result.p_value < 0.001
    assert "×2" in result.reason or "x2" in result.reason, result.reason
    assert "ms" in result.reason


def test_improvement_is_not_a_failure_when_only_increase_is_bad() -> None:
    assert judge_check(LATENCY, latency(1), latency(2, level=0.1)).outcome is Outcome.PASS


def test_decrease_is_bad_sees_a_drop() -> None:
    spec = CheckSpec("throughput", CheckKind.GAUGE, Direction.DECREASE_IS_BAD)
    result = judge_check(spec, latency(1, level=100), latency(2, level=40))
    assert result.outcome is Outcome.FAIL


def test_both_directions_sees_either_way() -> None:
    spec = CheckSpec("queue", CheckKind.GAUGE, Direction.BOTH)
    assert judge_check(spec, latency(1, level=50), latency(2, level=120)).outcome is Outcome.FAIL
    assert judge_check(spec, latency(1, level=50), latency(2, level=20)).outcome is Outcome.FAIL
    assert judge_check(spec, latency(1, level=50), latency(2, level=50)).outcome is Outcome.PASS


def test_change_within_tolerance_passes() -> None:
    spec = CheckSpec("latency_p95", CheckKind.LATENCY, tolerance=0.5)
    assert judge_check(spec, latency(1), latency(2, level=0.24)).outcome is Outcome.PASS


def test_error_ratio_step_fails_weighted_by_volume() -> None:
    result = judge_check(ERRORS, error_ratio(1, 0.004), error_ratio(2, 0.031))
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("error_ratio 0.35% → 3.1% (×8.8) on the new version vs the old"), (
        result.reason
    )
    assert result.ratio is not None and 5 < result.ratio < 12


def test_clean_error_ratio_passes() -> None:
    assert judge_check(ERRORS, error_ratio(1, 0.01), error_ratio(2, 0.01)).outcome is Outcome.PASS


def sparse_errors(seed: int, per_minute: float, n: int = 60) -> list[Point]:
    rng = np.random.default_rng(seed)
    return [Point(i * STEP, float(c)) for i, c in enumerate(rng.poisson(per_minute / 2, n))]


def test_sparse_errors_zero_to_a_few_per_minute_fail_where_kayenta_passes() -> None:
    """kayenta#426: both medians are 0, ranks of mostly-zero points see nothing."""
    spec = CheckSpec("errors", CheckKind.COUNT)
    old, new = [Point(i * STEP, 0.0) for i in range(60)], sparse_errors(3, per_minute=1.0)
    assert sum(p.v > 0 for p in new) < 30  # mostly zeros still
    assert judge_check(spec, old, new).outcome is Outcome.FAIL
    assert kayenta_judge_check(spec, old, new).outcome is Outcome.PASS


def test_sparse_errors_unchanged_pass() -> None:
    spec = CheckSpec("errors", CheckKind.COUNT)
    assert judge_check(spec, sparse_errors(4, 0.5), sparse_errors(5, 0.5)).outcome is Outcome.PASS


def test_variance_only_change_with_same_median_fails() -> None:
    """kayenta#780: a third of the minutes three times slower, the median unchanged."""
    old = latency(6, n=120)
    rng = np.random.default_rng(7)
    slow = rng.random(120) < 0.33
    new = [Point(p.t, p.v * (3.0 if s else 1.0)) for p, s in zip(latency(8, n=120), slow, strict=True)]
    assert abs(np.median([p.v for p in new]) / np.median([p.v for p in old]) - 1) < 0.25
    result = judge_check(LATENCY, old, new)
    assert result.outcome is Outcome.FAIL, result.reason


def seasonal_pair(seed: int, rise: float) -> tuple[list[Point], list[Point]]:
    """Before and after a deploy while traffic (and with it latency) rises by `rise`."""
    before = latency(seed, start=-60 * STEP)
    after = [Point(p.t, p.v * rise) for p in latency(seed + 1)]
    return before, after


def test_daily_rise_seen_a_week_ago_too_is_excused() -> None:
    before, after = seasonal_pair(10, rise=1.6)
    week = seasonal_pair(20, rise=1.6)
    without = judge_check(LATENCY, before, after, before_after=True)
    assert without.outcome is Outcome.FAIL  # the same rise without history looks like a regression
    result = judge_check(LATENCY, before, after, seasonal=week)
    assert result.outcome is Outcome.PASS, result.reason
    assert "week" in result.reason


def test_regression_on_top_of_a_daily_rise_still_fails() -> None:
    before, after = seasonal_pair(10, rise=1.6 * 2.0)
    result = judge_check(LATENCY, before, after, seasonal=seasonal_pair(20, rise=1.6))
    assert result.outcome is Outcome.FAIL, result.reason


def test_week_ago_data_can_only_excuse_never_accuse() -> None:
    before, after = seasonal_pair(10, rise=1.0)
    week_fell = seasonal_pair(20, rise=0.5)
    assert judge_check(LATENCY, before, after, seasonal=week_fell).outcome is Outcome.PASS


def batch_hour(seed: int, *, slow: bool) -> tuple[list[Point], list[Point]]:
    """Before and after a deploy; with `slow`, a batch job makes a block of minutes ×2.5 after it."""
    before = latency(seed, n=120, start=-120 * STEP)
    after = latency(seed + 1, n=120)
    if slow:
        after = [Point(p.t, p.v * (2.5 if 40 <= i < 70 else 1.0)) for i, p in enumerate(after)]
    return before, after


def test_slow_minutes_seen_in_the_same_hour_a_week_ago_are_excused() -> None:
    """The nightly batch job slows a quarter of this hour every day: its tail is no regression."""
    before, after = batch_hour(30, slow=True)
    assert judge_check(LATENCY, before, after, before_after=True).outcome is Outcome.FAIL
    result = judge_check(LATENCY, before, after, seasonal=batch_hour(40, slow=True))
    assert result.outcome is not Outcome.FAIL, result.reason


def test_slow_minutes_the_same_hour_a_week_ago_did_not_have_fail() -> None:
    before, after = batch_hour(30, slow=True)
    result = judge_check(LATENCY, before, after, seasonal=batch_hour(40, slow=False))
    assert result.outcome is Outcome.FAIL, result.reason


def test_no_data_is_nodata_and_too_few_points_too() -> None:
    result = judge_check(LATENCY, [], latency(1))
    assert result.outcome is Outcome.NODATA
    assert "no data" in result.reason.lower() or "no points" in result.reason.lower(), result.reason
    assert judge_check(LATENCY, latency(1), latency(2, n=2)).outcome is Outcome.NODATA


def test_deterministic() -> None:
    a = judge_check(LATENCY, latency(1), latency(2, level=0.3))
    b = judge_check(LATENCY, latency(1), latency(2, level=0.3))
    assert a == b


def result(name: str, outcome: Outcome, *, critical: bool = False) -> CheckResult:
    return CheckResult(name, outcome, f"{name} {outcome.value}.", critical=critical)


@pytest.mark.parametrize(
    ("outcomes", "finished", "verdict"),
    [
        ([Outcome.PASS, Outcome.PASS, Outcome.PASS], True, Verdict.PASS),
        ([Outcome.PASS, Outcome.PASS, Outcome.PASS], False, Verdict.RUNNING),
        ([Outcome.PASS, Outcome.PASS, Outcome.PASS, Outcome.FAIL], True, Verdict.PASS),
        ([Outcome.PASS, Outcome.FAIL], True, Verdict.FAIL),
        ([Outcome.PASS, Outcome.PASS, Outcome.FAIL, Outcome.FAIL, Outcome.PASS], False, Verdict.FAIL),
        ([Outcome.NODATA, Outcome.INCONCLUSIVE], True, Verdict.INCONCLUSIVE),
        ([Outcome.NODATA], False, Verdict.RUNNING),
        ([], True, Verdict.INCONCLUSIVE),
    ],
)
def test_deploy_verdict_rules(outcomes: list[Outcome], finished: bool, verdict: Verdict) -> None:
    checks = [result(f"c{i}", o) for i, o in enumerate(outcomes)]
    assert judge_deploy(checks, finished=finished).verdict is verdict


def test_one_critical_failure_fails_the_deploy_and_says_which() -> None:
    checks = [
        result("a", Outcome.PASS),
        result("b", Outcome.PASS),
        result("errors", Outcome.FAIL, critical=True),
    ]
    judgement = judge_deploy(checks, finished=False)
    assert judgement.verdict is Verdict.FAIL
    assert "critical check errors failed" in judgement.reason
    assert judgement.score == pytest.approx(66.7)


def test_nodata_says_how_many_checks_had_none() -> None:
    judgement = judge_deploy([result("a", Outcome.NODATA), result("b", Outcome.NODATA)], finished=True)
    assert judgement.reason == "No check could be judged in the whole watch (2 without data, 0 inconclusive)."
