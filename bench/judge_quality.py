"""Judge quality: recall, false alarms and time to detect on a seeded, labelled corpus of watched hours.

Each scenario (bench/judge_corpus.py) is one check of one deploy, judged the way the watch judges
it: at every 30 s look on the data so far. Canary mode compares the new version with the old one
in the same window; after-vs-before mode compares the time since the deploy with as long before it,
with the same two windows one week earlier. A regression is detected when any look fails; a
scenario without one is a false alarm when any look fails, as a user would have been paged.
Shepherd's judge and a baseline following Kayenta's NetflixACAJudge rules see the same looks.
"""

from __future__ import annotations

import bisect
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bench.common import Section, median
from bench.judge_corpus import COUNTS, POINTS, SEED, STEP, T0, WEEK, Scenario, corpus
from shepherd.domain.watch import CheckKind, CheckResult, CheckSpec, Direction, Outcome, Point, Verdict
from shepherd.domain.watch.judge import judge_check, judge_deploy, kayenta_judge_check
from shepherd.domain.watch.judge.looks import Look, Schedule, design
from shepherd.entrypoints.cli_judge import _judge_lines

TARGETS = {"recall": 0.95, "false_alarms": 0.02, "ttd": 3.0}
# Corpora drawn with other seeds, Shepherd's judge only: how far the headline moves with the draw.
OTHER_SEEDS = (7, 99)
SLOW_SPLIT = 15  # variance only: slow points in the hour (of 120) that split the recall rows


@dataclass
class Watched:
    """What one judge made of one scenario's hour."""

    scenario: Scenario
    first_fail: float | None = None  # minutes after the deploy
    final: Verdict = Verdict.RUNNING
    looks: int = 0


Judge = Callable[[Scenario, int], CheckResult]


def _before(points: Sequence[Point], end: float) -> Sequence[Point]:
    return points[: bisect.bisect_left(points, end, key=lambda p: p.t)]


def _after(points: Sequence[Point], start: float) -> Sequence[Point]:
    return points[bisect.bisect_left(points, start, key=lambda p: p.t) :]


# The watch's schedule: a look every 30 s from the first with 5 points a side to the end of the hour.
SCHEDULE = Schedule(first=5 * STEP, every=STEP, horizon=POINTS * STEP)


def shepherd_look(s: Scenario, k: int) -> CheckResult:
    now = T0 + k * STEP
    look = Look(k * STEP, SCHEDULE)
    if s.canary:
        return judge_check(s.spec, _before(s.old, now), _before(s.new, now), look=look)
    start = T0 - k * STEP
    week = (_after(s.week_before, start - WEEK), _before(s.week_after, now - WEEK))
    return judge_check(s.spec, _after(s.old, start), _before(s.new, now), seasonal=week, look=look)


def kayenta_look(s: Scenario, k: int) -> CheckResult:
    now = T0 + k * STEP
    old = _before(s.old, now) if s.canary else _after(s.old, T0 - k * STEP)
    return kayenta_judge_check(s.spec, old, _before(s.new, now))


JUDGES: dict[str, Judge] = {"Shepherd": shepherd_look, "Kayenta rules": kayenta_look}


def watch(s: Scenario, judge: Judge) -> Watched:
    result = Watched(s)
    check: CheckResult | None = None
    for k in range(1, POINTS + 1):
        check = judge(s, k)
        result.looks += 1
        if check.outcome is Outcome.FAIL:
            # The page has gone out: later looks change nothing for the person paged.
            result.first_fail, result.final = k * STEP / 60, Verdict.FAIL
            return result
    result.final = judge_deploy([check] if check else [], finished=True).verdict
    return result


@dataclass(frozen=True)
class Quality:
    recall: float
    false_alarms: float
    ttd: float | None  # median minutes to the first fail, detected regressions only
    regressions: int
    clean: int


class Judged(Protocol):
    """What any benchmark's judge made of one scenario: its label and when it first failed."""

    @property
    def scenario(self) -> Any: ...
    @property
    def first_fail(self) -> float | None: ...


