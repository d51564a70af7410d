"""The labelled corpus for bench/judge_quality.py: simulated hours of metrics around a deploy.

Drawn from fixed seeds (one generator per scenario, so adding a category does not move the others)
and never fitted to a judge. What makes it realistic, and not just Gaussian noise:

- Latency is p95-like and log-normal: a level (30–800 ms) × load^β (β 0.3–1: busier is slower) × a
  slow noise shared by every version (a database, a dependency; AR(1), ρ 0.6–0.95) × each version's
  own AR(1) noise (noisier on a small canary: fewer requests behind each p95) × GC-like spikes.
- Error ratios are Poisson error counts over request volumes (50–2,000 req/s; canary share 5–50 %,
  the old version the rest), with a shared and an own log-AR(1) noise, error bursts, and a ratio that
  may grow with load.
- Traffic ramps (up to ×1.8 an hour: the morning rise) and daily batch jobs appear a week ago too.
- Versions differ a little without a regression (different hosts: a ±3 % offset) and a third of
  canaries warm up (the first minutes 20–60 % slower).
- Missing data: a version or the week-ago pair without points, or 20–50 % of points lost.
- Variance-only regressions are one-sided, as real ones are (lock contention, GC pressure, a slow
  path, retries make some minutes slower and none faster): 10–30 % of the points ×2–4, or slow
  episodes of 2–4 minutes covering 10–30 % of the time ×1.5–3. The median barely moves.

Labelling rule: an error-ratio step counts as a regression only when an ideal observer who knew both
rates would see it at 5σ within the hour on the new version's traffic (expected extra errors ÷
√(expected errors) ≥ 5); smaller ones are redrawn with more traffic. Nothing else is filtered.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import lfilter

from shepherd.domain.watch import CheckKind, CheckSpec, Point

SEED = 20_261_122
STEP = 30.0  # seconds between points
POINTS = 120  # an hour
T0 = 1_790_000_000.0  # the deploy, epoch seconds
WEEK = 7 * 86_400.0
COUNTS = {
    "error ratio step": 120,
    "latency step": 100,
    "sparse errors 0 → a few/min": 60,
    "variance only (same median)": 60,
    "seasonal traffic, no regression": 100,
    "noisy, no regression": 160,
    "missing data, no regression": 60,
}
ERROR_SIZES = (1.5, 2.0, 3.0, 5.0, 10.0)
LATENCY_SIZES = (1.25, 1.5, 2.0, 3.0)
MIN_IDEAL_Z = 5.0
LATENCY = CheckSpec("latency_p95", CheckKind.LATENCY)
ERRORS = CheckSpec("error_ratio", CheckKind.RATIO)


@dataclass(frozen=True)
class Scenario:
    id: str
    category: str
    regression: bool
    spec: CheckSpec
    canary: bool
    old: list[Point]  # canary: the old version's hour; after-vs-before: the hour before
    new: list[Point]  # the new version's hour / the hour after
    week_before: list[Point] = field(default_factory=list)  # after-vs-before only
    week_after: list[Point] = field(default_factory=list)
    label: str = ""  # e.g. "×2", "jitter ×3"
    slow_points: int = 0  # variance only: how many of the new side's points the slow path hit


@dataclass(frozen=True)
class Change:
    """What the deploy does to the new version's points (all neutral by default)."""

    size: float = 1.0  # level multiplier
    slow_share: float = 0.0  # share of the time on a slow path ...
    slow: float = 1.0  # ... this much slower ...
    episode: float = 1.0  # ... in episodes this many points long on average (1: single points)
    warmup: float = 0.0  # extra at the first point, decaying over ~1.5 min
    offset: float = 1.0  # persistent host difference (not a regression)
    extra_per_min: float = 0.0  # errors a minute the new code adds


@dataclass(frozen=True)
class World:
    """What every version of one service shares over the simulated span."""

    load: np.ndarray
    latency_noise: np.ndarray
    error_noise: np.ndarray
    spike_rate: float
    noise: float  # own-noise multiplier ("noisy" services)
    burst_rate: float


def corpus(seed: int = SEED) -> list[Scenario]:
    scenarios = []
    for c, (category, count) in enumerate(COUNTS.items()):
        for i in range(count):
            rng = np.random.default_rng([seed, c, i])
            scenario = None
            while scenario is None:
                scenario = _draw(rng, category, f"{category.split(' ')[0]}-{i:03d}", i)
            scenarios.append(scenario)
    return scenarios


