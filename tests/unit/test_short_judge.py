"""The short-canary benchmark's plain reference: the textbook tests, at their textbook p-values."""

from __future__ import annotations

import pytest
from bench import short_judge

from shepherd.domain.watch import CheckKind, CheckSpec, Point

RATIO = CheckSpec("errors", CheckKind.RATIO)
LATENCY = CheckSpec("latency", CheckKind.LATENCY)


def _ratio(errors: list[int], volume: float) -> list[Point]:
    return [Point(float(i), e / volume, volume) for i, e in enumerate(errors)]


def test_sparse_errors_get_the_exact_conditional_p() -> None:
    # Issue 16's example: 1 error in about 6,400 baseline requests, 22 in as many canary requests.
    baseline = _ratio([1] + [0] * 9, 640.0)
    canary = _ratio([3, 2, 2, 3, 2, 2, 2, 2, 2, 2], 640.0)
    p = short_judge.reference_p(RATIO, baseline, canary)
    assert p == pytest.approx(23 / 2**23 + 1 / 2**23, rel=1e-6)  # P(X ≥ 22), X ~ Binomial(23, ½)
    assert short_judge.reference_fails(RATIO, baseline, canary)


def test_no_errors_anywhere_passes() -> None:
    quiet = _ratio([0] * 10, 500.0)
    assert short_judge.reference_p(RATIO, quiet, quiet) == 1.0
    assert not short_judge.reference_fails(RATIO, quiet, quiet)


def test_the_level_is_split_over_the_four_looks() -> None:
    # 20 vs 40 errors in equal traffic: p ≈ 0.0067, under 0.02 for one look but not under 0.02 / 4.
    baseline, canary = _ratio([2] * 10, 1000.0), _ratio([4] * 10, 1000.0)
    p = short_judge.reference_p(RATIO, baseline, canary)
    assert short_judge.REFERENCE_ALPHA / 4 < p < short_judge.REFERENCE_ALPHA
    assert not short_judge.reference_fails(RATIO, baseline, canary)


def test_latency_is_mann_whitney_one_sided() -> None:
    old = [Point(float(i), 0.1 + 0.001 * i) for i in range(20)]
    slower = [Point(float(i), 0.2 + 0.001 * i) for i in range(20)]
    assert short_judge.reference_fails(LATENCY, old, slower)
    assert not short_judge.reference_fails(LATENCY, slower, old)
