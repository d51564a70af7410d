"""What `shepherd.yaml` declares: services, people, policies. Pure models, no I/O.

Structural problems are caught by pydantic (each with its location); references between
parts of the file (owners naming people, duplicate names) by `reference_problems`.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shepherd.domain.config.alerts import AlertsConfig
from shepherd.domain.config.paths import compile_globs
from shepherd.domain.config.problems import Location, Problem

GUIDE_PLACEHOLDERS = frozenset(
    {
        "service",
        "environment",
        "sha",
        "short_sha",
        "previous_sha",
        "deploy_id",
        "started_at_ms",
        "finished_at_ms",
        "public_url",
    }
)
ROLLBACK_PLACEHOLDERS = GUIDE_PLACEHOLDERS | {"rollback_sha"}
CHECK_PLACEHOLDERS = frozenset({"service", "environment", "version", "stable_version", "sha"})

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
SLACK_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


# `{name}` is a placeholder; other braces (e.g. a JSON body) are literal text.
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_placeholders(template: str) -> list[str]:
    return PLACEHOLDER_RE.findall(template)


def render_template(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def check_template(template: str, allowed: frozenset[str]) -> str:
    for name in template_placeholders(template):
        if name not in allowed:
            known = " ".join(f"{{{n}}}" for n in sorted(allowed))
            raise ValueError(f"unknown placeholder {{{name}}} (known: {known})")
    return template


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policies(_Strict):
    """Timings; minutes may be fractional (0.1 = 6 s) for tests and demos."""

    watch_minutes: float = Field(default=60, gt=0, le=24 * 60)
    watch_interval_seconds: float = Field(default=60, ge=1, le=3600)
    ack_minutes: float = Field(default=10, gt=0, le=24 * 60)
    escalate_minutes: float = Field(default=20, gt=0, le=24 * 60)
    correlation_minutes: float = Field(default=60, gt=0, le=24 * 60)
    grouping_minutes: float = Field(default=30, gt=0, le=24 * 60)

    @model_validator(mode="after")
    def _escalate_after_ack(self) -> Policies:
        if self.escalate_minutes < self.ack_minutes:
            raise ValueError("escalate_minutes must not be shorter than ack_minutes")
        return self


class PolicyOverrides(_Strict):
    watch_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    watch_interval_seconds: float | None = Field(default=None, ge=1, le=3600)
    ack_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    escalate_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    correlation_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    grouping_minutes: float | None = Field(default=None, gt=0, le=24 * 60)


class Guide(_Strict):
    """A link telling a person what to watch; `url` is a template."""

    title: str = Field(min_length=1, max_length=200)
    url: str
    kind: Literal["dashboard", "runbook", "logs", "comparison", "other"] = "other"

    @field_validator("url")
    @classmethod
    def _url_template(cls, value: str) -> str:
        check_template(value, GUIDE_PLACEHOLDERS)
        if not value.startswith(("http://", "https://", "{public_url}")):
            raise ValueError("must start with http://, https:// or {public_url}")
        return value


class PathRule(_Strict):
    """Changed files matching `paths` bring extra guides, owners and a channel."""

    name: str = Field(min_length=1, max_length=100)
    paths: list[str] = Field(min_length=1)
    guides: list[Guide] = []
    owners: list[str] = []
    slack_channel: str | None = None

    @field_validator("paths")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        compile_globs(value)
        return value


class RollbackWebhook(_Strict):
    url: str
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = {}
    body: str | None = None

    @field_validator("url", "body")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        if value is not None:
            check_template(value, ROLLBACK_PLACEHOLDERS)
        return value


class Rollback(_Strict):
    command: str | None = None
    webhook: RollbackWebhook | None = None
    timeout_seconds: float = Field(default=600, gt=0, le=6 * 3600)
    allowed: list[str] = Field(
        default=[], description="people who may roll back besides authors, mergers, owners"
    )

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        if value is not None:
            check_template(value, ROLLBACK_PLACEHOLDERS)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Rollback:
        if (self.command is None) == (self.webhook is None):
            raise ValueError("give exactly one of 'command' or 'webhook'")
        return self


class Check(_Strict):
    """One health signal: a metric query, which way is bad, and how much change is fine."""

    name: str = Field(min_length=1, max_length=100)
    source: Literal["prometheus", "datadog"] = "prometheus"
    query: str = Field(min_length=1)
    weight_query: str | None = Field(default=None, description="volume behind a ratio, e.g. requests/s")
    kind: Literal["ratio", "latency", "count", "gauge"] = "gauge"
    direction: Literal["increase_is_bad", "decrease_is_bad", "both"] = "increase_is_bad"
    tolerance: float = Field(default=0.1, ge=0, le=100)
    critical: bool = False
    min_points: int = Field(default=5, ge=2, le=10_000)

    @field_validator("query", "weight_query")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        if value is not None:
            check_template(value, CHECK_PLACEHOLDERS)
        return value

    @property
    def by_version(self) -> bool:
        """Canary mode: the query can be split by version label (new vs stable, same window)."""
        return "{version}" in self.query


class Service(_Strict):
    name: str
    repository: str = Field(min_length=1, description="local path, or a git URL to mirror")
    github_repository: str | None = Field(default=None, description="owner/name on GitHub")
    default_branch: str = "main"
    environments: list[str] = Field(default=["production"], min_length=1)
    production_environment: str = "production"
    paths: list[str] = Field(default=[], description="monorepo: only changes touching these")
    slack_channel: str | None = None
    owners: list[str] = []
    guides: list[Guide] = []
    path_rules: list[PathRule] = []
    rollback: Rollback | None = None
    checks: list[Check] = []
    policies: PolicyOverrides = PolicyOverrides()
    depends_on: list[str] = Field(default=[], description="an alert here also suspects their deploys")
    pagerduty_routing_key: str | None = Field(default=None, description="Events API v2 key, or env:NAME")
    delivery_digest: Digest | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError("use lowercase letters, digits, '-', '_' or '.' (max 63)")
        return value

    @field_validator("github_repository")
    @classmethod
    def _github_repo(cls, value: str | None) -> str | None:
        if value is not None and not GITHUB_REPO_RE.match(value):
            raise ValueError(f"expected 'owner/name', got {value!r}")
        return value

    @field_validator("paths")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        compile_globs(value)
        return value

    @property
    def github_full_name(self) -> str | None:
        """owner/name on GitHub: declared, or read from a GitHub repository URL."""
        return self.github_repository or github_full_name_from_url(self.repository)

    def policy(self, defaults: Policies) -> Policies:
        """The top-level policies with this service's overrides, validated together."""
        overrides = {k: v for k, v in self.policies.model_dump().items() if v is not None}
        return Policies.model_validate({**defaults.model_dump(), **overrides})