def _draw(rng: np.random.Generator, category: str, sid: str, i: int) -> Scenario | None:
    regression = "no regression" not in category
    seasonal = category.startswith("seasonal")
    canary = not seasonal and bool(rng.random() < 0.75)
    metric = _metric(rng, category)
    n = POINTS if canary else 2 * POINTS
    ramp = (
        rng.uniform(0.15, 0.6) * (1 if rng.random() < 0.7 else -1) if seasonal else rng.uniform(-0.15, 0.15)
    )
    noisy = category.startswith("noisy")
    batch = (int(rng.integers(POINTS, POINTS + 90)), int(rng.integers(10, 30)), rng.uniform(1.3, 2.0))
    batch_here = batch if seasonal and rng.random() < 0.4 and not canary else None
    today = _world(rng, n, ramp, batch_here, noisy)
    week = _world(rng, n, ramp * rng.uniform(0.85, 1.15), batch_here, noisy)
    change, label = _change(rng, category, metric, canary, i)
    share = rng.uniform(0.05, 0.5) if canary else 1.0
    slow: list[int] = []  # the slow path's realised points, one entry per generated side
    if metric == "latency":
        maybe: Gen | None = _latency_gen(rng, slow)
    else:
        maybe = _error_gen(rng, category, regression, share, change)
    if maybe is None:
        return None
    gen, spec = maybe, LATENCY if metric == "latency" else ERRORS
    if canary:
        everywhere = np.ones(n, dtype=bool)
        old = _points(T0, *gen(today, 1 - share, Change(), ~everywhere))
        new = _points(T0, *gen(today, share, change, everywhere))
        hit = slow[-1] if slow else 0
        s = Scenario(sid, category, regression, spec, True, old, new, label=label, slow_points=hit)
        return _lose(rng, s)
    after = np.arange(n) >= POINTS
    v, w = gen(today, 1.0, change, after)
    hit = slow[-1] if slow else 0
    wv, ww = gen(week, 1.0, Change(), np.zeros(n, dtype=bool))
    s = Scenario(
        sid,
        category,
        regression,
        spec,
        False,
        _points(T0 - POINTS * STEP, v[:POINTS], None if w is None else w[:POINTS]),
        _points(T0, v[POINTS:], None if w is None else w[POINTS:]),
        _points(T0 - WEEK - POINTS * STEP, wv[:POINTS], None if ww is None else ww[:POINTS]),
        _points(T0 - WEEK, wv[POINTS:], None if ww is None else ww[POINTS:]),
        label,
        hit,
    )
    return _lose(rng, s)


def _metric(rng: np.random.Generator, category: str) -> str:
    if category in ("error ratio step", "sparse errors 0 → a few/min"):
        return "errors"
    if category in ("latency step", "variance only (same median)"):
        return "latency"
    return "errors" if rng.random() < 0.5 else "latency"


def _change(rng: np.random.Generator, category: str, metric: str, canary: bool, i: int) -> tuple[Change, str]:
    offset = float(np.exp(rng.normal(0, 0.03))) if canary else 1.0
    warmup = rng.uniform(0.2, 0.6) if canary and metric == "latency" and rng.random() < 1 / 3 else 0.0
    base = Change(offset=offset, warmup=warmup)
    if category == "error ratio step":
        size = ERROR_SIZES[i % len(ERROR_SIZES)]
        return replace(base, size=size), f"×{size:g}"
    if category == "latency step":
        size = LATENCY_SIZES[i % len(LATENCY_SIZES)]
        return replace(base, size=size), f"×{size:g}"
    if category.startswith("sparse"):
        extra = rng.uniform(1, 5)
        return replace(base, extra_per_min=extra), f"+{extra:.1f}/min"
    if category.startswith("variance"):
        share = rng.uniform(0.1, 0.3)
        if i % 2:
            slow, episode = rng.uniform(1.5, 3), rng.uniform(4, 8)
            label = f"slow episodes ({episode / 2:.0f} min) {share:.0%} of the time ×{slow:.1f}"
            return replace(base, slow_share=share, slow=slow, episode=episode), label
        slow = rng.uniform(2, 4)
        return replace(base, slow_share=share, slow=slow), f"{share:.0%} of points ×{slow:.1f}"
    return base, ""


def _world(
    rng: np.random.Generator, n: int, ramp: float, batch: tuple[int, int, float] | None, noisy: bool
) -> World:
    hours = (np.arange(n) - (n - POINTS)) * STEP / 3600  # 0 at the deploy
    load = np.exp(ramp * hours + _ar1(rng, n, 0.9, 0.05))
    if batch is not None:  # a daily batch job: the same minutes every day
        start, length, extra = batch
        load[start : start + length] *= extra
    return World(
        load=load,
        latency_noise=_ar1(rng, n, rng.uniform(0.6, 0.95), rng.uniform(0.03, 0.15)),
        error_noise=_ar1(rng, n, rng.uniform(0.7, 0.95), rng.uniform(0.1, 0.4)),
        spike_rate=rng.uniform(0.0, 0.05 if noisy else 0.03),
        noise=rng.uniform(1.0, 2.5) if noisy else 1.0,
        burst_rate=rng.uniform(0.005, 0.03) if noisy else 0.005,
    )


Gen = Callable[[World, float, Change, np.ndarray], tuple[np.ndarray, np.ndarray | None]]


