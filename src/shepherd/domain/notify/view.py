"""Everything message content is made from, as one read-only value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shepherd.domain.alerts import Page, Rollback, StoredAlert
from shepherd.domain.changes import person_key
from shepherd.domain.config import Guide, Policies, Service, render_template
from shepherd.domain.deploys import Change, Deploy, DeployEvent, DeployPerson, Role
from shepherd.domain.notify.records import Ack
from shepherd.domain.watch import StoredCheck, Watch


@dataclass(frozen=True)
class Recipient:
    person: DeployPerson
    slack_user: str | None

    @property
    def key(self) -> str:
        return person_key(self.person.ref)

    @property
    def name(self) -> str:
        return self.person.ref.name

    @property
    def is_author(self) -> bool:
        return bool(self.person.roles & {Role.AUTHOR, Role.COAUTHOR})


@dataclass(frozen=True)
class Owner:
    name: str
    slack_user: str | None


@dataclass(frozen=True)
class PageView:
    """A page of this deploy with its alerts (firing and resolved)."""

    page: Page
    alerts: tuple[StoredAlert, ...]

    @property
    def id(self) -> int:
        assert self.page.id is not None
        return self.page.id


@dataclass(frozen=True)
class DeployView:
    deploy: Deploy
    service: Service
    policy: Policies
    changes: tuple[Change, ...]
    people: tuple[Recipient, ...]
    events: tuple[DeployEvent, ...]
    acks: tuple[Ack, ...]
    owners: tuple[Owner, ...]
    public_url: str
    dm_errors: Mapping[str, str] = field(default_factory=dict)  # person key → why their DM failed
    watch: Watch | None = None
    checks: tuple[StoredCheck, ...] = ()
    pages: tuple[PageView, ...] = ()
    rollbacks: tuple[Rollback, ...] = ()

    @property
    def id(self) -> int:
        assert self.deploy.id is not None
        return self.deploy.id

    @property
    def where(self) -> str:
        return f"{self.deploy.service} → {self.deploy.environment}"

    @property
    def deploy_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/deploys/{self.id}"

    @property
    def compare_url(self) -> str:
        return f"{self.deploy_url}/compare"

    @property
    def in_production(self) -> bool:
        return self.deploy.environment == self.service.production_environment

    def recipient(self, key: str) -> Recipient | None:
        return next((r for r in self.people if r.key == key), None)

    def changes_of(self, recipient: Recipient) -> list[Change]:
        shas = set(recipient.person.change_shas)
        return [c for c in self.changes if c.sha in shas]

    def pr_url(self, number: int) -> str | None:
        repo = self.service.github_full_name
        return f"https://github.com/{repo}/pull/{number}" if repo else None

    def placeholder_values(self, now: datetime) -> dict[str, str]:
        return placeholder_values(
            self.deploy, public_url=self.public_url, watch_minutes=self.policy.watch_minutes
        )

    def guides_for(self, changes: list[Change]) -> list[Guide]:
        """The service's guides plus those of every path rule these changes matched."""
        matched = {name for change in changes for name in change.path_rules}
        guides = list(self.service.guides)
        for rule in self.service.path_rules:
            if rule.name in matched:
                guides += [g for g in rule.guides if g not in guides]
        return guides

    def render(self, template: str, now: datetime) -> str:
        return render_template(template, self.placeholder_values(now))


def guide_links(
    service: Service, deploy: Deploy, changes: list[Change], public_url: str, now: datetime
) -> list[tuple[str, str, str]]:
    """(title, url, kind) of every guide for these changes, placeholders filled in."""
    view = DeployView(deploy, service, Policies(), tuple(changes), (), (), (), (), public_url)
    return [(g.title, view.render(g.url, now), g.kind) for g in view.guides_for(list(changes))]


def placeholder_values(deploy: Deploy, *, public_url: str, watch_minutes: float) -> dict[str, str]:
    """The values of the guide placeholders ({service}, {sha}, {started_at_ms}, …) for a deploy."""
    # While it runs, "finished" is the end of the watch: links stay the same (no edits each look).
    finished = deploy.finished_at or deploy.started_at + timedelta(minutes=watch_minutes)
    return {
        "service": deploy.service,
        "environment": deploy.environment,
        "sha": deploy.sha,
        "short_sha": deploy.sha[:7],
        "previous_sha": deploy.base_sha or deploy.previous_sha or "",
        "deploy_id": str(deploy.id),
        "started_at_ms": str(int(deploy.started_at.timestamp() * 1000)),
        "finished_at_ms": str(int(finished.timestamp() * 1000)),
        "public_url": public_url.rstrip("/"),
    }