class Person(_Strict):
    name: str = Field(min_length=1, max_length=200)
    emails: list[str] = []
    slack_user_id: str | None = None
    github_login: str | None = None
    pagerduty_routing_key: str | None = Field(default=None, description="Events API v2 key, or env:NAME")

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if "@" not in email or email.strip() != email:
                raise ValueError(f"not an email address: {email!r}")
        return value

    @field_validator("slack_user_id")
    @classmethod
    def _slack_id(cls, value: str | None) -> str | None:
        if value is not None and not SLACK_USER_RE.match(value):
            raise ValueError(f"a Slack user id looks like U012ABCDEF, got {value!r}")
        return value


class Digest(_Strict):
    """The weekly delivery digest: where, and when (UTC) on which weekday."""

    channel: str = Field(min_length=1, max_length=200, description="a Slack channel, e.g. #web-team")
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    hour: int = Field(default=9, ge=0, le=23, description="hour of the day, UTC")


class Team(_Strict):
    """A team: the services it owns (its delivery metrics are theirs together) and its people."""

    name: str = Field(min_length=1, max_length=100)
    services: list[str] = Field(default=[], description="names of services in this file")
    members: list[str] = Field(default=[], description="names of people in this file")
    delivery_digest: Digest | None = None


class ShepherdConfig(_Strict):
    services: list[Service] = []
    people: list[Person] = []
    teams: list[Team] = []
    policies: Policies = Policies()
    alerts: AlertsConfig = AlertsConfig()

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def services_for_github_repo(self, full_name: str) -> list[Service]:
        wanted = full_name.lower()
        return [s for s in self.services if (s.github_full_name or "").lower() == wanted]


