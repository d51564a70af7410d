"""Ranking suspects: time, the deploy's own verdict, and what the alert names vs what changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shepherd.domain.alerts import Alert, AlertStatus, Candidate, Severity, alert_tokens, in_window, rank
from shepherd.domain.deploys import Change, Deploy, DeployStatus, PersonRef
from shepherd.domain.watch import Verdict

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=60)


def deploy(deploy_id: int, minutes_ago: float, *, status: DeployStatus = DeployStatus.SUCCEEDED) -> Deploy:
    at = NOW - timedelta(minutes=minutes_ago)
    return Deploy(
        service="checkout",
        environment="production",
        sha=f"{deploy_id:07d}abcdef",
        status=status,
        source="api",
        started_at=at,
        created_at=at,
        updated_at=at,
        id=deploy_id,
    )


def change(*files: str, author: str = "Bruno Costa") -> Change:
    who = PersonRef(author, f"{author.split()[0].lower()}@example.com")
    return Change("abc1234def", "a change", who, (), NOW, NOW, tuple(files))


def alert(**labels: str) -> Alert:
    return Alert(
        source="alertmanager",
        fingerprint="f1",
        name="HighErrorRatio",
        status=AlertStatus.FIRING,
        service="checkout",
        environment="production",
        severity=Severity.CRITICAL,
        starts_at=NOW,
        labels={"service": "checkout", **labels},
    )


def test_only_deploys_before_the_alert_and_in_the_window_or_still_rolling_are_suspects() -> None:
    assert in_window(deploy(1, 10), NOW, WINDOW)
    assert not in_window(deploy(2, 90), NOW, WINDOW)
    assert in_window(deploy(3, 90, status=DeployStatus.PROGRESSING), NOW, WINDOW)
    assert not in_window(deploy(4, -5), NOW, WINDOW)  # started after the alert did


def test_the_most_recent_deploy_ranks_first_other_things_equal() -> None:
    suspects = rank(alert(), [Candidate(deploy(1, 40), (), None), Candidate(deploy(2, 5), (), None)], WINDOW)
    assert [s.deploy_id for s in suspects] == [2, 1]
    assert suspects[0].reasons[0] == "checkout 0000002 was deployed 5 min before the alert started"


def test_a_failed_verdict_outweighs_being_a_little_more_recent() -> None:
    failed = Candidate(deploy(1, 20), (), Verdict.FAIL, "error ratio 0.4% → 3.1% (×7.8)")
    passed = Candidate(deploy(2, 10), (), Verdict.PASS)
    suspects = rank(alert(), [passed, failed], WINDOW)
    assert suspects[0].deploy_id == 1
    assert "its watch failed: error ratio 0.4% → 3.1% (×7.8)" in suspects[0].reasons
    assert "its watch passed" in suspects[1].reasons


def test_an_alert_naming_what_a_change_touched_points_at_that_deploy() -> None:
    payments = Candidate(deploy(1, 25), (change("services/checkout/payments/charge.py"),), None)
    other = Candidate(deploy(2, 15), (change("services/checkout/shipping.py", author="Chen Wei"),), None)
    suspects = rank(alert(handler="/checkout/charge"), [payments, other], WINDOW)
    assert suspects[0].deploy_id == 1
    assert suspects[0].reasons[1] == (
        "the alert's handler=/checkout/charge matches services/checkout/payments/charge.py "
        "(change abc1234 by Bruno Costa)"
    )


def test_a_dependency_deploy_is_a_suspect_but_a_weaker_one() -> None:
    own = Candidate(deploy(1, 10), (), None)
    dependency = Candidate(deploy(2, 10), (), None, dependency=True)
    suspects = rank(alert(), [dependency, own], WINDOW)
    assert [s.deploy_id for s in suspects] == [1, 2]
    assert "depends on checkout" in suspects[1].reasons[0]


def test_still_rolling_out_is_said() -> None:
    rolling = deploy(1, 3, status=DeployStatus.PROGRESSING)
    rolling.stage, rolling.percent = "canary", 10
    suspects = rank(alert(), [Candidate(rolling, (), Verdict.RUNNING)], WINDOW)
    assert suspects[0].reasons[0].startswith("checkout 0000001 started rolling out (now at canary)")


def test_tokens_come_only_from_locating_labels() -> None:
    tokens = alert_tokens(alert(handler="/api/v1/charge", instance="10.0.0.1:8080", team="payments"))
    assert set(tokens) == {"charge"}
