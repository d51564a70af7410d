"""Builders for service tests on the in-memory unit of work: a config, deploys, their people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from shepherd.adapters.config_file import parse_config
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.deploys import Changeset, Deploy, DeployPerson, DeployStatus, PersonRef, Role
from shepherd.domain.jobs import Job
from shepherd.services.jobs import HandlerRegistry, JobRunner
from tests.support import FakeClock
from tests.support.memory import FakeUnitOfWorkFactory

SHA_1 = "a" * 40  # what ran before
SHA_2 = "b" * 40  # the deploy under test
ANA_SLACK, DORA_SLACK, EVE_SLACK, FINN_SLACK = "U01ANA", "U04DORA", "U05EVE", "U06FINN"


def shop_config(
    *,
    rollback: dict[str, Any] | None = None,
    alerts: dict[str, Any] | None = None,
    policies: dict[str, Any] | None = None,
    **service: Any,
) -> ShepherdConfig:
    """People with Slack ids, and `checkout` (owned by Dora) plus `search`, which depends on it."""
    checkout: dict[str, Any] = {
        "name": "checkout",
        "repository": "/nowhere/shop.git",
        "environments": ["staging", "production"],
        "owners": ["Dora Owner"],
        **service,
    }
    if rollback is not None:
        checkout["rollback"] = {"allowed": ["Eve Oncall"], **rollback}
    data: dict[str, Any] = {
        "alerts": alerts or {},
        "policies": policies or {},
        "people": [
            {"name": "Ana Lima", "emails": ["ana@example.com"], "slack_user_id": ANA_SLACK},
            {"name": "Bruno Costa", "emails": ["bruno@example.com"]},
            {"name": "Dora Owner", "emails": ["dora@example.com"], "slack_user_id": DORA_SLACK},
            {"name": "Eve Oncall", "emails": ["eve@example.com"], "slack_user_id": EVE_SLACK},
            {"name": "Finn Stranger", "emails": ["finn@example.com"], "slack_user_id": FINN_SLACK},
        ],
        "services": [
            checkout,
            {"name": "search", "repository": "/nowhere/search.git", "depends_on": ["checkout"]},
        ],
    }
    return parse_config(yaml.safe_dump(data))


def person(name: str, email: str, *roles: Role) -> DeployPerson:
    return DeployPerson(ref=PersonRef(name=name, email=email, person=name), roles=set(roles or [Role.AUTHOR]))


@dataclass
class Store:
    """The in-memory database and its clock, with shortcuts to put rows in place."""

    clock: FakeClock = field(default_factory=FakeClock)
    uow_factory: FakeUnitOfWorkFactory = field(default_factory=FakeUnitOfWorkFactory)

    def deploy(
        self,
        *,
        service: str = "checkout",
        environment: str = "production",
        status: DeployStatus = DeployStatus.STARTED,
        people: tuple[DeployPerson, ...] = (),
        started_at: datetime | None = None,
        **values: Any,
    ) -> Deploy:
        """A deploy row as attribution leaves it: `people` are its authors and mergers."""
        now = self.clock()
        row = Deploy(
            service=service,
            environment=environment,
            sha=values.pop("sha", SHA_2),
            status=status,
            source="api",
            started_at=started_at or now,
            created_at=now,
            updated_at=now,
            **values,
        )
        with self.uow_factory() as uow:
            deploy = uow.deploys.add(row)
            assert deploy.id is not None
            changeset = Changeset(None, deploy.sha, (), 0, 0, people)
            uow.deploys.store_changeset(deploy.id, changeset)
        return deploy

    def runner(self, registry: HandlerRegistry | None = None, *, lease_seconds: float = 30) -> JobRunner:
        return JobRunner(
            uow_factory=self.uow_factory,
            handlers=registry or HandlerRegistry(),
            clock=self.clock,
            lease_seconds=lease_seconds,
        )

    def jobs(self, kind: str | None = None) -> list[Job]:
        """The committed jobs, oldest first (of one kind, if given)."""
        found = sorted(self.uow_factory.tables.jobs.values(), key=lambda j: j.id)
        return [j for j in found if kind is None or j.kind == kind]

    def timeline(self, deploy_id: int, kind: str | None = None) -> list[str]:
        entries = sorted(self.uow_factory.tables.timeline.values(), key=lambda e: (e.at, e.id or 0))
        return [e.text for e in entries if e.deploy_id == deploy_id and (kind is None or e.kind == kind)]
