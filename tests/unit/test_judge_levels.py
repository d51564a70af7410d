"""How the judge spends its significance level: mid-p tails, floors (Tarone) and per-stray charging.

These pin the counting rules the watch relies on to page for a few slow minutes without paging more
often for nothing; bench/judge_quality.py measures the whole-hour effect on the labelled corpus.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shepherd.domain.judge import judge_check
from shepherd.domain.judge_tails import symmetry, tail_p
from shepherd.domain.judge_verdict import ALPHA, Finding, levels
from shepherd.domain.metrics import CheckKind, CheckSpec, Outcome, Point

LATENCY = CheckSpec("latency_p95", CheckKind.LATENCY)


def _finding(key: str, *, floor: float = 0.0, looks: float = 1.0) -> Finding:
    return Finding(key, key, True, 0.5, 1.0, 1.0, False, floor=floor, looks=looks)


def test_a_test_that_cannot_reach_its_share_leaves_the_whole_level_to_the_others() -> None:
    location, tail = _finding("mw"), _finding("tail", floor=0.03)  # 5 strays: 1/64 at best
    assert levels([location, tail]) == [ALPHA, ALPHA]


def test_tests_that_can_both_reach_their_share_split_the_level() -> None:
    location, tail = _finding("mw"), _finding("tail", floor=ALPHA / 4)
    assert levels([location, tail]) == [ALPHA / 2, ALPHA / 2]


def test_a_floor_between_half_and_all_of_the_level_still_costs_a_share() -> None:
    # Alone it could reach ALPHA, so it counts; at ALPHA / 2 it could not, but Tarone's m is the
    # smallest that works, and m = 1 does not (two tests could reach ALPHA).
    location, tail = _finding("mw"), _finding("tail", floor=ALPHA * 0.7)
    assert levels([location, tail]) == [ALPHA / 2, ALPHA / 2]


def test_a_test_charged_per_change_gets_that_many_looks_worth() -> None:
    location, tail = _finding("mw"), _finding("tail", floor=1e-6, looks=8.0)
    assert levels([location, tail]) == [ALPHA / 2, ALPHA / 2 * 8.0]


def _differences(up: int, down: int, n: int = 120, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = rng.normal(0.0, 0.05, n)
    spaced = np.arange(0, n, 6)  # strays apart, not in runs (runs count for less)
    d[spaced[:up]] += 1.0  # far beyond 4 lower-half spreads (≈ 0.13)
    d[spaced[up : up + down]] -= 1.0
    return d


def test_symmetry_counts_strays_and_reports_the_mid_p() -> None:
    s = symmetry(_differences(up=15, down=3), upper=True)
    assert s.strays == 18 and s.points == 120
    exact = stats.binom.sf(14, 18, 0.5)
    mid = stats.binom.sf(15, 18, 0.5) + 0.5 * stats.binom.pmf(15, 18, 0.5)
    assert mid < exact
    assert s.p == pytest.approx(mid, rel=0.35)  # deflated a little for runs of strays
    assert s.floor < s.p
    assert s.points_per_stray == pytest.approx(120 / 18)


def test_symmetry_with_strays_the_untested_way_only_has_no_objection_but_keeps_its_floor() -> None:
    s = symmetry(_differences(up=0, down=6), upper=True)
    assert s.p == 1.0 and s.strays >= 6
    assert s.floor == pytest.approx(0.5 ** (s.strays + 1), rel=0.2)  # had they all gone up


def test_symmetry_on_constant_differences_has_nothing_to_count() -> None:
    s = symmetry(np.zeros(30), upper=True)
    assert (s.p, s.floor, s.strays) == (1.0, 1.0, 0)


def test_exceedance_floor_is_every_point_beyond_the_threshold_on_the_new_side() -> None:
    rng = np.random.default_rng(11)
    old, new = rng.normal(0, 1, 60), rng.normal(0, 1, 60)
    new[:10] += 6.0
    t = tail_p(new, old, upper=True)
    assert t.above_new >= 10
    assert 0.0 < t.floor <= t.p < 0.01


def _hour(seed: int, slow_minutes: list[int], *, spikes_old: list[int]) -> tuple[list[Point], list[Point]]:
    """Two versions through the same hour: shared load, own noise, a few spikes on the old one."""
    rng = np.random.default_rng(seed)
    shared = np.exp(np.cumsum(rng.normal(0, 0.02, 120)))
    old = 0.2 * shared * np.exp(rng.normal(0, 0.05, 120))
    new = 0.2 * shared * np.exp(rng.normal(0, 0.05, 120))
    old[spikes_old] *= 2.5
    new[slow_minutes] *= 2.5
    to_points = lambda v: [Point(i * 30.0, float(x)) for i, x in enumerate(v)]  # noqa: E731
    return to_points(old), to_points(new)


SLOW = [4, 9, 15, 22, 31, 38, 47, 56, 63, 77, 90, 101, 112]


def test_thirteen_slow_points_in_an_hour_page_against_two_spikes_on_the_old_version() -> None:
    """A slow path hit 13 of 120 points (×2.5), the median unmoved, the old version spiked twice.

    13 of 15 strays one way: the exact sign test's p is 0.0037, which 120 looks at 0.0005 each never
    reach; the mid-p (0.0021), charged per stray (15 in 120 points: 8 looks' worth), does.
    """
    old, new = _hour(5, SLOW, spikes_old=[27, 83])
    result = judge_check(LATENCY, old, new)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "tail" in result.test


def test_as_many_spikes_on_the_old_version_as_slow_points_on_the_new_do_not_page() -> None:
    old, new = _hour(5, SLOW, spikes_old=[2, 12, 27, 35, 44, 52, 60, 71, 85, 95, 104, 110, 117])
    assert judge_check(LATENCY, old, new).outcome is Outcome.PASS
