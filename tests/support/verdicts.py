"""Verdicts put in place for tests of what reads them (gates, pages), without running a watch."""

from __future__ import annotations

from datetime import timedelta

from shepherd.domain.watch import CheckResult, Outcome, Point, StoredCheck, Verdict, Watch, WatchMode
from tests.support.world import World


def set_verdict(world: World, deploy_id: int, verdict: Verdict, *, finished: bool = False) -> None:
    now = world.clock()
    outcome = {Verdict.FAIL: Outcome.FAIL, Verdict.PASS: Outcome.PASS}.get(verdict, Outcome.INCONCLUSIVE)
    result = CheckResult(
        name="error ratio",
        outcome=outcome,
        reason="error ratio 0.4% → 3.1% (×7.8)",
        baseline=0.004,
        candidate=0.031,
        ratio=7.8,
        p_value=1e-6,
        critical=True,
    )
    with world.shepherd.uow_factory() as uow:
        uow.watches.save(
            Watch(
                deploy_id=deploy_id,
                started_at=now,
                ends_at=now + timedelta(hours=1),
                interval_seconds=60,
                verdict=verdict,
                score=0 if verdict is Verdict.FAIL else 100,
                reason=f"verdict is {verdict.value}",
                looks=3,
                finished=finished,
            )
        )
        points = tuple(Point(now.timestamp() + 30 * i, 0.03) for i in range(5))
        uow.watches.save_check(StoredCheck(deploy_id, result, WatchMode.CANARY, points, points, now))
        uow.commit()


def start(world: World) -> int:
    return int(world.start(world.shas.second, previous_sha=world.shas.first)["id"])
