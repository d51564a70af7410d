"""The incident story: one timeline from every record, detection minutes, the postmortem draft."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shepherd.domain.alerts import (
    Alert,
    AlertStatus,
    Incident,
    IncidentState,
    Page,
    PageState,
    Rollback,
    RollbackState,
    Severity,
    StoredAlert,
)
from shepherd.domain.deploys import Change, Deploy, DeployEvent, DeployStatus, PersonRef
from shepherd.domain.incidents import (
    IncidentStory,
    PageStory,
    detection,
    impact_window,
    render_markdown,
    timeline,
)
from shepherd.domain.notify import Ack, AckKind, Kind, Notification, State
from shepherd.domain.watch import CheckResult, Outcome, StoredCheck, TimelineEntry, Verdict, Watch

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SHA = "abc1234def5678abc1234def5678abc1234def56"
BLAME = re.compile(
    r"\b(blame\w*|culprit\w*|fault\w*|guilt\w*|caused by|responsib\w*|root cause|suspect\w*|negligen\w*)\b",
    re.IGNORECASE,
)

ANA = PersonRef("Ana Lima", "ana@example.com", person="Ana Lima")
BRUNO = PersonRef("Bruno Costa", "bruno@example.com", person="Bruno Costa")
CHEN = PersonRef("chen", "chen@example.com", person="Chen Wei")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def deploy() -> Deploy:
    return Deploy(
        id=7,
        service="checkout",
        environment="production",
        sha=SHA,
        status=DeployStatus.ROLLED_BACK,
        source="api",
        started_at=T0,
        created_at=T0,
        updated_at=at(25),
        deployer="ci-bot",
        base_sha="0123456789abcdef0123456789abcdef01234567",
        total_changes=2,
    )


def event(status: DeployStatus, minutes: float, *, applied: bool = True, **kw: object) -> DeployEvent:
    return DeployEvent(
        deploy_id=7,
        status=status,
        source="api",
        occurred_at=at(minutes),
        received_at=at(minutes),
        applied=applied,
        **kw,  # type: ignore[arg-type]
    )


def notification(kind: Kind, minutes: float, *, state: State = State.SENT, **kw: object) -> Notification:
    values: dict[str, object] = {
        "deploy_id": 7,
        "key": f"{kind.value}:{minutes}",
        "kind": kind,
        "target": "U01ANA",
        "created_at": at(minutes - 0.5),
        "updated_at": at(minutes + 20),  # later message edits must not move the sent time
        "state": state,
        "attempted_at": at(minutes),
        **kw,
    }
    return Notification(**values)  # type: ignore[arg-type]


def stored_alert(alert_id: int, name: str, starts: float, ends: float | None) -> StoredAlert:
    alert = Alert(
        source="alertmanager",
        fingerprint=f"fp{alert_id}",
        name=name,
        status=AlertStatus.RESOLVED if ends is not None else AlertStatus.FIRING,
        service="checkout",
        environment="production",
        severity=Severity.CRITICAL,
        starts_at=at(starts),
        ends_at=at(ends) if ends is not None else None,
        summary=f"{name} on checkout",
    )
    return StoredAlert(alert=alert, received_at=at(starts), updated_at=at(starts), id=alert_id, page_id=3)


def entry(minutes: float, kind: str, text: str, entry_id: int, **data: object) -> TimelineEntry:
    return TimelineEntry(at=at(minutes), kind=kind, text=text, deploy_id=7, data=dict(data), id=entry_id)


def story() -> IncidentStory:
    page = Page(
        id=3,
        deploy_id=7,
        service="checkout",
        opened_at=at(9),
        group_until=at(39),
        dedup_key="fp1",
        severity="critical",
        reasons=["checkout abc1234 was deployed 6 min before the alert started"],
        score=0.8,
        state=PageState.RESOLVED,
        incident_id=11,
    )
    change = Change(
        sha=SHA,
        subject="Cache cart totals",
        author=ANA,
        coauthors=(CHEN,),
        authored_at=at(-60),
        committed_at=at(-60),
        files=("services/checkout/cart.py",),
        pr_number=42,
        merger=BRUNO,
    )
    check = StoredCheck(
        deploy_id=7,
        result=CheckResult(name="error ratio", outcome=Outcome.FAIL, reason="errors went from 1% to 9%"),
        mode="before_after",
        baseline=(),
        candidate=(),
        judged_at=at(12),
    )
    return IncidentStory(
        incident=Incident(
            id=11,
            deploy_id=7,
            service="checkout",
            environment="production",
            title="HighErrorRatio on checkout",
            trigger="page",
            opened_at=at(9),
            state=IncidentState.RESOLVED,
            resolved_at=at(40),
            resolution="the deploy was rolled back",
        ),
        deploy=deploy(),
        changes=(change,),
        events=(
            event(DeployStatus.STARTED, 0),
            event(DeployStatus.PROGRESSING, 2, percent=50, stage="canary"),
            event(DeployStatus.SUCCEEDED, 5),
            event(DeployStatus.PROGRESSING, 6, applied=False, percent=60),  # late: ignored
            event(DeployStatus.ROLLED_BACK, 25, message="helm rollback"),
        ),
        notifications=(
            notification(Kind.CHANNEL, 0.1, target="#checkout", channel="C0CHECKOUT"),
            notification(Kind.AUTHOR_DM, 0.2, person_name="Ana Lima"),
            notification(Kind.PAGE, 9.5, person_name="Ana Lima"),
            notification(Kind.MERGER_DM, 0.3, state=State.PENDING, person_name="Bruno Costa"),
            notification(
                Kind.VERDICT, 12.5, state=State.FAILED, person_name="Chen Wei", error="user_not_found"
            ),
        ),
        acks=(
            Ack(deploy_id=7, slack_user="U02", name="Bruno Costa", acked_at=at(1)),  # before the alert
            Ack(deploy_id=7, slack_user="U03", name="Chen Wei", acked_at=at(7), kind=AckKind.WRONG),
            Ack(deploy_id=7, slack_user="U01", name="Ana Lima", acked_at=at(15)),
        ),
        watch=Watch(
            deploy_id=7,
            started_at=T0,
            ends_at=at(60),
            interval_seconds=60,
            verdict=Verdict.FAIL,
            reason="error ratio is worse",
            failed_at=at(12),
        ),
        checks=(check,),
        entries=(
            entry(6, "alert", "HighErrorRatio firing: HighErrorRatio on checkout", 1, alert=1),
            entry(9, "incident", "incident #11 opened: HighErrorRatio on checkout", 2, incident=11),
            entry(9, "page", "paged the people of deploy abc1234", 3, page=3),
            entry(9 + 1 / 6, "pagerduty", "PagerDuty triggered (1 routing key, dedup key fp1)", 4, page=3),
            entry(12, "verdict", "verdict fail: error ratio is worse", 5),
            entry(20, "rollback", "rollback #1 requested by Ana Lima", 6, rollback=1),
            entry(40, "resolved", "incident #11 resolved: the deploy was rolled back", 7),
            entry(70, "flagger", "after the incident: not in its timeline", 8),
        ),
        pages=(
            PageStory(
                page, (stored_alert(1, "HighErrorRatio", 6, 30), stored_alert(2, "LatencyHigh", 8, None))
            ),
        ),
        rollbacks=(
            Rollback(
                id=1,
                deploy_id=7,
                requested_by="Ana Lima",
                via="slack",
                requested_at=at(20),
                action="command",
                target_sha="0123456789abcdef",
                state=RollbackState.SUCCEEDED,
            ),
        ),
    )


def test_timeline_merges_every_source_in_time_order_without_duplicates() -> None:
    moments = [((m.at - T0).total_seconds() / 60, m.kind, m.text) for m in timeline(story())]
    assert moments == [
        (0, "deploy", "deploy of checkout abc1234 to production started (deployer: ci-bot)"),
        (0.1, "notification", "deploy summary posted to #checkout"),
        (0.2, "notification", "DM to Ana Lima (author): their change is going out"),
        (1, "ack", "Bruno Costa pressed “I'm watching”"),
        (2, "deploy", "rollout progressing (50%, canary)"),
        (5, "deploy", "deploy succeeded"),
        (6, "alert", "HighErrorRatio firing: HighErrorRatio on checkout"),  # once, from the table
        (7, "ack", "Chen Wei reported “Something's wrong”"),
        (8, "alert", "LatencyHigh firing: LatencyHigh on checkout"),  # from the alert itself
        (9, "incident", "incident #11 opened: HighErrorRatio on checkout"),
        (9, "page", "paged the people of deploy abc1234"),
        (9 + 1 / 6, "pagerduty", "PagerDuty triggered (1 routing key, dedup key fp1)"),
        (9.5, "notification", "page sent to Ana Lima"),
        (12, "verdict", "verdict fail: error ratio is worse"),
        (15, "ack", "Ana Lima pressed “I'm watching”"),
        (20, "rollback", "rollback #1 requested by Ana Lima"),
        (25, "deploy", "deploy rolled back: helm rollback"),
        (30, "alert", "HighErrorRatio resolved"),  # not in the table: from the alert's ends_at
        (32.5, "notification", "not delivered — watch verdict sent to Chen Wei: user_not_found"),
        (40, "resolved", "incident #11 resolved: the deploy was rolled back"),
    ]


def test_detection_minutes_onset_first_alert_first_ack() -> None:
    found = detection(story())
    assert (found.onset, found.first_alert, found.first_ack) == (T0, at(6), at(15))
    assert (found.first_alert_what, found.first_ack_by) == ("HighErrorRatio", "Ana Lima")
    assert (found.onset_to_alert, found.alert_to_ack, found.onset_to_ack) == (6.0, 9.0, 15.0)
    window = impact_window(story())
    assert (window.start, window.end, window.minutes(at(500))) == (T0, at(40), 40.0)


def test_a_failed_verdict_without_alerts_is_the_first_signal_and_impact_is_ongoing() -> None:
    base = story()
    verdict_only = replace(
        base,
        incident=replace(base.incident, state=IncidentState.OPEN, resolved_at=None, resolution=None),
        pages=(),
        watch=replace(base.watch, failed_at=at(12.5)) if base.watch else None,
        acks=(),
    )
    found = detection(verdict_only)
    assert (found.first_alert, found.first_alert_what) == (at(12.5), "watch verdict fail")
    assert (found.onset_to_alert, found.first_ack, found.alert_to_ack) == (12.5, None, None)
    assert impact_window(verdict_only).minutes(at(47.25)) == 47.2
    markdown = render_markdown(verdict_only, at(47.25))
    assert "**ongoing**: 47.2 min so far" in markdown
    assert "| First ack: none recorded after the first alert | – | – | – |" in markdown
    assert "- The incident is still open." in markdown
    assert "| 2026-11-02 11:10:00 | after the incident: not in its timeline |" in markdown  # open: no cut-off


def test_markdown_has_every_section_and_the_numbers() -> None:
    markdown = render_markdown(story(), at(120))
    assert markdown.startswith("# Postmortem draft — incident #11: HighErrorRatio on checkout\n")
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary",
        "## Impact window",
        "## Detection",
        "## Changes involved",
        "## Timeline",
        "## What went well",
        "## What could be better",
        "## Action items",
    ]
    assert "| Status | resolved — the deploy was rolled back |" in markdown
    assert "to 2026-11-02 10:40:00 (resolved): **40 min**." in markdown
    assert "| Regression onset (the deploy started) | 2026-11-02 10:00:00 | – | 0 |" in markdown
    assert "| First alert: HighErrorRatio | 2026-11-02 10:06:00 | 6 | 6 |" in markdown
    assert "| First ack: Ana Lima | 2026-11-02 10:15:00 | 9 | 15 |" in markdown
    assert "| `abc1234` | Cache cart totals | #42 | Ana Lima, Chen Wei | Bruno Costa |" in markdown
    assert "…and 1 more change not listed here." in markdown
    assert "| 2026-11-02 10:08:00 | LatencyHigh firing: LatencyHigh on checkout |" in markdown
    assert "after the incident" not in markdown  # the timeline ends at the resolution
    assert "Failing checks: error ratio (errors went from 1% to 9%)" in markdown
    assert "Rollback #1 to `0123456`: succeeded (requested via slack at 2026-11-02 10:20:00)." in markdown
    assert markdown.count("- [ ] ") == 7
    assert markdown.endswith("- [ ] \n- [ ] \n- [ ] \n")


def test_the_draft_speaks_of_changes_not_of_people_to_blame() -> None:
    for variant in (story(), replace(story(), pages=(), watch=None, rollbacks=())):
        markdown = render_markdown(variant, at(120))
        assert BLAME.findall(markdown) == []
        assert "Changes involved" in markdown


def test_cells_with_pipes_and_newlines_stay_in_their_table_cell() -> None:
    base = story()
    odd = replace(base.changes[0], subject="Split | join\nacross lines")
    markdown = render_markdown(replace(base, changes=(odd,)), at(120))
    assert "| Split \\| join across lines |" in markdown
