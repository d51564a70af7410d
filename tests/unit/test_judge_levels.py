"""How the judge spends its significance level: the watch's sequential design, mid-p tails, floors (Tarone).

These pin the counting rules the watch relies on to page for a few slow minutes without paging more
often for nothing; bench/judge_quality.py measures the whole-hour effect on the labelled corpus.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shepherd.domain.watch import CheckKind, CheckSpec, Direction, Outcome, Point
from shepherd.domain.watch.judge import (
    ALPHA,
    FINAL,
    INTERIM,
    Finding,
    Look,
    Schedule,
    deflate,
    inflation,
    judge_check,
    levels,
    symmetry,
    tail_p,
)
from shepherd.domain.watch.judge.looks import _crossing, design

LATENCY = CheckSpec("latency_p95", CheckKind.LATENCY)


def _finding(key: str, *, floor: float = 0.0) -> Finding:
    return Finding(key, key, True, 0.5, 1.0, 1.0, False, floor=floor)


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


def test_a_floor_equal_to_the_level_cannot_fail_so_it_takes_no_share() -> None:
    location, tail = _finding("mw"), _finding("tail", floor=ALPHA)  # fails only below its level
    assert levels([location, tail]) == [ALPHA, ALPHA]


HOUR = Schedule(first=150.0, every=30.0, horizon=3600.0)  # a look every 30 s from the fifth point


def test_the_last_look_is_a_fixed_sample_test_and_the_early_ones_share_the_interim_level() -> None:
    d = design(HOUR)
    assert d.final == FINAL  # waiting for the end never costs power
    assert INTERIM / 115 < d.interim < INTERIM  # 115 interim looks, strongly correlated: not Bonferroni
    assert FINAL < d.total < FINAL + INTERIM


def test_the_interim_boundary_matches_a_simulation_of_the_looks() -> None:
    """The numerical integration against 200,000 simulated paths of a cumulative z-statistic."""
    t = np.array(HOUR.fractions()[:-1])
    rng = np.random.default_rng(7)
    steps = rng.normal(size=(200_000, t.size)) * np.sqrt(np.diff(np.concatenate([[0.0], t])))
    z = np.cumsum(steps, axis=1) / np.sqrt(t)
    c = -stats.norm.ppf(design(HOUR).interim)
    assert (z > c).any(axis=1).mean() == pytest.approx(INTERIM, rel=0.1)
    assert _crossing(t, c)[0] == pytest.approx(INTERIM, rel=1e-3)


def test_a_look_knows_whether_it_is_the_last() -> None:
    assert not Look(3000.0, HOUR).final
    assert Look(3590.0, HOUR).final  # a worker a few seconds early still makes the last look
    assert levels([_finding("mw")], Look(300.0, HOUR)) == [design(HOUR).interim]
    assert levels([_finding("mw")], Look(3600.0, HOUR)) == [FINAL]


def test_a_single_look_without_a_schedule_is_one_fixed_sample_test() -> None:
    assert levels([_finding("mw")]) == [ALPHA] and ALPHA == FINAL
    assert design(Schedule(first=600.0, every=60.0, horizon=600.0)).interim == FINAL


def test_both_directions_with_unreachable_tails_share_the_level_between_the_locations() -> None:
    findings = [_finding("mw"), _finding("mw"), _finding("tail", floor=0.2), _finding("tail", floor=0.2)]
    assert levels(findings) == [ALPHA / 2] * 4


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


def test_symmetry_with_strays_the_untested_way_only_has_no_objection_but_keeps_its_floor() -> None:
    s = symmetry(_differences(up=0, down=6), upper=True)
    assert s.p == 1.0 and s.strays >= 6
    assert s.floor == pytest.approx(0.5 ** (s.strays + 1), rel=0.2)  # had they all gone up


def test_symmetry_floor_counts_for_less_when_strays_come_in_runs() -> None:
    d = np.random.default_rng(4).normal(0.0, 0.05, 120)
    d[40:48] -= 1.0  # one slow episode on the old version: 8 strays in a row
    s = symmetry(d, upper=True)
    assert s.strays == 8 and s.p == 1.0
    assert s.floor > 0.5**9  # deflated: a run is less evidence than 8 separate minutes


def test_symmetry_judges_down_as_it_judges_up() -> None:
    """The down test on d is the up test on −d, also when the differences' median is far from 0."""
    d = _differences(up=12, down=2) - 0.3
    assert symmetry(-d, upper=False) == symmetry(d, upper=True)
    assert symmetry(d, upper=True).p < 0.01


