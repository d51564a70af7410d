"""The short-canary benchmark's scenarios: the same for a seed, and labelled as they were drawn.

A healthy scenario's canary and baseline come from one distribution; a regressed one's canary differs
by the stated size. Checked on the scenarios' parameters and, drawn long enough for the noise to
average out, on the points the generator makes from them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from bench import short_corpus as sc
from scipy import stats

from shepherd.domain.watch import Point

LONG = 40_000  # scrapes: enough for medians and ratios to settle


@pytest.fixture(scope="module")
def scenarios() -> list[sc.Scenario]:
    return sc.corpus(seed=11, per_kind=8)


def test_same_seed_same_scenarios(scenarios: list[sc.Scenario]) -> None:
    assert sc.corpus(seed=11, per_kind=8) == scenarios
    assert sc.corpus(seed=12, per_kind=8) != scenarios


def test_as_many_healthy_as_regressed_in_every_kind(scenarios: list[sc.Scenario]) -> None:
    for kind in sc.KINDS:
        mine = [s for s in scenarios if s.kind == kind]
        assert sum(s.regression for s in mine) == sum(not s.regression for s in mine) == 8


def test_window_and_looks(scenarios: list[sc.Scenario]) -> None:
    for s in scenarios:
        n = round(sc.WINDOW * 60 / s.world.step)
        assert len(s.canary) <= n and len(s.baseline) <= n
        assert all(sc.T0 <= p.t < sc.T0 + sc.WINDOW * 60 for p in [*s.baseline, *s.canary])
        early, _ = s.points(2)
        assert len(early) <= 120 / s.world.step


def test_healthy_sides_share_one_distribution(scenarios: list[sc.Scenario]) -> None:
    for s in (s for s in scenarios if not s.regression):
        # Only the traffic share may differ: the canary serves ×0.7–1.4 of the baseline's requests.
        assert replace(s.new, rpm=s.old.rpm) == s.old
        assert s.size == 1.0 and s.label == "healthy" and not s.large


def test_regressed_sides_differ_by_the_stated_size(scenarios: list[sc.Scenario]) -> None:
    for s in (s for s in scenarios if s.regression):
        assert s.size in sc.KINDS[s.kind]
        assert s.ideal_z >= sc.IDEAL_Z
        if s.kind == "error-ratio step":
            assert s.new.error_ratio == pytest.approx(s.old.error_ratio * s.size)
            assert replace(s.new, rpm=s.old.rpm, error_ratio=s.old.error_ratio) == s.old
        elif s.kind == "sparse errors":
            assert s.new.extra_errors * sc.WINDOW == pytest.approx(s.size)
            assert s.old.error_ratio * s.old.rpm * sc.WINDOW <= 3.0
            assert replace(s.new, rpm=s.old.rpm, extra_errors=0.0) == s.old
        elif s.kind == "latency step":
            assert s.new.latency == pytest.approx(s.old.latency * s.size)
            assert replace(s.new, rpm=s.old.rpm, latency=s.old.latency) == s.old
        else:
            assert s.new.tail == s.size and s.old.tail == 1.0
            assert replace(s.new, rpm=s.old.rpm, tail=1.0) == s.old


def _long(s: sc.Scenario) -> tuple[list[Point], list[Point]]:
    """Both sides of `s` drawn for LONG scrapes from the scenario's own distributions."""
    rng = np.random.default_rng(3)
    shared = sc._shared(rng, s.world, LONG)
    draw = sc._latency if s.kind.startswith("latency") else sc._errors
    return draw(rng, s.world, s.old, shared, LONG), draw(rng, s.world, s.new, shared, LONG)


def _one(scenarios: list[sc.Scenario], kind: str, regression: bool) -> sc.Scenario:
    return next(s for s in scenarios if s.kind == kind and s.regression is regression)


def _rate(points: list[Point]) -> float:
    return float(sum(p.v * (p.w or 0.0) for p in points) / sum(p.w or 0.0 for p in points))


@pytest.mark.parametrize("kind", ["error-ratio step", "latency step", "latency spread"])
def test_points_of_a_healthy_scenario_come_from_one_distribution(
    scenarios: list[sc.Scenario], kind: str
) -> None:
    s = _one(scenarios, kind, False)
    old, new = _long(s)
    if kind == "error-ratio step":
        assert _rate(new) == pytest.approx(_rate(old), rel=0.1)
    else:
        assert stats.ks_2samp([p.v for p in old], [p.v for p in new]).pvalue > 0.001


def test_points_of_an_error_ratio_step_are_that_many_times_worse(scenarios: list[sc.Scenario]) -> None:
    s = _one(scenarios, "error-ratio step", True)
    old, new = _long(s)
    assert _rate(new) / _rate(old) == pytest.approx(s.size, rel=0.1)


def test_sparse_errors_add_their_count_per_window(scenarios: list[sc.Scenario]) -> None:
    s = _one(scenarios, "sparse errors", True)
    old, new = _long(s)
    windows = LONG * s.world.step / (sc.WINDOW * 60)
    extra = sum(p.v * (p.w or 0.0) for p in new) - _rate(old) * sum(p.w or 0.0 for p in new)
    assert extra / windows == pytest.approx(s.size, rel=0.1)


def test_points_of_a_latency_step_are_that_many_times_slower(scenarios: list[sc.Scenario]) -> None:
    s = _one(scenarios, "latency step", True)
    old, new = _long(s)
    ratio = np.median([b.v / a.v for a, b in zip(old, new, strict=True)])
    assert ratio == pytest.approx(s.size, rel=0.03)


def test_a_latency_spread_stretches_the_tail_and_keeps_the_median(scenarios: list[sc.Scenario]) -> None:
    s = _one(scenarios, "latency spread", True)
    old, new = _long(s)
    # Relative to the level both versions follow (the day's traffic), as within one window.
    rng = np.random.default_rng(3)
    level = np.log(s.old.latency * sc._shared(rng, s.world, LONG).load ** s.world.beta)
    a, b = np.log([p.v for p in old]) - level, np.log([p.v for p in new]) - level
    centre = sc.median_deviation(s.world)
    assert np.median(a) == pytest.approx(centre, abs=0.005)
    assert np.median(b) == pytest.approx(centre, abs=0.005)
    assert np.quantile(b, 0.25) == pytest.approx(np.quantile(a, 0.25), abs=0.005)
    for q in (0.75, 0.9, 0.99):
        assert np.quantile(b, q) - centre == pytest.approx(s.size * (np.quantile(a, q) - centre), rel=0.05)
    # The stretch itself: the same below the median, `size` times as far out above it.
    z = np.random.default_rng(4).normal(centre, 0.2, LONG + 1)
    middle = float(np.median(z))
    stretched = sc.stretch(z, s.size, middle)
    assert np.median(stretched) == middle
    assert np.quantile(stretched, 0.25) == np.quantile(z, 0.25)
    assert np.quantile(stretched, 0.9) - middle == pytest.approx(s.size * (np.quantile(z, 0.9) - middle))
