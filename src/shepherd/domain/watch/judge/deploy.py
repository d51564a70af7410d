"""The deploy's verdict from its checks' verdicts: pure, like the per-check judge (judge.py)."""

from __future__ import annotations

from collections.abc import Sequence

from shepherd.domain.watch.metrics import CheckResult, DeployJudgement, Outcome, Verdict


def judge_deploy(results: Sequence[CheckResult], *, finished: bool) -> DeployJudgement:
    """The deploy's verdict from its checks (Kayenta-like score: share of judged checks passing)."""
    checks = tuple(results)
    fails = [r for r in checks if r.outcome is Outcome.FAIL]
    passes = [r for r in checks if r.outcome is Outcome.PASS]
    judged = [r for r in checks if r.outcome is not Outcome.NODATA]
    score = round(100.0 * len(passes) / len(judged), 1) if judged else 0.0
    critical = [r for r in fails if r.critical]
    decided = len(fails) + len(passes)
    if critical:
        names = _names(critical)
        return DeployJudgement(
            Verdict.FAIL, score, f"critical check {names} failed: {critical[0].reason}", checks
        )
    if fails and (len(fails) >= 2 or 2 * len(fails) >= decided):
        reason = f"{len(fails)} of {len(checks)} checks failed ({_names(fails)}): {fails[0].reason}"
        return DeployJudgement(Verdict.FAIL, score, reason, checks)
    if not passes and not fails:
        if not finished:
            return DeployJudgement(Verdict.RUNNING, score, _unjudged(checks, "so far"), checks)
        return DeployJudgement(Verdict.INCONCLUSIVE, score, _unjudged(checks, "in the whole watch"), checks)
    summary = f"{len(passes)} of {len(checks)} checks pass" + (f", {_names(fails)} failed" if fails else "")
    if not finished:
        return DeployJudgement(Verdict.RUNNING, score, f"Watching: {summary} so far.", checks)
    return DeployJudgement(Verdict.PASS, score, f"{summary}.", checks)


def _unjudged(checks: tuple[CheckResult, ...], when: str) -> str:
    if not checks:
        return f"No checks to judge {when}."
    nodata = sum(r.outcome is Outcome.NODATA for r in checks)
    return f"No check could be judged {when} ({nodata} without data, {len(checks) - nodata} inconclusive)."


def _names(results: Sequence[CheckResult]) -> str:
    return ", ".join(r.name for r in results)
