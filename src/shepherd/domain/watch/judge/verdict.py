"""The judge's verdict on one check from its findings, and the sentence a person reads.

Kept apart from the tests that produce the findings (check.py, rates.py): this is where the significance
level per look is spent and where the numbers become words ("error ratio 0.4% → 3.1% (×7.8) on
the new version vs the old: 31 errors vs 4 in ~1,000 requests each (rate test (volume-weighted),
p < 0.001)."). A failing reason names the test that fired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shepherd.domain.watch.judge.looks import FINAL, Look, level
from shepherd.domain.watch.judge.stats import Sample
from shepherd.domain.watch.metrics import CheckKind, CheckResult, CheckSpec, Outcome

# The level each look may spend comes from the watch's sequential design (judge/looks.py): the looks
# are cumulative and strongly correlated, so they share one false-alarm budget per check and watch.
# Within a look it is split (Bonferroni, with Tarone's refinement) between the tests one check runs.
# ALPHA is the level of a single comparison without a schedule (`shepherd judge`).
ALPHA = FINAL
SUGGESTIVE = 0.05  # beyond tolerance at this level but not at ALPHA: inconclusive, "too thin to tell"


@dataclass(frozen=True)
class Sides:
    """How a reason names the two sides."""

    old: str
    new: str
    versus: str


CANARY = Sides("the old version", "the new version", "on the new version vs the old")


def versions(old: str, new: str) -> Sides:
    """Canary mode when the versions' names are known: "on v2 vs v1" says more than "the new one"."""
    return Sides(old, new, f"on {new} vs {old}")


BEFORE_AFTER = Sides("before the deploy", "after the deploy", "after the deploy vs before")


@dataclass(frozen=True)
class Finding:
    """One one-sided test of one check: its p-value and the summaries a person would compare."""

    key: str  # short name for details: "rate", "t", "mw", "tail"
    test: str
    worse_up: bool  # tested for "the new side is higher"
    p: float
    old: float
    new: float
    beyond: bool  # the new summary is beyond tolerance (and the week-ago change) in the tested direction
    season: float = 1.0  # the week-ago change excused
    what: str = ""  # which summary: "", "median", "p90"
    note: str = ""  # words appended to the lead, e.g. what the median did while the tail moved
    floor: float = 0.0  # the smallest p the test could give on these points (a count's discreteness)

    @property
    def ratio(self) -> float | None:
        return self.new / self.old if self.old != 0 else None


@dataclass(frozen=True)
class Context:
    spec: CheckSpec
    sides: Sides
    week: tuple[Sample, Sample] | None  # the same two windows a week earlier
    details: dict[str, float | str]
    look: Look | None = None  # where this judgement sits in the watch's looks (judge/looks.py)


def levels(findings: list[Finding], look: Look | None = None) -> list[float]:
    """Each test's significance level at this look: the look's level shared by the tests that could
    reach their share.

    Tarone's refinement of Bonferroni: the smallest m for which at most m tests have a floor below
    their share level / m (a test fails only below its level). A test that could not reach its share
    even with the most extreme count its points allow cannot page, so it need not be paid for; the
    others then keep more of the level.
    """
    alpha = level(look)
    m = 1
    while m < len(findings):  # at m = len(findings) every test fits by definition
        if sum(f.floor < alpha / m for f in findings) <= m:
            break
        m += 1
    return [alpha / m] * len(findings)


def decide(ctx: Context, findings: list[Finding]) -> CheckResult:
    shares = levels(findings, ctx.look)
    if ctx.week is not None:
        excuse: float = max((f.season for f in findings), key=lambda x: abs(math.log(x)))
        ctx.details["seasonal_excuse"] = round(excuse, 4)
    for f, a in zip(findings, shares, strict=True):
        name = f"{f.key}_{'up' if f.worse_up else 'down'}"
        ctx.details[f"p_{name}"] = float(f"{f.p:.3g}")
        ctx.details[f"alpha_{name}"] = float(f"{a:.3g}")
    failing = [f for f, a in zip(findings, shares, strict=True) if f.beyond and f.p < a]
    suspect = [f for f in findings if f.beyond and f.p < SUGGESTIVE]
    if failing:
        chosen = min(failing, key=lambda f: f.p)
        outcome, tail = Outcome.FAIL, f" ({chosen.test}, {_p(chosen.p)}){_season_note(chosen)}."
    elif suspect:
        chosen = min(suspect, key=lambda f: f.p)
        outcome = Outcome.INCONCLUSIVE
        tail = f": looks worse, but too little or too noisy data to tell yet ({_p(chosen.p)})."
    else:
        chosen = _headline(findings)
        outcome, tail = Outcome.PASS, _pass_words(ctx, chosen)
    return CheckResult(
        name=ctx.spec.name,
        outcome=outcome,
        reason=_lead(ctx, chosen) + tail,
        baseline=chosen.old,
        candidate=chosen.new,
        ratio=chosen.ratio,
        p_value=chosen.p,
        test=chosen.test,
        critical=ctx.spec.critical,
        details=ctx.details,
    )


def _headline(findings: list[Finding]) -> Finding:
    """For a pass: the location (or rate) finding in the direction the data actually moved."""
    first = findings[0]
    moved_up = first.new >= first.old
    same_kind = [f for f in findings if f.test == first.test]
    return next((f for f in same_kind if f.worse_up == moved_up), first)


def _pass_words(ctx: Context, f: Finding) -> str:
    tolerance = ctx.spec.tolerance
    ratio = f.ratio if f.ratio is not None else (math.inf if f.new > 0 else 1.0)
    raw_beyond = ratio > 1 + tolerance if f.worse_up else ratio < 1 - tolerance
    if f.beyond or (raw_beyond and f.season == 1.0):
        return f", not a significant change ({_p(f.p)})."
    if raw_beyond:
        return (
            f", as the same hour a week ago moved (×{_times(f.season)}): the daily pattern, not the deploy."
        )
    if (ratio < 1 - tolerance) if f.worse_up else (ratio > 1 + tolerance):
        return ": better, not worse."
    return f": within the {tolerance:.0%} tolerance."


def _season_note(f: Finding) -> str:
    return f", beyond the ×{_times(f.season)} the same hour moved a week ago" if f.season != 1.0 else ""


def _lead(ctx: Context, f: Finding) -> str:
    kind = ctx.spec.kind
    what = f" {f.what}" if f.what else ""
    change = f"{fmt(kind, f.old)} → {fmt(kind, f.new)}"
    ratio = f.ratio
    times = (
        "up from zero"
        if ratio is None and f.new > 0
        else "no change"
        if ratio is None
        else f"×{_times(ratio)}"
    )
    return f"{ctx.spec.name}{what} {change} ({times}) {ctx.sides.versus}{f.note}"


def _times(ratio: float) -> str:
    if ratio >= 10:
        return f"{ratio:.0f}"
    return f"{ratio:.2f}" if abs(ratio - 1) < 0.1 else f"{ratio:.2g}"


def fmt(kind: CheckKind, x: float) -> str:
    if kind is CheckKind.RATIO and 0 <= x <= 1:
        return "0%" if x == 0 else f"{x * 100:.2g}%"
    if kind is CheckKind.LATENCY and abs(x) < 1:
        return f"{x * 1000:.3g} ms"
    if kind is CheckKind.LATENCY:
        return f"{x:.3g} s"
    return f"{x:.3g}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"
