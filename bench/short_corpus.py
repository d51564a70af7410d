"""The labelled scenarios for bench/short_judge.py: 10-minute canary windows, canary vs baseline.

The shape of an Argo Rollouts analysis step or a Flagger interval: both versions serve in the same
ten minutes, and the judge is asked after 2, 3, 5 and 10. Every scenario is drawn from distributions
with its own generator (seed, kind, healthy or not, index), so none is a fixed file to tune to:

- Traffic: 20–2,000 requests a minute on the baseline (the canary ×0.7–1.4 of it), a diurnal cycle
  (amplitude 20–60 %, a random hour of the day) times a slow shared AR(1) wobble; each scrape's volume
  is gamma–Poisson (negative binomial, shape 20–200). Scrapes every 10, 15, 20 or 30 s, so the looks
  see 4–18 points a side at 2–3 minutes and 20–60 at 10; a scrape with no requests is missing, as a
  0/0 rate is in Prometheus.
- Errors: per scrape gamma–Poisson on the volume (negative binomial, shape 1–100: bursts), times a
  shared log-AR(1) noise both versions see (a flaky dependency); error ratios 0.01 %–2 %. Sparse
  series expect 0–3 errors in the baseline's ten minutes (a third exactly none: no errors at all
  before the change).
- Latency: points are log-normal mixtures: a median of 20 ms–1 s × load^β (β 0.3–1) × a shared AR(1)
  noise × each version's own log-normal noise (σ 0.05–0.3) × a slow component (0–5 % of points,
  ×1.5–4: GC, a cold cache).

Regressions, at several sizes each, and as many healthy scenarios of every kind (the same generator
with no change: canary and baseline drawn from one distribution):

- error-ratio step: the canary's ratio ×1.5, ×2, ×3, ×5;
- sparse errors: baseline 0–3 errors in thousands of requests, the canary +15, +30 or +60 in ten minutes;
- latency step: the canary's level ×1.25, ×1.5, ×2, ×3;
- latency spread: the canary's log deviations from its level (shared and own noise, slow component)
  that lie above their median ×2.5, ×3, ×4 as far out: the tail grows, the median stays.

Labelling rule: a regression counts only if an ideal observer, who knew both distributions, would see
it at IDEAL_Z standard errors by the 10-minute look; otherwise its traffic, rates and noise are redrawn
(the size stays). For counts that is the variance-stabilised difference of the expected totals,
√E_canary − √(r·E_baseline) over ½√(1 + r) (r: the canary's volume over the baseline's), shrunk by the
over-dispersion √(1 + m/k) of a scrape's m expected errors (the expected totals follow the day's
traffic cycle in the window); for latency an observer of the two distributions, not of the minutes
paired, so the noise both versions share counts with each one's own (σ² = σ_shared² + σ_own²): a step
is ln(size) over σ·√(2/n), the spread ln(size)·√(n′/2) (the information on the scale of a
half-normal), with n′ the scrapes made fewer by the shared noise's autocorrelation ρ:
n′ = n·σ² / (σ_own² + σ_shared²·(1 + ρ²)/(1 − ρ²)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from bench.judge_corpus import _ar1, _log_uniform
from shepherd.domain.watch import CheckKind, CheckSpec, Point

SEED = 20_261_204
WINDOW = 10.0  # minutes
LOOKS = (2.0, 3.0, 5.0, 10.0)  # minutes into the window
STEPS = (10.0, 15.0, 20.0, 30.0)  # seconds between scrapes
T0 = 1_790_000_000.0  # the canary step starts, epoch seconds
IDEAL_Z = 4.0
KINDS: dict[str, tuple[float, ...]] = {
    "error-ratio step": (1.5, 2.0, 3.0, 5.0),
    "sparse errors": (15.0, 30.0, 60.0),
    "latency step": (1.25, 1.5, 2.0, 3.0),
    "latency spread": (2.5, 3.0, 4.0),
}
LARGE = {"error-ratio step": 3.0, "latency step": 2.0}  # sizes from which a step is "large"
PER_KIND = 500  # regressed scenarios per kind, and as many healthy ones
MAX_DRAWS = 10_000
ERRORS = CheckSpec("error_ratio", CheckKind.RATIO)
LATENCY = CheckSpec("latency_p95", CheckKind.LATENCY)


@dataclass(frozen=True)
class Side:
    """What one version's points are drawn from."""

    rpm: float  # requests a minute (before the diurnal cycle)
    error_ratio: float = 0.0
    extra_errors: float = 0.0  # errors a minute the new code adds on top of the ratio
    latency: float = 0.0  # median seconds
    tail: float = 1.0  # multiplier on the own log deviations above the median


