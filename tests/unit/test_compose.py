"""Message content: per-person changes, acks, PR links, rollback lines."""

from datetime import UTC, datetime

from shepherd.domain import compose
from shepherd.domain.config import Policies, Rollback, Service
from shepherd.domain.deploy_view import DeployView, Recipient
from shepherd.domain.model import (
    AttributionState,
    Change,
    Deploy,
    DeployPerson,
    DeployStatus,
    PersonRef,
    Role,
)
from shepherd.domain.notifications import Ack, AckKind

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
    assert line == "`ccccccc` Faster search ([#14](https://github.com/acme/api/pull/14))"


def test_rollback_line_names_the_previous_sha_or_says_there_is_none() -> None:
    assert "rollback api --to " + "a" * 40 in "\n".join(compose.watch_lines(view(), [], T))
    first = "\n".join(compose.watch_lines(view(base_sha=None), [], T))
    assert "knows no earlier deploy" in first and "PREVIOUS_SHA" not in first


def test_footer_separates_watching_from_something_wrong() -> None:
    v = view()
    acks = (Ack(7, "U1", "Ana Lima", T, AckKind.WATCHING), Ack(7, "U2", "Bruno", T, AckKind.WRONG))
    footer = compose.ack_footer(DeployView(**{**v.__dict__, "acks": acks}))
    assert footer == ("⚠️ Something's wrong, says Bruno", "👀 Watching: Ana Lima (10:00 UTC)")


def test_status_lines_follow_the_lifecycle() -> None:
    assert compose.status_line(view()) == "🚀 Going out now"
    assert compose.status_line(view(status=DeployStatus.PROGRESSING, percent=25, stage="canary")) == (
        "🚦 Rolling out — 25% of traffic (stage: canary)"
    )
    assert (
        compose.status_line(view(status=DeployStatus.FAILED, message="health check"))
        == "❌ Deploy failed: health check"
    )
