"""The regression judge: per-check tests, the tail tests, verdicts, and Kayenta's rules for comparison."""

from shepherd.domain.watch.judge.check import judge_check
from shepherd.domain.watch.judge.deploy import judge_deploy
from shepherd.domain.watch.judge.kayenta import kayenta_judge_check
from shepherd.domain.watch.judge.looks import FINAL, INTERIM, Look, Schedule, design
from shepherd.domain.watch.judge.stats import deflate, inflation, mann_whitney_p, median, quantile, ranks
from shepherd.domain.watch.judge.tails import symmetry, tail_p
from shepherd.domain.watch.judge.verdict import ALPHA, Finding, levels

__all__ = [
    "ALPHA",
    "FINAL",
    "INTERIM",
    "Finding",
    "Look",
    "Schedule",
    "deflate",
    "design",
    "inflation",
    "judge_check",
    "judge_deploy",
    "kayenta_judge_check",
    "levels",
    "mann_whitney_p",
    "median",
    "quantile",
    "ranks",
    "symmetry",
    "tail_p",
]