@dataclass(frozen=True)
class World:
    """What both versions share in the window, and the noise laws of the service."""

    step: float
    diurnal: float  # amplitude of the daily cycle
    hour: float  # hour of the day the window starts
    load_sigma: float  # shared slow wobble of traffic (log)
    volume_shape: float  # negative-binomial shape of a scrape's request count
    error_shape: float  # ... of a scrape's error count
    error_sigma: float  # shared log-AR(1) noise on the error ratio
    beta: float  # latency ∝ load^β
    shared_sigma: float  # shared AR(1) latency noise (log)
    rho: float
    own_sigma: float  # each version's own latency noise (log)
    slow_share: float  # share of latency points from the slow component
    slow: tuple[float, float]  # its multiplier range


@dataclass(frozen=True)
class Scenario:
    id: str
    kind: str
    regression: bool
    size: float  # 1 for healthy ones; the sparse kind: extra canary errors in ten minutes
    label: str
    large: bool
    spec: CheckSpec
    world: World
    old: Side
    new: Side
    ideal_z: float  # the labelling rule's z at the 10-minute look (0 for healthy scenarios)
    baseline: list[Point]
    canary: list[Point]

    def points(self, minutes: float) -> tuple[list[Point], list[Point]]:
        """Both sides' points in the first `minutes` of the window."""
        end = T0 + minutes * 60
        return [p for p in self.baseline if p.t < end], [p for p in self.canary if p.t < end]


def corpus(seed: int = SEED, per_kind: int = PER_KIND) -> list[Scenario]:
    scenarios = []
    for k, kind in enumerate(KINDS):
        for regression in (True, False):
            for i in range(per_kind):
                rng = np.random.default_rng([seed, k, int(regression), i])
                scenarios.append(scenario(rng, kind, regression, i))
    return scenarios


def scenario(rng: np.random.Generator, kind: str, regression: bool, i: int) -> Scenario:
    sizes = KINDS[kind]
    size = sizes[i % len(sizes)] if regression else 1.0
    for _ in range(MAX_DRAWS):
        world = _world(rng)
        old, new = _sides(rng, kind, regression, size)
        z = ideal_z(kind, world, old, new) if regression else 0.0
        if not regression or z >= IDEAL_Z:
            break
    else:
        raise RuntimeError(f"{kind} ×{size}: no draw an ideal observer could tell apart in {MAX_DRAWS}")
    n = round(WINDOW * 60 / world.step)
    shared = _shared(rng, world, n)
    if kind.startswith("latency"):
        baseline, canary = (_latency(rng, world, side, shared, n) for side in (old, new))
        spec = LATENCY
    else:
        baseline, canary = (_errors(rng, world, side, shared, n) for side in (old, new))
        spec = ERRORS
    label = _label(kind, size) if regression else "healthy"
    large = regression and kind in LARGE and size >= LARGE[kind]
    sid = f"{kind.split(' ')[0]}-{'bad' if regression else 'ok'}-{i:03d}"
    return Scenario(sid, kind, regression, size, label, large, spec, world, old, new, z, baseline, canary)


def _label(kind: str, size: float) -> str:
    if kind == "sparse errors":
        return f"+{size:g} errors"
    if kind == "latency spread":
        return f"tail ×{size:g}"
    return f"×{size:g}"


def _world(rng: np.random.Generator) -> World:
    return World(
        step=float(rng.choice(STEPS)),
        diurnal=rng.uniform(0.2, 0.6),
        hour=rng.uniform(0, 24),
        load_sigma=rng.uniform(0.02, 0.1),
        volume_shape=_log_uniform(rng, 20, 200),
        error_shape=_log_uniform(rng, 1, 100),
        error_sigma=rng.uniform(0.05, 0.3),
        beta=rng.uniform(0.3, 1.0),
        shared_sigma=rng.uniform(0.02, 0.1),
        rho=rng.uniform(0.5, 0.95),
        own_sigma=rng.uniform(0.05, 0.3),
        slow_share=rng.uniform(0.0, 0.05),
        slow=(1.5, 4.0),
    )


def _sides(rng: np.random.Generator, kind: str, regression: bool, size: float) -> tuple[Side, Side]:
    share = _log_uniform(rng, 0.7, 1.4)  # canary volume ÷ baseline volume
    if kind == "sparse errors":
        rpm = _log_uniform(rng, 200, 2000)
        before = 0.0 if rng.random() < 1 / 3 else rng.uniform(0, 3)  # errors in the baseline's window
        ratio = before / (rpm * WINDOW)
        extra = size / WINDOW if regression else 0.0
        return Side(rpm, error_ratio=ratio), Side(rpm * share, error_ratio=ratio, extra_errors=extra)
    rpm = _log_uniform(rng, 20, 2000)
    if kind == "error-ratio step":
        ratio = _log_uniform(rng, 1e-4, 2e-2)
        return Side(rpm, error_ratio=ratio), Side(rpm * share, error_ratio=ratio * size)
    latency = _log_uniform(rng, 0.02, 1.0)
    if kind == "latency step":
        return Side(rpm, latency=latency), Side(rpm * share, latency=latency * size)
    return Side(rpm, latency=latency), Side(rpm * share, latency=latency, tail=size)