def _latency_gen(rng: np.random.Generator, slow_points: list[int]) -> Gen:
    base, beta = _log_uniform(rng, 0.03, 0.8), rng.uniform(0.3, 1.0)
    # One noise law for the service, which both versions share (same code paths, same hosts); a
    # version on a small share of the traffic has fewer requests behind each p95, so it is noisier.
    own_sigma, own_rho = rng.uniform(0.03, 0.1), rng.uniform(0.0, 0.6)

    def gen(w: World, share: float, c: Change, on: np.ndarray) -> tuple[np.ndarray, None]:
        n = w.load.size
        sigma = own_sigma * w.noise * min(2.0, math.sqrt(0.5 / share))
        own = _ar1(rng, n, own_rho, sigma)
        spikes = np.where(rng.random(n) < w.spike_rate, np.exp(rng.uniform(0.3, 1.2, n)), 1.0)
        hit = on & _episodes(rng, n, c.slow_share, c.episode)
        slow_points.append(int(hit.sum()))
        slow = np.where(hit, c.slow, 1.0)
        since = np.cumsum(on) - 1
        warm = np.where(on, 1 + c.warmup * np.exp(-since / 3.0), 1.0)
        level = base * np.where(on, c.size * c.offset, 1.0)
        return level * w.load**beta * np.exp(w.latency_noise + own) * spikes * slow * warm, None

    return gen


def _error_gen(
    rng: np.random.Generator, category: str, regression: bool, share: float, change: Change
) -> Gen | None:
    rps, gamma = _log_uniform(rng, 50, 2000), rng.uniform(0.0, 1.0)
    if category.startswith("sparse"):
        ratio = _log_uniform(rng, 1e-6, 1e-5)
    elif not regression and rng.random() < 0.2:
        ratio = _log_uniform(rng, 2e-5, 5e-4)  # sparse errors that do not change
    else:
        ratio = _log_uniform(rng, 0.001, 0.02)
    expected = rps * share * 3600 * ratio
    if change.size > 1 and (change.size - 1) * expected / math.sqrt(expected) < MIN_IDEAL_Z:
        return None
    own_rho, own_sigma = rng.uniform(0.0, 0.5), rng.uniform(0.05, 0.3)  # the service's, both versions'

    def gen(w: World, part: float, c: Change, on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = w.load.size
        volume = np.maximum(1.0, np.round(rps * STEP * part * w.load * np.exp(rng.normal(0, 0.05, n))))
        own = _ar1(rng, n, own_rho, own_sigma * w.noise)
        bursts = np.where(rng.random(n) < w.burst_rate, np.exp(rng.uniform(1.0, 2.5, n)), 1.0)
        p = (
            ratio
            * np.where(on, c.size * c.offset, 1.0)
            * w.load**gamma
            * np.exp(w.error_noise + own)
            * bursts
        )
        extra = np.where(on, c.extra_per_min * STEP / 60, 0.0)
        errors = rng.poisson(volume * np.minimum(0.5, p) + extra).astype(np.float64)
        return np.minimum(1.0, errors / volume), volume

    return gen


def _episodes(rng: np.random.Generator, n: int, share: float, length: float) -> np.ndarray:
    """Which points fall in slow episodes: a two-state Markov chain spending `share` of the time slow."""
    if share <= 0:
        return np.zeros(n, dtype=bool)
    leave = 1 / length
    enter = share * leave / (1 - share)
    draws = rng.random(n)
    slow = np.zeros(n, dtype=bool)
    state = bool(draws[0] < share)
    for i in range(n):
        state = (draws[i] >= leave) if state else (draws[i] < enter)
        slow[i] = state
    return slow


def _lose(rng: np.random.Generator, s: Scenario) -> Scenario:
    """Missing data: a whole side, the week-ago pair, or scattered points."""
    if not s.category.startswith("missing"):
        return s
    what = rng.choice(["new", "old", "week", "gaps"] if not s.canary else ["new", "old", "gaps"])
    if what == "new":
        return replace(s, new=[])
    if what == "old":
        return replace(s, old=[])
    if what == "week":
        return replace(s, week_before=[], week_after=[])
    lose = rng.uniform(0.2, 0.5)
    keep = lambda pts: [p for p in pts if rng.random() >= lose]  # noqa: E731
    return replace(s, old=keep(s.old), new=keep(s.new), label=f"{lose:.0%} of points lost")


def _ar1(rng: np.random.Generator, n: int, rho: float, sigma: float) -> np.ndarray:
    shocks = rng.normal(0.0, sigma * math.sqrt(1 - rho * rho), n)
    shocks[0] = rng.normal(0.0, sigma)
    return np.asarray(lfilter([1.0], [1.0, -rho], shocks))


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _points(t0: float, values: np.ndarray, weights: np.ndarray | None) -> list[Point]:
    if weights is None:
        return [Point(t0 + i * STEP, float(v)) for i, v in enumerate(values)]
    return [
        Point(t0 + i * STEP, float(v), float(w)) for i, (v, w) in enumerate(zip(values, weights, strict=True))
    ]
