"""Rollback rules as plain values: who may press, what to go back to, templates filled in safely."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime

import pytest

from shepherd.domain.config import Person, Service
from shepherd.domain.deploys import Deploy, DeployPerson, DeployStatus, PersonRef, Role
from shepherd.domain.incidents import (
    Presser,
    identify,
    may_roll_back,
    render_command,
    render_json_body,
    render_url,
    resolve_headers,
    rollback_target,
    template_values,
    who_may,
)

PEOPLE = [
    Person(name="Ana Lima", emails=["ana@example.com"], slack_user_id="U01ANA"),
    Person(name="Bruno Costa", emails=["bruno@example.com", "b@old.example"]),
    Person(name="Dora Owner", emails=["dora@example.com"], slack_user_id="U04DORA"),
    Person(name="Eve Oncall", emails=["eve@example.com"], slack_user_id="U05EVE"),
]
SERVICE = Service(
    name="checkout",
    repository="/repo",
    owners=["Dora Owner", "ops@example.com"],
    rollback={"command": "rollback {service}", "allowed": ["Eve Oncall"]},
)
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def stake(name: str, email: str, role: Role, person: str | None = None) -> DeployPerson:
    return DeployPerson(PersonRef(name=name, email=email, person=person), roles={role})


AUTHOR = stake("Ana Lima", "ana@example.com", Role.AUTHOR, "Ana Lima")
MERGER = stake("Bruno Costa", "bruno@example.com", Role.MERGER, "Bruno Costa")
UNCONFIGURED = stake("Gil Guest", "Gil@Guest.example", Role.COAUTHOR)


def presser(slack_user: str | None = None, email: str | None = None) -> Presser:
    return identify(PEOPLE, slack_user=slack_user, email=email)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (presser("U01ANA"), True),  # author, by configured Slack id
        (presser(email="b@old.example"), True),  # merger, by an alias email
        (presser(email="gil@guest.example"), True),  # co-author not in config: by email, any case
        (presser("U04DORA"), True),  # owner by name
        (presser(email="OPS@example.com"), True),  # owner by email
        (presser("U05EVE"), True),  # rollback.allowed
        (presser("U09NOBODY"), False),
        (presser("U09NOBODY", "stranger@example.com"), False),
        (Presser(None, frozenset()), False),
    ],
)
def test_who_may_roll_back(who: Presser, allowed: bool) -> None:
    assert may_roll_back(who, people=[AUTHOR, MERGER, UNCONFIGURED], service=SERVICE) is allowed


def test_a_merger_alone_may_roll_back() -> None:
    bruno = presser(email="bruno@example.com")
    assert bruno.person == "Bruno Costa"
    assert may_roll_back(bruno, people=[MERGER], service=SERVICE)
    assert not may_roll_back(bruno, people=[AUTHOR], service=SERVICE)


def test_the_refusal_names_who_may() -> None:
    text = who_may([AUTHOR, MERGER], SERVICE)
    assert text == (
        "the deploy's authors and mergers (Ana Lima, Bruno Costa); "
        "the owners of checkout (Dora Owner, ops@example.com); "
        "Eve Oncall (rollback.allowed in shepherd.yaml)"
    )
    bare = Service(name="x", repository="/r", rollback={"command": "true"})
    assert "nobody on Slack" in who_may([], bare)


def deploy(**overrides: object) -> Deploy:
    values: dict[str, object] = {
        "service": "checkout",
        "environment": "prod eu",
        "sha": "b" * 40,
        "status": DeployStatus.SUCCEEDED,
        "source": "api",
        "started_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "id": 7,
        "previous_sha": "a" * 40,
    }
    values.update(overrides)
    return Deploy(**values)  # type: ignore[arg-type]


def test_the_target_is_the_last_good_deploy_else_the_reported_previous_sha() -> None:
    assert rollback_target(deploy()) == "a" * 40
    assert rollback_target(deploy(base_sha="c" * 40)) == "c" * 40
    assert rollback_target(deploy(previous_sha=None)) is None


def test_template_values() -> None:
    values = template_values(deploy(), target_sha="c" * 40, public_url="http://shep/", watch_minutes=60)
    assert values["rollback_sha"] == "c" * 40 and values["deploy_id"] == "7"
    assert values["short_sha"] == "bbbbbbb" and values["public_url"] == "http://shep"
    assert int(values["finished_at_ms"]) - int(values["started_at_ms"]) == 3_600_000


def test_command_values_are_shell_quoted_only_when_needed() -> None:
    values = {"service": "checkout", "environment": "prod eu; rm -rf /", "rollback_sha": "abc1234"}
    command = render_command("deploy {service} --env {environment} --to {rollback_sha}", values)
    assert command == "deploy checkout --env 'prod eu; rm -rf /' --to abc1234"
    assert shlex.split(command)[3] == "prod eu; rm -rf /"


def test_json_body_values_are_escaped_and_the_body_stays_json() -> None:
    values = {"service": 'chec"kout\\', "environment": "line\nbreak", "rollback_sha": "abc"}
    body = render_json_body(
        '{"inputs": {"s": "{service}", "e": "{environment}", "sha": "{rollback_sha}"}}', values
    )
    assert json.loads(body) == {"inputs": {"s": 'chec"kout\\', "e": "line\nbreak", "sha": "abc"}}


def test_url_values_are_quoted() -> None:
    values = {"public_url": "http://shep:8000", "environment": "prod eu"}
    assert render_url("{public_url}/x/{environment}", values) == "http://shep:8000/x/prod%20eu"


def test_headers_read_tokens_from_the_environment() -> None:
    environ = {"GITHUB_TOKEN": "ghp_x", "PAGER": "k"}
    headers = {"Authorization": "Bearer env:GITHUB_TOKEN", "X-Key": "env:PAGER", "Accept": "text/plain"}
    assert resolve_headers(headers, environ) == {
        "Authorization": "Bearer ghp_x",
        "X-Key": "k",
        "Accept": "text/plain",
    }
    with pytest.raises(
        ValueError, match="header Authorization: environment variable GITHUB_TOKEN is not set"
    ):
        resolve_headers(headers, {})