def quality(watched: Sequence[Judged]) -> Quality:
    bad = [w for w in watched if w.scenario.regression]
    good = [w for w in watched if not w.scenario.regression]
    times = [w.first_fail for w in bad if w.first_fail is not None]
    return Quality(
        recall=_share(len(times), len(bad)),
        false_alarms=_share(sum(w.first_fail is not None for w in good), len(good)),
        ttd=median(times) if times else None,
        regressions=len(bad),
        clean=len(good),
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def speed(n: int = 600, repeat: int = 200) -> dict[str, float]:
    """Milliseconds per judge_check at n points a side (seeded data, no change)."""
    rng = np.random.default_rng(SEED)
    lat = [Point(i * STEP, float(v)) for i, v in enumerate(0.2 * np.exp(rng.normal(0, 0.1, n)))]
    lat2 = [Point(i * STEP, float(v)) for i, v in enumerate(0.2 * np.exp(rng.normal(0, 0.1, n)))]
    vol = rng.poisson(2000, n).astype(float)
    err = [
        Point(i * STEP, float(e / w), float(w))
        for i, (e, w) in enumerate(zip(rng.poisson(vol * 0.01), vol, strict=True))
    ]
    err2 = [
        Point(i * STEP, float(e / w), float(w))
        for i, (e, w) in enumerate(zip(rng.poisson(vol * 0.01), vol, strict=True))
    ]
    cases = {
        "latency": (CheckSpec("latency", CheckKind.LATENCY), lat, lat2),
        "gauge, both directions": (CheckSpec("gauge", CheckKind.GAUGE, Direction.BOTH), lat, lat2),
        "error ratio (weighted)": (CheckSpec("errors", CheckKind.RATIO), err, err2),
    }
    out = {}
    for name, (spec, a, b) in cases.items():
        start = time.perf_counter()
        for _ in range(repeat):
            judge_check(spec, a, b)
        out[name] = (time.perf_counter() - start) / repeat * 1000
    return out


def design_cost() -> str:
    """Computing the levels of a watch's looks: once per schedule and process, then cached."""
    design.cache_clear()
    start = time.perf_counter()
    d = design(SCHEDULE)
    ms = (time.perf_counter() - start) * 1000
    return (
        f"{ms:.0f} ms: interim looks p < {d.interim:.2g}, last look p < {d.final:g}, whole hour {d.total:.3f}"
    )


def batch_speed(scenarios: Sequence[Scenario]) -> str:
    """`shepherd judge --batch` on each scenario's whole hour, against judge_check on the same points."""
    cases = [(s, list(_after(s.old, T0 - POINTS * STEP)), list(s.new)) for s in scenarios if s.canary]
    lines = [
        json.dumps(
            {
                "id": s.id,
                "kind": s.spec.kind.value,
                "direction": s.spec.direction.value,
                "baseline": [[p.t, p.v] + ([p.w] if p.w is not None else []) for p in old],
                "candidate": [[p.t, p.v] + ([p.w] if p.w is not None else []) for p in new],
            }
        )
        for s, old, new in cases
    ]
    start = time.perf_counter()
    for s, old, new in cases:
        judge_check(s.spec, old, new)
    direct = time.perf_counter() - start
    start = time.perf_counter()
    _judge_lines(io.StringIO("\n".join(lines)), "bench", io.StringIO())
    batch = time.perf_counter() - start
    rate = len(cases) / batch
    return f"{rate:,.0f} scenarios/s ({batch / direct:.2f}× judge_check alone, {len(cases)} scenarios)"


def run() -> Section:
    start = time.perf_counter()
    scenarios = corpus()
    built = time.perf_counter() - start
    results = {name: [watch(s, judge) for s in scenarios] for name, judge in JUDGES.items()}
    elapsed = time.perf_counter() - start
    overall = {name: quality(ws) for name, ws in results.items()}
    ours, theirs = overall["Shepherd"], overall["Kayenta rules"]
    section = Section(f"Judge quality: {len(scenarios)} watched hours, a look every 30 s")
    section.add("corpus", f"{ours.regressions} with a regression, {ours.clean} without (seed {SEED})")
    for name, q in overall.items():
        section.add(f"{name}: recall / false alarms / median time to detect", _triple(q))
    section.add("targets", _targets(ours, theirs))
    for category in COUNTS:
        section.add(f"  {category}", _category(results, category))
    for label, rows in _by_label(results).items():
        section.add(f"    {label}", rows)
    for label, rows in _by_slow_points(results).items():
        section.add(f"    {label}", rows)
    section.add("missing data: final verdict (Shepherd)", _finals(results["Shepherd"]))
    for seed in OTHER_SEEDS:
        q = quality([watch(s, shepherd_look) for s in corpus(seed)])
        section.add(f"Shepherd on the corpus of seed {seed}: recall / false alarms / ttd", _triple(q))
    section.add("shepherd judge --batch (whole hours, in process)", batch_speed(scenarios))
    for name, ms in speed().items():
        section.add(f"judge_check at n=600 a side: {name}", f"{ms:.2f} ms")
    section.add("the hour's sequential design (once per schedule, then cached)", design_cost())
    section.add("runtime, both judges on the main corpus", f"{elapsed:.1f} s (corpus {built:.1f} s)")
    section.notes += NOTES
    return section


def _triple(q: Quality) -> str:
    ttd = f"{q.ttd:.1f} min" if q.ttd is not None else "n/a"
    return f"{q.recall:.3f} / {q.false_alarms:.3f} / {ttd}"


def _targets(ours: Quality, theirs: Quality) -> str:
    met = [
        ours.recall >= TARGETS["recall"],
        ours.false_alarms <= TARGETS["false_alarms"],
        ours.ttd is not None and ours.ttd <= TARGETS["ttd"],
        ours.recall > theirs.recall and ours.false_alarms < theirs.false_alarms,
    ]
    return f"{sum(met)} of 4 met" + (
        "" if all(met) else " (recall ≥ 0.95, false alarms ≤ 0.02, ttd ≤ 3 min, beat Kayenta)"
    )


def _category(results: dict[str, list[Watched]], category: str) -> str:
    parts = []
    for name, watched in results.items():
        q = quality([w for w in watched if w.scenario.category == category])
        value = f"recall {q.recall:.2f}" if q.regressions else f"false alarms {q.false_alarms:.3f}"
        ttd = f", ttd {q.ttd:.1f} min" if q.regressions and q.ttd is not None else ""
        parts.append(f"{name} {value}{ttd}")
    return "; ".join(parts)


def _by_label(results: dict[str, list[Watched]]) -> dict[str, str]:
    """Recall by step size, for the two step categories."""
    rows = {}
    for category in ("error ratio step", "latency step"):
        labels = sorted(
            {w.scenario.label for w in results["Shepherd"] if w.scenario.category == category},
            key=lambda x: float(x[1:]),
        )
        for label in labels:
            parts = []
            for name, watched in results.items():
                q = quality(
                    [w for w in watched if w.scenario.category == category and w.scenario.label == label]
                )
                parts.append(f"{name} {q.recall:.2f}")
            rows[f"{category.split(' ')[0]} {label}"] = "; ".join(parts)
    return rows


def _by_slow_points(results: dict[str, list[Watched]]) -> dict[str, str]:
    """Variance-only recall by how many points the slow path really hit: its episodes are random,
    so a label's "20 % of the time" can come out as a handful of slow points in the hour."""
    buckets = {f"variance, slow path hit < {SLOW_SPLIT} points": lambda n: n < SLOW_SPLIT}
    buckets[f"variance, slow path hit ≥ {SLOW_SPLIT} points"] = lambda n: n >= SLOW_SPLIT
    rows = {}
    for label, inside in buckets.items():
        parts = []
        for name, watched in results.items():
            chosen = [
                w
                for w in watched
                if w.scenario.category.startswith("variance") and inside(w.scenario.slow_points)
            ]
            parts.append(f"{name} {quality(chosen).recall:.2f}")
        rows[f"{label} ({len(chosen)})"] = "; ".join(parts)
    return rows


def _finals(watched: list[Watched]) -> str:
    missing = [w for w in watched if w.scenario.category.startswith("missing")]
    counts: dict[str, int] = {}
    for w in missing:
        counts[w.final.value] = counts.get(w.final.value, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))


