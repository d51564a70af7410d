"""How much significance each look of a watch may spend: a group-sequential design per schedule.

A watch (or a canary step) asks the same question again and again on growing data, so a per-look
5 % would page for nothing. The looks are cumulative, so they are strongly correlated: a look a
minute after the last one adds little new chance of a false alarm. The design uses that, as a
clinical trial's interim analyses do (Haybittle–Peto with a Pocock boundary before the end):

- the last look is a fixed-sample test at FINAL: waiting for the whole window never costs power, so
  the sequential looks never make the end weaker than one test of the same data at the same level;
- the looks before it share INTERIM between them, each held to the same boundary (Pocock: a big
  regression should fail at the 2-minute look, not wait for the end), computed from their joint law,
  so ten looks a minute apart cost little more than one;
- the whole watch then raises a false alarm with probability `Design.total`, a little under
  FINAL + INTERIM (the early looks take some of the chances the last one would have had).

The boundaries come from the joint law of a cumulative z-statistic at the planned looks (Brownian
motion in information time, information growing with elapsed time), by numerical integration of
its density from look to look (Armitage, McPherson and Rowe). They depend only on the schedule, so
they are computed once per schedule and cached.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special

FINAL = 0.01  # one-sided level of the last look (and of a single comparison without a schedule)
INTERIM = 0.005  # false-alarm probability the looks before the last spend together
FAMILY = FINAL  # the level of one comparison
MAX_DESIGN_LOOKS = 240  # a longer schedule is designed on this many looks spread evenly over it
GRID = 201  # integration points per look


@dataclass(frozen=True)
class Schedule:
    """When a check is judged, in seconds from the start of the watch: first, then every, to horizon."""

    first: float
    every: float
    horizon: float

    def fractions(self) -> tuple[float, ...]:
        """Information fractions of the planned looks (elapsed over horizon), the last one 1."""
        interim = np.arange(min(self.first, self.horizon), self.horizon - 1e-9, max(self.every, 1e-3))
        if interim.size >= MAX_DESIGN_LOOKS:
            interim = np.linspace(interim[0], interim[-1], MAX_DESIGN_LOOKS - 1)
        return (*(float(x) for x in interim / self.horizon), 1.0)


@dataclass(frozen=True)
class Look:
    """One look of a schedule: how far in it is."""

    elapsed: float
    schedule: Schedule

    @property
    def final(self) -> bool:
        # A look within half an interval of the horizon is the last one (workers run a little late).
        return self.elapsed >= self.schedule.horizon - self.schedule.every / 2


@dataclass(frozen=True)
class Design:
    interim: float  # nominal one-sided level of every look before the last
    final: float  # nominal level of the last look
    total: float  # false-alarm probability of the whole schedule (every look together)


def level(look: Look | None) -> float:
    """The nominal one-sided level this look may spend (a single look, without a schedule: FINAL)."""
    if look is None:
        return FINAL
    d = design(_rounded(look.schedule))
    return d.final if look.final else d.interim


def _rounded(s: Schedule) -> Schedule:
    return Schedule(round(s.first, 1), round(s.every, 1), round(s.horizon, 1))


@lru_cache(maxsize=64)
def design(schedule: Schedule) -> Design:
    t = np.asarray(schedule.fractions())
    if t.size == 1:
        return Design(FINAL, FINAL, FINAL)
    # The interim boundary c: P(some interim z > c) = INTERIM.
    c = optimize.brentq(lambda x: _crossing(t[:-1], x)[0] - INTERIM, 1.0, 8.0, xtol=1e-5)
    spent, density = _crossing(t[:-1], c)
    final = -float(special.ndtri(FINAL))
    return Design(float(special.ndtr(-c)), FINAL, spent + _final_crossing(density, t[-2], final))


@dataclass(frozen=True)
class _Density:
    """The sub-density of W(t) on a grid, for paths that have not crossed yet."""

    x: np.ndarray
    f: np.ndarray  # already multiplied by the integration weights


def _crossing(t: np.ndarray, c: float) -> tuple[float, _Density]:
    """P(W(t_k) > c·√t_k at some look) and the density of the paths that never crossed."""
    bound = c * np.sqrt(t[0])
    x = np.linspace(-8 * np.sqrt(t[0]), bound, GRID)
    f = _weights(x) * np.exp(-(x**2) / (2 * t[0])) / np.sqrt(2 * np.pi * t[0])
    crossed = float(special.ndtr(-c))
    for prev, now in itertools.pairwise(t):
        sd = np.sqrt(now - prev)
        bound = c * np.sqrt(now)
        crossed += float(f @ special.ndtr((x - bound) / sd))
        y = np.linspace(min(-8 * np.sqrt(now), bound - 1), bound, GRID)
        kernel = np.exp(-((y[:, None] - x[None, :]) ** 2) / (2 * sd**2)) / (sd * np.sqrt(2 * np.pi))
        f = _weights(y) * (kernel @ f)
        x = y
    return crossed, _Density(x, f)


def _final_crossing(density: _Density, last_interim: float, c: float) -> float:
    sd = np.sqrt(1.0 - last_interim)
    return float(density.f @ special.ndtr((density.x - c) / sd))


def _weights(x: np.ndarray) -> np.ndarray:
    """Trapezoid weights on an evenly spaced grid."""
    w = np.full(x.size, x[1] - x[0])
    w[0] = w[-1] = w[0] / 2
    return w
