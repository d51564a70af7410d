"""Rollbacks, the pure parts: who may press the button, what to go back to, filled-in templates."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from shepherd.domain.config import Person, Service, render_template
from shepherd.domain.deploys import Deploy, DeployPerson
from shepherd.domain.notify import placeholder_values

WEBHOOK_OUTPUT_CHARS = 2000  # of a rollback webhook's response body, kept as the output


@dataclass(frozen=True)
class RollbackResult:
    """What running a rollback command or calling its webhook gave."""

    succeeded: bool
    exit_code: int | None  # the command's exit code, or the webhook's HTTP status
    output: str


@dataclass(frozen=True)
class Presser:
    """Whoever pressed the button, as far as config and Slack tell: a person's name and emails."""

    person: str | None  # the configured person's name
    emails: frozenset[str]  # lower case


def rollback_target(deploy: Deploy) -> str | None:
    """The sha to go back to: what ran before (the previous successful deploy, else as reported)."""
    return deploy.base_sha or deploy.previous_sha


def identify(people: Iterable[Person], *, slack_user: str | None, email: str | None) -> Presser:
    """A Slack user (by configured id, or by an email Slack gave us) as a configured person."""
    emails = {email.lower()} if email else set()
    found = None
    for person in people:
        slack_match = slack_user is not None and person.slack_user_id == slack_user
        email_match = bool(emails & {e.lower() for e in person.emails})
        if slack_match or email_match:
            found = person
            break
    if found is not None:
        emails |= {e.lower() for e in found.emails}
    return Presser(found.name if found else None, frozenset(emails))


def may_roll_back(presser: Presser, *, people: Iterable[DeployPerson], service: Service) -> bool:
    """The deploy's authors, co-authors and mergers, the service's owners, `rollback.allowed`."""
    for stake in people:
        if presser.person is not None and stake.ref.person == presser.person:
            return True
        if stake.ref.email.lower() in presser.emails:
            return True
    allowed = [*service.owners, *(service.rollback.allowed if service.rollback else [])]
    for entry in allowed:  # a configured person's name, or an email
        if presser.person is not None and entry == presser.person:
            return True
        if entry.lower() in presser.emails:
            return True
    return False


def who_may(people: Iterable[DeployPerson], service: Service) -> str:
    """For the refusal: the names of those who may roll this deploy back."""
    names = list(dict.fromkeys(p.ref.person or p.ref.name for p in people))
    parts = []
    if names:
        parts.append(f"the deploy's authors and mergers ({', '.join(names)})")
    if service.owners:
        parts.append(f"the owners of {service.name} ({', '.join(service.owners)})")
    allowed = service.rollback.allowed if service.rollback else []
    if allowed:
        parts.append(f"{', '.join(allowed)} (rollback.allowed in shepherd.yaml)")
    if not parts:
        return "nobody on Slack (add people to `owners` or `rollback.allowed` in shepherd.yaml)"
    return "; ".join(parts)


def template_values(
    deploy: Deploy, *, target_sha: str, public_url: str, watch_minutes: float
) -> dict[str, str]:
    """The values of the rollback placeholders (the guide ones plus {rollback_sha})."""
    values = placeholder_values(deploy, public_url=public_url, watch_minutes=watch_minutes)
    return {**values, "rollback_sha": target_sha}


def render_command(template: str, values: Mapping[str, str]) -> str:
    """Values shell-quoted: ordinary names and shas stay as they are, anything else is one word."""
    return render_template(template, {k: shlex.quote(v) for k, v in values.items()})


def render_url(template: str, values: Mapping[str, str]) -> str:
    return render_template(template, {k: quote(v, safe=":/") for k, v in values.items()})


def render_json_body(template: str, values: Mapping[str, str]) -> str:
    """Values JSON-escaped: a placeholder inside a JSON string keeps the body valid JSON."""
    return render_template(template, {k: json.dumps(v)[1:-1] for k, v in values.items()})


def resolve_headers(headers: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """`env:NAME` read from the environment, so tokens stay out of shepherd.yaml.

    The whole value (`env:PAGER_TOKEN`) or its last word (`Bearer env:GITHUB_TOKEN`) may be one.
    ValueError names the header and the variable, never a value.
    """
    out = {}
    for name, raw in headers.items():
        head, _, last = raw.rpartition(" ")
        if last.startswith("env:"):
            variable = last.removeprefix("env:")
            value = environ.get(variable)
            if not value:
                raise ValueError(f"header {name}: environment variable {variable} is not set")
            out[name] = f"{head} {value}" if head else value
        else:
            out[name] = raw
    return out