def ideal_z(kind: str, world: World, old: Side, new: Side) -> float:
    """The labelling rule (module docstring): how far apart an ideal observer sees the two sides."""
    n = WINDOW * 60 / world.step
    if kind.startswith("latency"):
        shared, own = world.shared_sigma**2, world.own_sigma**2
        if new.tail != old.tail:
            # The shared noise is autocorrelated: fewer independent points than scrapes.
            rho = world.rho**2
            effective = n * (shared + own) / (own + shared * (1 + rho) / (1 - rho))
            return math.log(new.tail / old.tail) * math.sqrt(effective / 2)
        return math.log(new.latency / old.latency) / math.sqrt((shared + own) * 2 / n)
    load = float(_cycle(world, round(n)).mean())
    e_old = old.rpm * load * WINDOW * old.error_ratio
    e_new = new.rpm * load * WINDOW * new.error_ratio + new.extra_errors * WINDOW
    r = new.rpm / old.rpm
    per_scrape = e_new / n
    spread = 0.5 * math.sqrt(1 + r) * math.sqrt(1 + per_scrape / world.error_shape)
    return (math.sqrt(e_new) - math.sqrt(r * e_old)) / spread


def _cycle(w: World, n: int) -> np.ndarray:
    """The daily traffic cycle over the window's scrapes."""
    hours = w.hour + np.arange(n) * w.step / 3600
    return np.asarray(1 + w.diurnal * np.sin(2 * np.pi * hours / 24))


@dataclass(frozen=True)
class Shared:
    load: np.ndarray  # traffic multiplier per scrape
    errors: np.ndarray  # log error-ratio noise
    latency: np.ndarray  # log latency noise


def _shared(rng: np.random.Generator, w: World, n: int) -> Shared:
    load = _cycle(w, n) * np.exp(_ar1(rng, n, 0.9, w.load_sigma))
    errors = _ar1(rng, n, rng.uniform(0.5, 0.9), w.error_sigma)
    return Shared(load, errors - w.error_sigma**2 / 2, _ar1(rng, n, w.rho, w.shared_sigma))


def _gamma_poisson(rng: np.random.Generator, mean: np.ndarray, shape: float) -> np.ndarray:
    return rng.poisson(mean * rng.gamma(shape, 1 / shape, mean.size)).astype(np.float64)


def _errors(rng: np.random.Generator, w: World, s: Side, shared: Shared, n: int) -> list[Point]:
    volume = _gamma_poisson(rng, s.rpm * w.step / 60 * shared.load, w.volume_shape)
    ratio = np.minimum(0.5, s.error_ratio * np.exp(shared.errors))
    expected = volume * ratio + s.extra_errors * w.step / 60
    errors = np.minimum(volume, _gamma_poisson(rng, expected, w.error_shape))
    return [
        Point(T0 + i * w.step, float(e / v), float(v))
        for i, (e, v) in enumerate(zip(errors, volume, strict=True))
        if v > 0
    ]


def stretch(deviations: np.ndarray, tail: float, centre: float = 0.0) -> np.ndarray:
    """Log deviations with those above `centre` (their median) `tail` times as far out from it."""
    return np.where(deviations > centre, centre + (deviations - centre) * tail, deviations)


def median_deviation(w: World) -> float:
    """The median of a latency point's log deviation from its level: normal noise (shared and own)
    plus the slow component (a share of points × uniform(slow)), found by root search."""
    sigma = math.hypot(w.shared_sigma, w.own_sigma)
    slow = np.log(np.linspace(*w.slow, 257)[:-1] + (w.slow[1] - w.slow[0]) / 512)  # midpoints

    def below(m: float) -> float:
        fast = (1 - w.slow_share) * special.ndtr(m / sigma)
        return float(fast + w.slow_share * special.ndtr((m - slow) / sigma).mean()) - 0.5

    return float(optimize.brentq(below, -1.0, 1.0 + float(slow.max())))


def _latency(rng: np.random.Generator, w: World, s: Side, shared: Shared, n: int) -> list[Point]:
    slow = np.where(rng.random(n) < w.slow_share, rng.uniform(*w.slow, n), 1.0)
    deviations = shared.latency + rng.normal(0.0, w.own_sigma, n) + np.log(slow)
    if s.tail != 1.0:
        deviations = stretch(deviations, s.tail, median_deviation(w))
    values = s.latency * shared.load**w.beta * np.exp(deviations)
    return [Point(T0 + i * w.step, float(v)) for i, v in enumerate(values)]
