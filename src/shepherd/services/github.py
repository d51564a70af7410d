"""Use case: a GitHub `deployment` / `deployment_status` webhook becomes deploy events."""

from __future__ import annotations

from shepherd.adapters.inbound.github import GithubDeployment
from shepherd.domain.config import Service, ShepherdConfig
from shepherd.domain.deploys import Deploy
from shepherd.services.deploys import ReportDeployEvent, StartDeploy, record_deploy_event, record_deploy_start
from shepherd.services.errors import Invalid, UnknownService
from shepherd.services.ports import Clock, UnitOfWorkFactory


def service_for(signal: GithubDeployment, config: ShepherdConfig) -> Service:
    candidates = config.services_for_github_repo(signal.repository)
    if signal.service_hint:
        chosen = [s for s in candidates if s.name == signal.service_hint]
        if not chosen:
            raise UnknownService(
                f"deployment payload names service {signal.service_hint!r}, but no such service "
                f"in shepherd.yaml has repository {signal.repository}",
                details={"known": [s.name for s in candidates]},
            )
        return chosen[0]
    if not candidates:
        raise UnknownService(
            f"no service in shepherd.yaml has GitHub repository {signal.repository} "
            "(set 'github_repository' or a github.com 'repository' URL)",
            details={"repository": signal.repository},
        )
    if len(candidates) > 1:
        raise Invalid(
            f"several services share {signal.repository}: send the service name in the deployment "
            'payload, e.g. {"service": "api"}',
            details={"candidates": [s.name for s in candidates]},
        )
    return candidates[0]


def record_github_deployment(
    signal: GithubDeployment, *, uow_factory: UnitOfWorkFactory, config: ShepherdConfig, clock: Clock
) -> Deploy:
    """Deployments may arrive after their statuses: whichever comes first creates the deploy."""
    service = service_for(signal, config)
    deploy, _ = record_deploy_start(
        StartDeploy(
            service=service.name,
            environment=signal.environment,
            sha=signal.sha,
            source="github",
            ref=signal.ref,
            deployer=signal.creator,
            url=signal.url,
            idempotency_key=f"github:{signal.repository.lower()}:deployment:{signal.deployment_id}",
            started_at=signal.created_at,
        ),
        uow_factory=uow_factory,
        config=config,
        clock=clock,
    )
    if signal.status is None or signal.status_id is None:
        return deploy
    assert deploy.id is not None
    deploy, _, _ = record_deploy_event(
        ReportDeployEvent(
            deploy_id=deploy.id,
            status=signal.status,
            source="github",
            message=signal.description,
            idempotency_key=f"github:{signal.repository.lower()}:status:{signal.status_id}",
            occurred_at=signal.status_at,
        ),
        uow_factory=uow_factory,
        clock=clock,
    )
    return deploy
