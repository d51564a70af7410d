"""Message content: per-person changes, acks, PR links, rollback lines."""

from datetime import UTC, datetime

from shepherd.adapters.slack.blocks import mrkdwn
from shepherd.domain.config import Policies, Rollback, Service
from shepherd.domain.deploys import (
    AttributionState,
    Change,
    Deploy,
    DeployPerson,
    DeployStatus,
    PersonRef,
    Role,
)
from shepherd.domain.notify import Ack, AckKind, DeployView, Recipient, compose, text

T = datetime(2026, 11, 2, 10, tzinfo=UTC)
ANA = PersonRef("Ana Lima", "ana@example.com", "Ana Lima")


def view(**deploy: object) -> DeployView:
    values: dict[str, object] = {
        "id": 7,
        "service": "api",
        "environment": "production",
        "sha": "b" * 40,
        "status": DeployStatus.STARTED,
        "source": "api",
        "started_at": T,
        "created_at": T,
        "updated_at": T,
        "base_sha": "a" * 40,
        "attribution_state": AttributionState.DONE,
        "total_changes": 1,
    }
    values.update(deploy)
    change = Change(
        sha="c" * 40,
        subject="Faster search (#14)",
        author=ANA,
        coauthors=(),
        authored_at=T,
        committed_at=T,
        files=("a.py",),
        pr_number=14,
    )
    service = Service(
        name="api",
        repository=".",
        github_repository="acme/api",
        rollback=Rollback(command="rollback {service} --to {rollback_sha}"),
    )
    person = DeployPerson(ANA, {Role.AUTHOR}, ["c" * 40])
    return DeployView(
        Deploy(**values),
        service,
        Policies(),
        (change,),
        (Recipient(person, "U01ANA"),),
        (),  # type: ignore[arg-type]
        (),
        (),
        "https://shepherd.example.com",
    )


def test_squash_subject_links_its_pr_once() -> None:
    v = view()
    line = compose.change_line(v, v.changes[0])
    assert mrkdwn(line) == "`ccccccc` Faster search (<https://github.com/acme/api/pull/14|#14>)"


def test_rollback_line_names_the_previous_sha_or_says_there_is_none() -> None:
    assert "rollback api --to " + "a" * 40 in "\n".join(map(mrkdwn, compose.watch_lines(view(), [], T)))
    first = "\n".join(map(mrkdwn, compose.watch_lines(view(base_sha=None), [], T)))
    assert "knows no earlier deploy" in first and "PREVIOUS_SHA" not in first


def test_footer_separates_watching_from_something_wrong() -> None:
    v = view()
    acks = (Ack(7, "U1", "Ana Lima", T, AckKind.WATCHING), Ack(7, "U2", "Bruno", T, AckKind.WRONG))
    footer = compose.ack_footer(DeployView(**{**v.__dict__, "acks": acks}))
    assert footer == (text("⚠️ Something's wrong, says Bruno"), text("👀 Watching: Ana Lima (10:00 UTC)"))


def test_status_lines_follow_the_lifecycle() -> None:
    assert compose.status_line(view()) == text("🚀 Going out now")
    assert compose.status_line(view(status=DeployStatus.PROGRESSING, percent=25, stage="canary")) == text(
        "🚦 Rolling out — 25% of traffic (stage: canary)"
    )
    assert compose.status_line(view(status=DeployStatus.FAILED, message="health check")) == text(
        "❌ Deploy failed: health check"
    )


def watched(verdict: object, outcome: object, *, finished: bool = False) -> DeployView:
    from datetime import timedelta

    from shepherd.domain.watch import CheckResult, Point, StoredCheck, Watch

    v = view()
    result = CheckResult(
        name="error ratio",
        outcome=outcome,
        reason="error ratio 0.4% → 3.1% (×7.8)",  # type: ignore[arg-type]
        critical=True,
    )
    points = tuple(Point(T.timestamp() + 30 * i, 0.01 * i) for i in range(10))
    watch = Watch(
        deploy_id=7,
        started_at=T,
        ends_at=T + timedelta(hours=1),
        interval_seconds=60,
        verdict=verdict,
        reason="1 of 1 checks failing",
        finished=finished,
    )  # type: ignore[arg-type]
    from shepherd.domain.config import Check

    service = v.service.model_copy(update={"checks": [Check(name="error ratio", query="q")]})
    return DeployView(
        **{
            **v.__dict__,
            "service": service,
            "watch": watch,
            "checks": (StoredCheck(7, result, "canary", points, points, T),),
        }
    )


def test_health_shows_in_the_status_line_and_a_failure_gets_its_own_message() -> None:
    from shepherd.domain.notify import Field, strong, verdict_message
    from shepherd.domain.watch import Outcome, Verdict

    running = watched(Verdict.RUNNING, Outcome.PASS)
    assert mrkdwn(compose.status_line(running)).endswith("🔎 Health: watching 1 check, no problem so far")
    assert verdict_message(running) is None
    failing = watched(Verdict.FAIL, Outcome.FAIL)
    status = mrkdwn(compose.status_line(failing))
    assert "🔥 Health: failing — error ratio: error ratio 0.4% → 3.1% (×7.8)" in status
    message = verdict_message(failing)
    assert message is not None and "1 check failing" in mrkdwn(message.title)
    reason = text("error ratio 0.4% → 3.1% (×7.8)")
    assert Field(strong("error ratio") + " (critical)", reason) in message.sections[0].lines
    clear = watched(Verdict.PASS, Outcome.PASS, finished=True)
    assert "💚 Health: all clear after 1 hour (1 check passed)" in mrkdwn(compose.status_line(clear))
    unsure = watched(Verdict.INCONCLUSIVE, Outcome.NODATA, finished=True)
    unsure_message = verdict_message(unsure)
    assert unsure_message is not None and "misconfiguration" in mrkdwn(unsure_message.sections[1].lines[0])


def test_chart_is_a_png() -> None:
    from shepherd.adapters.charts import MatplotlibCharts
    from shepherd.domain.watch import Outcome, Verdict

    failing = watched(Verdict.FAIL, Outcome.FAIL)
    png = MatplotlibCharts().render(failing.checks, deploy_at=T, title="checkout → production abc1234")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