def reference_problems(config: ShepherdConfig) -> list[Problem]:
    """Problems between parts of a structurally valid config."""
    problems: list[Problem] = []
    problems += _duplicates([s.name for s in config.services], "services", "service name")
    problems += _duplicates([p.name for p in config.people], "people", "person name")
    seen_emails: dict[str, int] = {}
    for i, person in enumerate(config.people):
        for j, email in enumerate(person.emails):
            key = email.lower()
            if key in seen_emails and seen_emails[key] != i:
                other = config.people[seen_emails[key]].name
                problems.append(
                    Problem(
                        location=("people", i, "emails", j),
                        message=f"{email} also belongs to {other}",
                    )
                )
            seen_emails.setdefault(key, i)
    names = {p.name for p in config.people}
    for i, service in enumerate(config.services):
        base: Location = ("services", i)
        problems += _owner_problems(service.owners, names, (*base, "owners"))
        if service.production_environment not in service.environments:
            problems.append(
                Problem(
                    location=(*base, "production_environment"),
                    message=f"{service.production_environment!r} is not one of environments "
                    f"{service.environments}",
                )
            )
        try:
            service.policy(config.policies)
        except ValidationError as exc:
            message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            problems.append(
                Problem(location=(*base, "policies"), message=f"with the top-level policies: {message}")
            )
        problems += _duplicates([r.name for r in service.path_rules], (*base, "path_rules"), "rule name")
        problems += _duplicates([c.name for c in service.checks], (*base, "checks"), "check name")
        for j, rule in enumerate(service.path_rules):
            problems += _owner_problems(rule.owners, names, (*base, "path_rules", j, "owners"))
        if service.rollback is not None:
            problems += _owner_problems(service.rollback.allowed, names, (*base, "rollback", "allowed"))
        problems += _dependency_problems(config, service, base)
    return problems + _team_problems(config, names)


def _team_problems(config: ShepherdConfig, people: set[str]) -> list[Problem]:
    known = {s.name for s in config.services}
    problems = _duplicates([t.name for t in config.teams], "teams", "team name")
    for i, team in enumerate(config.teams):
        problems += [
            Problem(location=("teams", i, "services", k), message=f"unknown service {name!r}")
            for k, name in enumerate(team.services)
            if name not in known
        ]
        problems += _owner_problems(team.members, people, ("teams", i, "members"))
    return problems


def _dependency_problems(config: ShepherdConfig, service: Service, base: Location) -> list[Problem]:
    known = {s.name for s in config.services}
    return [
        Problem(
            location=(*base, "depends_on", k),
            message=f"unknown service {name!r}"
            if name != service.name
            else "a service cannot depend on itself",
        )
        for k, name in enumerate(service.depends_on)
        if name not in known or name == service.name
    ]


def _owner_problems(owners: list[str], people: set[str], location: Location) -> list[Problem]:
    return [
        Problem(
            location=(*location, k),
            message=f"unknown person {owner!r}: name someone from 'people' or give an email",
        )
        for k, owner in enumerate(owners)
        if owner not in people and "@" not in owner
    ]


def _duplicates(values: list[str], location: str | Location, what: str) -> list[Problem]:
    base: Location = (location,) if isinstance(location, str) else location
    seen: set[str] = set()
    problems = []
    for i, value in enumerate(values):
        if value in seen:
            problems.append(Problem(location=(*base, i, "name"), message=f"duplicate {what} {value!r}"))
        seen.add(value)
    return problems


def github_full_name_from_url(url: str) -> str | None:
    """owner/name from https://github.com/owner/name(.git) or git@github.com:owner/name.git."""
    if url.startswith("git@github.com:"):
        path = url.removeprefix("git@github.com:")
    else:
        parsed = urlparse(url)
        if parsed.hostname != "github.com":
            return None
        path = parsed.path.lstrip("/")
    path = path.removesuffix(".git").strip("/")
    return path if GITHUB_REPO_RE.match(path) else None
