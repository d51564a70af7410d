"""Judge power on short canary steps: recall, false alarms and time to detect in 10-minute windows.

Each scenario (bench/short_corpus.py) is one check of one canary step, canary vs baseline in the same
window, judged the way an Argo Rollouts analysis or a Flagger interval asks: after 2, 3, 5 and 10
minutes, on all the points so far. A regression is detected at the first look that fails; a healthy
scenario is a false alarm when any look fails. Three judges see the same looks: Shepherd's, the
Kayenta-style rules, and a plain reference written here (Mann–Whitney U for latency, the exact
conditional binomial test on the two Poisson totals for error ratios, Bonferroni over the four looks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from bench.common import Section
from bench.judge_quality import Quality, quality
from bench.short_corpus import KINDS, LOOKS, PER_KIND, SEED, STEPS, WINDOW, Scenario, corpus
from shepherd.domain.watch import MIN_STEPS, CheckKind, CheckSpec, Outcome, Point
from shepherd.domain.watch.judge import Look, Schedule, judge_check, kayenta_judge_check

REFERENCE_ALPHA = 0.02  # family-wise, over the four looks: the false-alarm budget of the targets
TARGETS = {"recall": 0.95, "kind_recall": 0.90, "false_alarms": 0.02, "ttd": 3.0}

Judge = Callable[[Scenario, float], bool]  # True: the look this many minutes in fails


def shepherd(s: Scenario, minutes: float) -> bool:
    """Shepherd as its watch runs it: the look's place in the watch's schedule sets its level."""
    baseline, canary = s.points(minutes)
    look = Look(minutes * 60, watch_schedule(s))
    return judge_check(s.spec, baseline, canary, look=look).outcome is Outcome.FAIL


def watch_schedule(s: Scenario) -> Schedule:
    """A 10-minute watch looking every scrape (watch_interval_seconds = the step), from 5 points on."""
    step = s.world.step
    return Schedule(first=MIN_STEPS * step, every=step, horizon=WINDOW * 60)


def watch_looks(s: Scenario) -> list[float]:
    """Minutes of every look the watch makes; the gate reads the latest verdict at LOOKS."""
    step = s.world.step
    return [k * step / 60 for k in range(MIN_STEPS, round(WINDOW * 60 / step) + 1)]


def kayenta(s: Scenario, minutes: float) -> bool:
    baseline, canary = s.points(minutes)
    return kayenta_judge_check(s.spec, baseline, canary).outcome is Outcome.FAIL


def reference(s: Scenario, minutes: float) -> bool:
    return reference_fails(s.spec, *s.points(minutes))


def reference_fails(spec: CheckSpec, baseline: Sequence[Point], canary: Sequence[Point]) -> bool:
    """The textbook answer, one-sided (worse is higher), at REFERENCE_ALPHA / 4 per look."""
    return reference_p(spec, baseline, canary) < REFERENCE_ALPHA / len(LOOKS)


def reference_p(spec: CheckSpec, baseline: Sequence[Point], canary: Sequence[Point]) -> float:
    if not baseline or not canary:
        return 1.0
    if spec.kind is CheckKind.RATIO:
        # Errors are Poisson given the traffic: with equal rates, the canary's share of all errors is
        # binomial with its share of the requests as the probability (conditioning on the total).
        errors_old = round(sum(p.v * (p.w or 0.0) for p in baseline))
        errors_new = round(sum(p.v * (p.w or 0.0) for p in canary))
        volume_old, volume_new = sum(p.w or 0.0 for p in baseline), sum(p.w or 0.0 for p in canary)
        if errors_old + errors_new == 0:
            return 1.0
        share = volume_new / (volume_old + volume_new)
        return float(
            stats.binomtest(errors_new, errors_old + errors_new, share, alternative="greater").pvalue
        )
    old, new = np.array([p.v for p in baseline]), np.array([p.v for p in canary])
    return float(stats.mannwhitneyu(new, old, alternative="greater", method="asymptotic").pvalue)


JUDGES: dict[str, Judge] = {
    "Shepherd": shepherd,
    "Kayenta rules": kayenta,
    "reference (MW / exact counts)": reference,
}


@dataclass(frozen=True)
class Judged:
    scenario: Scenario
    first_fail: float | None  # minutes into the window


def judge(s: Scenario, fails: Judge) -> Judged:
    """The first of the gate's looks (LOOKS) that sees a fail. Shepherd's watch looks every scrape
    and a fail is final, so the gate sees it at its next look; the others are asked at LOOKS."""
    for minutes in watch_looks(s) if fails is shepherd else LOOKS:
        if fails(s, minutes):
            # The rollout is aborted: later looks change nothing.
            return Judged(s, next(m for m in LOOKS if m >= minutes - 1e-9))
    return Judged(s, None)


def run(per_kind: int = PER_KIND) -> Section:
    start = time.perf_counter()
    scenarios = corpus(per_kind=per_kind)
    built = time.perf_counter() - start
    results = {name: [judge(s, fails) for s in scenarios] for name, fails in JUDGES.items()}
    elapsed = time.perf_counter() - start
    bad = sum(s.regression for s in scenarios)
    section = Section(
        f"Judge on short canary steps: {len(scenarios)} 10-minute windows, looks at "
        + ", ".join(f"{m:g}" for m in LOOKS)
        + " min"
    )
    section.add("scenarios", f"{bad} with a regression, {len(scenarios) - bad} healthy (seed {SEED})")
    for name, judged in results.items():
        section.add(f"{name}: recall / false alarms / median time to detect", _triple(quality(judged)))
        section.add(f"  targets ({name})", _targets(judged))
    for kind in KINDS:
        section.add(f"  {kind}", _kind(results, kind))
        for label in _labels(scenarios, kind):
            section.add(f"    {label}", _label(results, kind, label))
    section.add("large steps (error ratio ×3+, latency ×2+): median time to detect", _large(results))
    section.add("runtime, three judges", f"{elapsed:.1f} s (scenarios {built:.1f} s)")
    section.notes += NOTES
    return section


def _triple(q: Quality) -> str:
    ttd = f"{q.ttd:.1f} min" if q.ttd is not None else "n/a"
    return f"{q.recall:.3f} / {q.false_alarms:.3f} / {ttd}"


def _targets(judged: list[Judged]) -> str:
    q = quality(judged)
    worst_kind, worst = min(
        ((kind, quality([j for j in judged if j.scenario.kind == kind]).recall) for kind in KINDS),
        key=lambda item: item[1],
    )
    large = quality([j for j in judged if j.scenario.large]).ttd
    checks = [
        (f"recall ≥ {TARGETS['recall']:g}", q.recall >= TARGETS["recall"], f"{q.recall:.3f}"),
        (
            f"every kind ≥ {TARGETS['kind_recall']:g}",
            worst >= TARGETS["kind_recall"],
            f"lowest {worst:.2f}, {worst_kind}",
        ),
        (
            f"false alarms ≤ {TARGETS['false_alarms']:g}",
            q.false_alarms <= TARGETS["false_alarms"],
            f"{q.false_alarms:.3f}",
        ),
        (
            f"large-step ttd ≤ {TARGETS['ttd']:g} min",
            large is not None and large <= TARGETS["ttd"],
            f"{large:g} min" if large is not None else "none detected",
        ),
    ]
    met = sum(ok for _, ok, _ in checks)
    words = ", ".join(f"{what} {'met' if ok else 'missed'} ({value})" for what, ok, value in checks)
    return f"{met} of {len(checks)} met: {words}"


def _kind(results: dict[str, list[Judged]], kind: str) -> str:
    parts = []
    for name, judged in results.items():
        q = quality([j for j in judged if j.scenario.kind == kind])
        ttd = f"{q.ttd:.0f} min" if q.ttd is not None else "n/a"
        parts.append(f"{_short(name)} recall {q.recall:.2f}, false alarms {q.false_alarms:.3f}, ttd {ttd}")
    return "; ".join(parts)


def _labels(scenarios: list[Scenario], kind: str) -> list[str]:
    sizes = sorted({(s.size, s.label) for s in scenarios if s.kind == kind and s.regression})
    return [label for _, label in sizes]


def _label(results: dict[str, list[Judged]], kind: str, label: str) -> str:
    parts = []
    for name, judged in results.items():
        chosen = [j for j in judged if j.scenario.kind == kind and j.scenario.label == label]
        q = quality(chosen)
        ttd = f" in {q.ttd:.0f} min" if q.ttd is not None else ""
        parts.append(f"{_short(name)} {q.recall:.2f}{ttd}")
    return f"({len(chosen)}) " + "; ".join(parts)


def _large(results: dict[str, list[Judged]]) -> str:
    parts = []
    for name, judged in results.items():
        ttd = quality([j for j in judged if j.scenario.large]).ttd
        parts.append(f"{_short(name)} {f'{ttd:g} min' if ttd is not None else 'n/a'}")
    return "; ".join(parts)


def _short(name: str) -> str:
    return name.split(" ")[0]


NOTES = [
    f"{PER_KIND} regressed and {PER_KIND} healthy scenarios per kind ({len(KINDS)} kinds), so the "
    "whole run (three judges, four looks each) stays well under two minutes on two cores; "
    f"scrapes every {', '.join(f'{s:g}' for s in STEPS)} s (4–18 points a side at 2–3 minutes, "
    "20–60 at 10).",
    "Scenarios, noise and the labelling rule (an ideal observer who knew both distributions sees the "
    "regression at 4 standard errors by the 10-minute look): bench/short_corpus.py.",
    "Shepherd: judge_check in canary mode with the default check (tolerance 10 %, 5 points a side "
    "before it judges), as a 10-minute watch runs it: a look at every scrape from the fifth, each "
    "placed in that schedule (the level it spends comes from the sequential design, "
    "judge/looks.py); a fail is final and the gate sees it at its next look (2, 3, 5 or 10 min), so "
    "its false alarms count every one of the watch's looks. Kayenta rules: kayenta_judge_check, "
    "asked at the four looks.",
    "Reference: one-sided Mann–Whitney U (asymptotic) on the latency points; for error ratios the "
    "exact conditional binomial test of the canary's errors among both sides' errors, with its share "
    f"of the requests as the probability; family level {REFERENCE_ALPHA:g} over the four looks "
    f"(Bonferroni: {REFERENCE_ALPHA / len(LOOKS):g} a look). It ignores over-dispersion and "
    "autocorrelation, so its false alarms measure what they cost.",
    "Time to detect: the look (2, 3, 5 or 10 min) of the first fail, median over the detected "
    "regressions; the large steps are error ratio ×3 and ×5 and latency ×2 and ×3.",
]
