"""The delivery keys on hand-made histories, one rule at a time (docs/delivery.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shepherd.domain.delivery import (
    Band,
    ChangeRecord,
    DeployRecord,
    FailureRule,
    delivery,
    failure_rate_band,
    frequency_band,
    lead_time_band,
    recovery_band,
)
from shepherd.domain.deploys import DeployStatus as S

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
SINCE, UNTIL = T0, T0 + timedelta(days=7)
H = timedelta(hours=1)


def deploy(
    i: int,
    at: timedelta,
    status: S = S.SUCCEEDED,
    *,
    took: timedelta = timedelta(minutes=10),
    changes: tuple[ChangeRecord, ...] = (),
    service: str = "checkout",
    **extra: object,
) -> DeployRecord:
    start = T0 + at
    finished = start + took if status in (S.SUCCEEDED, S.FAILED, S.ROLLED_BACK) else None
    return DeployRecord(
        id=i,
        service=service,
        environment="production",
        sha=f"{i:040x}",
        status=status,
        started_at=start,
        finished_at=finished,
        changes=changes,
        **extra,  # type: ignore[arg-type]
    )


def change(sha: str, authored: timedelta, **extra: object) -> ChangeRecord:
    return ChangeRecord(sha=sha, authored_at=T0 + authored, **extra)  # type: ignore[arg-type]


def test_an_empty_period_gives_nothing_and_counts_of_zero() -> None:
    d = delivery([], since=SINCE, until=UNTIL)
    assert (len(d.deploys), d.reached, d.deploy_days) == (0, 0, 0)
    assert d.per_day == 0.0 and d.failure_rate is None and d.rework_rate is None
    assert (d.lead_time.median, d.lead_time.count) == (None, 0)
    assert (d.recovery.median, d.recovery.count, d.open_failures) == (None, 0, 0)


def test_only_final_deploys_started_in_the_period_count_and_duplicates_once() -> None:
    history = [
        deploy(1, -H),  # before the period
        deploy(2, H, idempotency_key="ci-1"),
        deploy(3, 2 * H, idempotency_key="ci-1"),  # the same event again
        deploy(4, 3 * H, S.PROGRESSING),  # not final
        deploy(5, 7 * 24 * H - timedelta(minutes=5), took=timedelta(hours=2)),  # spans the end: counts
        deploy(6, 7 * 24 * H),  # starts at `until`: excluded
    ]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert [x.id for x in d.deploys] == [2, 5]


def test_frequency_counts_deploys_that_reached_production_and_their_days() -> None:
    history = [deploy(1, H), deploy(2, 2 * H, S.ROLLED_BACK), deploy(3, 25 * H, S.FAILED), deploy(4, 49 * H)]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert d.reached == 3  # succeeded and rolled back; the failed one never got there
    assert d.per_day == pytest.approx(3 / 7)
    assert d.deploy_days == 2


@pytest.mark.parametrize(
    ("record", "rule"),
    [
        (deploy(1, H, S.FAILED), FailureRule.FAILED),
        (deploy(1, H, S.ROLLED_BACK), FailureRule.ROLLED_BACK),
        (deploy(1, H, watch_failed=True), FailureRule.WATCH),
        (deploy(1, H, incidents=(12,)), FailureRule.INCIDENT),
    ],
)
def test_each_failure_rule_records_itself(record: DeployRecord, rule: FailureRule) -> None:
    d = delivery([record], since=SINCE, until=UNTIL)
    assert [f.rule for f in d.failures] == [rule]
    assert d.failure_rate == 1.0


def test_a_revert_within_the_window_fails_the_deploy_and_makes_the_fix_rework() -> None:
    bad = change("a" * 40, -2 * H)
    revert = change("b" * 40, 5 * H, reverts=("a" * 12,))  # git may write an abbreviated sha
    history = [deploy(1, H, changes=(bad,)), deploy(2, 6 * H, changes=(revert,))]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert [(f.deploy.id, f.rule) for f in d.failures] == [(1, FailureRule.REVERTED)]
    assert "deploy #2" in d.failures[0].detail
    assert [r.id for r in d.rework] == [2]
    assert d.failure_rate == 0.5 and d.rework_rate == 0.5


def test_a_revert_after_the_window_does_not_count() -> None:
    bad = change("a" * 40, -2 * H)
    revert = change("b" * 40, 40 * H, reverts=("a" * 40,))
    history = [deploy(1, H, changes=(bad,)), deploy(2, 30 * H, changes=(revert,))]
    assert delivery(history, since=SINCE, until=UNTIL).failures == ()
    wider = delivery(history, since=SINCE, until=UNTIL, revert_window=timedelta(hours=48))
    assert [f.deploy.id for f in wider.failures] == [1]


def test_a_revert_of_another_services_change_does_not_count() -> None:
    bad = change("a" * 40, -2 * H)
    revert = change("b" * 40, 2 * H, reverts=("a" * 40,))
    history = [deploy(1, H, changes=(bad,)), deploy(2, 3 * H, changes=(revert,), service="search")]
    assert delivery(history, since=SINCE, until=UNTIL).failures == ()


def test_a_rollback_is_rework_but_not_by_itself_a_failure() -> None:
    history = [deploy(1, H), deploy(2, 2 * H, rollback=True)]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert [r.id for r in d.rework] == [2] and d.failures == ()


def test_lead_time_from_authored_to_the_first_succeeded_deploy_that_shipped_it() -> None:
    c1, c2 = change("1" * 40, -10 * H), change("2" * 40, -4 * H)
    history = [
        deploy(1, H, S.FAILED, changes=(c1,)),  # failed: it did not take c1 to production
        deploy(2, 2 * H, changes=(c1, c2), took=timedelta(hours=1)),
        deploy(3, 5 * H, changes=(c2,)),  # c2 again (a redeploy): counted once, at #2
    ]
    d = delivery(history, since=SINCE, until=UNTIL)
    # #2 finished at T0 + 3 h: c1 waited 13 h, c2 7 h.
    assert d.lead_time.count == 2
    assert d.lead_time.median == pytest.approx(10.0)
    assert d.lead_time.p90 == pytest.approx(12.4)  # linear between order statistics


def test_a_pull_request_counts_from_its_first_commit_and_a_squash_keeps_its_real_age() -> None:
    early, late = change("1" * 40, -30 * H, pr_number=7), change("2" * 40, -2 * H, pr_number=7)
    squash = change("3" * 40, 0 * H, pr_number=8, pr_first_authored_at=T0 - 50 * H)
    history = [deploy(1, H, changes=(early, late, squash), took=timedelta(0))]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert sorted(round(h) for h in d.lead_hours) == [31, 31, 51]


def test_recovery_is_to_the_next_good_deploy_and_an_unrecovered_failure_stays_open() -> None:
    history = [
        deploy(1, H, S.FAILED, took=timedelta(minutes=30)),  # finished 10:30
        deploy(2, 2 * H, watch_failed=True),  # succeeded but failed its watch: not a recovery
        deploy(3, 3 * H, took=timedelta(minutes=30)),  # 12:30: recovers #1 (2 h) and #2
        deploy(4, 30 * H, S.ROLLED_BACK),  # never recovered
    ]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert [f.deploy.id for f in d.failures] == [1, 2, 4]
    assert [r.recovered_by.id if r.recovered_by else None for r in d.recoveries] == [3, 3, None]
    assert d.recovery.count == 2 and d.open_failures == 1
    # #1 finished 10:30, #2 11:10, #3 12:30: 2 h and 1 h 20.
    assert d.recovery.median == pytest.approx((2.0 + 4 / 3) / 2)


def test_recovery_may_come_after_the_period() -> None:
    history = [deploy(1, 7 * 24 * H - 2 * H, S.FAILED), deploy(2, 8 * 24 * H)]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert [r.recovered_by.id if r.recovered_by else None for r in d.recoveries] == [2]


def test_a_team_is_the_union_of_its_services_each_recovering_on_its_own() -> None:
    history = [
        deploy(1, H, S.FAILED),
        deploy(2, 2 * H, service="search"),  # another service: does not recover checkout
        deploy(3, 5 * H),
    ]
    d = delivery(history, since=SINCE, until=UNTIL)
    assert len(d.deploys) == 3
    assert d.recoveries[0].recovered_by is not None and d.recoveries[0].recovered_by.id == 3


def test_batch_size_is_the_median_of_changes_a_deploy() -> None:
    c = [change(f"{i:040x}", -H) for i in range(5)]
    history = [deploy(1, H, changes=tuple(c[:1])), deploy(2, 2 * H, changes=tuple(c[1:4])), deploy(3, 3 * H)]
    assert delivery(history, since=SINCE, until=UNTIL).batch.median == 1.0


def test_bands_follow_the_report_with_monotone_failure_rates() -> None:
    assert frequency_band(3.0) is Band.ELITE and frequency_band(0.2) is Band.HIGH
    assert frequency_band(0.05) is Band.MEDIUM and frequency_band(0.01) is Band.LOW
    assert lead_time_band(2.0) is Band.ELITE and lead_time_band(48.0) is Band.HIGH
    assert lead_time_band(24.0 * 10) is Band.MEDIUM and lead_time_band(24.0 * 60) is Band.LOW
    assert failure_rate_band(0.05) is Band.ELITE and failure_rate_band(0.08) is Band.HIGH
    assert failure_rate_band(0.15) is Band.MEDIUM and failure_rate_band(0.5) is Band.LOW
    assert recovery_band(0.5) is Band.ELITE and recovery_band(5.0) is Band.HIGH
    assert recovery_band(48.0) is Band.MEDIUM and recovery_band(24.0 * 10) is Band.LOW
    assert lead_time_band(None) is None


def test_revert_messages_name_the_commits_they_revert() -> None:
    from shepherd.adapters.git import looks_like_revert, parse_reverts

    assert looks_like_revert('Revert "Faster checkout"') and looks_like_revert("revert: the cache")
    out = (
        "\x1e" + "a" * 40 + '\x1fRevert "Faster checkout"\n\nThis reverts commit ' + "B" * 40 + ".\n"
        "\x1e" + "c" * 40 + "\x1fRevert two\n\nThis reverts commit 1234567.\nThis reverts commit 1234567.\n"
        "\x1e" + "d" * 40 + "\x1fRevert without a sha\n"
    )
    assert parse_reverts(out) == {"a" * 40: ("b" * 40,), "c" * 40: ("1234567",)}


def test_the_digest_runs_on_its_weekday_and_hour_strictly_after_now() -> None:
    from shepherd.domain.config import Digest
    from shepherd.services.digest import next_run

    monday9 = Digest(channel="#web", weekday="monday", hour=9)
    assert next_run(monday9, T0 - H) == T0  # Monday 08:00 → 09:00 the same day
    assert next_run(monday9, T0) == T0 + 7 * 24 * H  # at 09:00 exactly: next week
    assert next_run(Digest(channel="#x", weekday="friday", hour=16), T0) == T0 + (4 * 24 + 7) * H


def test_github_deployments_become_import_lines() -> None:
    import json as _json

    from shepherd.adapters.inbound.github_deployments import import_lines, next_page
    from tests.support import payload_path

    recorded = _json.loads(payload_path("github", "deployment_status.payload.json").read_text())
    d, status = recorded["deployment"], recorded["deployment_status"]  # the REST API's shapes
    staging = {**d, "id": 2, "environment": "staging"}
    lines = import_lines([d, staging], {int(d["id"]): [status]}, service="shop", environment="production")
    assert lines == [
        {
            "service": "shop",
            "environment": "production",
            "sha": d["sha"],
            "started_at": d["created_at"].replace("Z", "+00:00"),
            "status": "succeeded",
            "finished_at": status["created_at"].replace("Z", "+00:00"),
            "idempotency_key": f"github-deployment:{d['id']}",
        }
    ]
    link = '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"'
    assert next_page(link) == "https://api.github.com/x?page=2"
    assert next_page('<https://api.github.com/x?page=1>; rel="prev"') is None and next_page(None) is None