NOTES = [
    "Each scenario is one check, judged at every look from the first with 5 points a side (2.5 min) "
    "to 60 min; a deploy with several checks would page more often than one check does.",
    "Kayenta rules: two-sided Mann–Whitney, 98 % interval of the Hodges–Lehmann shift clearing "
    "0.25 × |estimate|, mean ratio beyond 1 ± the check's tolerance (kayenta_judge_check).",
    "Corpus realism and the labelling rule: see bench/judge_corpus.py and the section below.",
    "Variance only: the slow path's episodes are a random chain, so a label's share of the time is "
    "the expected one; the rows by slow points split the category by how many of the hour's 120 "
    "points it really hit.",
    "Shepherd is judged as its watch runs: each look placed in the hour's schedule (a look every "
    "30 s from the fifth point), which sets the level it spends (judge/looks.py: the last look a "
    "fixed-sample test at 0.01, the looks before it sharing 0.005).",
    "The corpus changed with issue 16: both versions of a service now share one noise law (each "
    "used to draw its own noise level, so a healthy canary could be 3× noisier than its baseline "
    "for no reason); a small canary's latency is still noisier by √(traffic share). The previous "
    "judge on this corpus: recall 0.962, false alarms 0.013, time to detect 3.0 min (seed 7: "
    "0.965 / 0.013; seed 99: 0.953 / 0.016).",
    "Seeds 7 and 99 are the check on over-fitting: the judge's rules were settled on the main "
    "seed's misses and false alarms.",
]