def test_symmetry_on_constant_differences_has_nothing_to_count() -> None:
    s = symmetry(np.zeros(30), upper=True)
    assert (s.p, s.floor, s.strays) == (1.0, 1.0, 0)


def _hypergeom_mid_p(k: int, total: int, marked: int, drawn: int) -> float:
    h = stats.hypergeom(total, marked, drawn)
    return float(h.sf(k) + 0.5 * h.pmf(k))


@pytest.mark.parametrize("on_old", [(), (5, 40)])
def test_exceedance_p_and_floor_are_hypergeometric_mid_p(on_old: tuple[int, ...]) -> None:
    """12 points far out of 120: 12 (or 10) on the new side; the floor is all 12 on the new side."""
    rng = np.random.default_rng(21)
    old, new = rng.normal(0, 1, 60), rng.normal(0, 1, 60)
    new[: 12 - len(on_old)] += 20.0
    old[list(on_old)] += 20.0
    t = tail_p(new, old, upper=True)
    assert t.above_new == 12 - len(on_old)
    exceeded = np.zeros(60)
    exceeded[list(on_old)] = 1.0
    factor = inflation(exceeded)
    assert t.p == pytest.approx(deflate(_hypergeom_mid_p(t.above_new, 120, 12, 60), factor), rel=1e-9)
    assert t.floor == pytest.approx(deflate(_hypergeom_mid_p(12, 120, 12, 60), factor), rel=1e-9)


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

    13 of 15 strays one way: the exact sign test's p is 0.0037, the mid-p 0.0021, which the hour's
    last look (a fixed-sample test at FINAL, shared by the check's tests) sees.
    """
    old, new = _hour(5, SLOW, spikes_old=[27, 83])
    result = judge_check(LATENCY, old, new, look=Look(3600.0, HOUR))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "tail" in result.test


def test_a_week_ago_hour_too_short_to_judge_a_tail_against_leaves_the_level_to_the_median() -> None:
    """After vs before with a week-ago pair of 5 points: the tail must also beat the week-ago hour,
    which 5 points cannot show, so the tail test cannot fail and Mann–Whitney gets all of ALPHA."""
    earlier, after = _hour(8, [], spikes_old=[])
    before = [Point(p.t - 3600, p.v) for p in earlier]  # the hour before: not the same minutes
    week_before = [Point(p.t - 7 * 86400, p.v) for p in before[:5]]
    week_after = [Point(p.t - 7 * 86400, p.v) for p in after[:5]]
    with_week = judge_check(LATENCY, before, after, seasonal=(week_before, week_after))
    without = judge_check(LATENCY, before, after, before_after=True)
    assert with_week.details["alpha_mw_up"] == ALPHA
    assert without.details["alpha_mw_up"] == ALPHA / 2


def test_a_long_watch_without_strays_does_not_fail_on_its_tail() -> None:
    """2,100 points (17 h at 30 s), p90 beyond tolerance but no minute straying: no tail failure."""
    rng = np.random.default_rng(0)
    old = rng.uniform(10, 20, 2100)
    new = old * 1.05  # within the tolerance (and its half held in the null)
    idx = rng.permutation(2100)
    new[idx[:315]] = old[idx[:315]] * 1.25
    new[idx[315:525]] = old[idx[315:525]] * 0.95
    gauge = CheckSpec("memory", CheckKind.GAUGE, Direction.INCREASE_IS_BAD)
    result = judge_check(
        gauge,
        [Point(i * 30.0, float(v)) for i, v in enumerate(old)],
        [Point(i * 30.0, float(v)) for i, v in enumerate(new)],
    )
    assert result.outcome is not Outcome.FAIL, result.reason
    assert float(result.details["alpha_tail_up"]) <= ALPHA


def test_as_many_spikes_on_the_old_version_as_slow_points_on_the_new_do_not_page() -> None:
    old, new = _hour(5, SLOW, spikes_old=[2, 12, 27, 35, 44, 52, 60, 71, 85, 95, 104, 110, 117])
    assert judge_check(LATENCY, old, new).outcome is Outcome.PASS
