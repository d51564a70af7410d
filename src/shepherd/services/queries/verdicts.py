"""Reading verdicts: what gates (Argo Rollouts, Flagger, CI) and pages are told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shepherd.domain.deploys import Deploy
from shepherd.domain.ids import valid_id
from shepherd.domain.watch import StoredCheck, Verdict, Watch
from shepherd.services.errors import NotFound
from shepherd.services.ports import UnitOfWork, UnitOfWorkFactory
from shepherd.services.queries.views import iso


@dataclass(frozen=True)
class VerdictView:
    deploy: Deploy | None
    watch: Watch | None
    checks: tuple[StoredCheck, ...]

    @property
    def verdict(self) -> Verdict:
        if self.deploy is None:
            return Verdict.INCONCLUSIVE
        return self.watch.verdict if self.watch is not None else Verdict.RUNNING

    @property
    def reason(self) -> str:
        if self.deploy is None:
            return "Shepherd knows no such deploy"
        return self.watch.reason if self.watch is not None else "the watch has not looked yet"

    def as_json(self) -> dict[str, Any]:
        watch = self.watch
        return {
            "deploy_id": self.deploy.id if self.deploy else None,
            "verdict": self.verdict.value,
            "score": watch.score if watch else 0.0,
            "reason": self.reason,
            "finished": bool(watch and watch.finished),
            "looks": watch.looks if watch else 0,
            "started_at": iso(watch.started_at) if watch else None,
            "ends_at": iso(watch.ends_at) if watch else None,
            "checks": [_check(c) for c in self.checks],
        }


NO_DEPLOY = VerdictView(None, None, ())


def _check(stored: StoredCheck) -> dict[str, Any]:
    result = stored.result
    return {
        "name": result.name,
        "outcome": result.outcome.value,
        "reason": result.reason,
        "critical": result.critical,
        "baseline": result.baseline,
        "candidate": result.candidate,
        "ratio": result.ratio,
        "p_value": result.p_value,
        "test": result.test,
        "mode": stored.mode,
        "judged_at": iso(stored.judged_at),
    }


def verdict_of(uow: UnitOfWork, deploy_id: int) -> VerdictView:
    if not valid_id(deploy_id):  # no row can have it: the same answer as for an unknown deploy
        return NO_DEPLOY
    deploy = uow.deploys.get(deploy_id)
    if deploy is None:
        return NO_DEPLOY
    return VerdictView(deploy, uow.watches.get(deploy_id), tuple(uow.watches.checks(deploy_id)))


def latest_deploy(uow: UnitOfWork, *, service: str, environment: str, version: str | None) -> Deploy | None:
    """The newest deploy of a service to an environment (of one version, when given)."""
    for deploy in uow.deploys.query(service=service, environment=environment, limit=50):
        if version is None or version in (deploy.version, deploy.sha, deploy.sha[: len(version)]):
            return deploy
    return None


def deploy_verdict(*, uow_factory: UnitOfWorkFactory, deploy_id: int) -> VerdictView:
    with uow_factory() as uow:
        return verdict_of(uow, deploy_id)


def latest_verdict(
    *, uow_factory: UnitOfWorkFactory, service: str, environment: str, version: str | None
) -> VerdictView:
    """The verdict of the newest deploy of a service (and version): for tools without the deploy id."""
    with uow_factory() as uow:
        deploy = latest_deploy(uow, service=service, environment=environment, version=version)
        return verdict_of(uow, deploy.id) if deploy and deploy.id else NO_DEPLOY


def deploy_series(*, uow_factory: UnitOfWorkFactory, deploy_id: int) -> dict[str, Any]:
    """The points each check was last judged on: old (or before) and new (or after)."""
    view = deploy_verdict(uow_factory=uow_factory, deploy_id=deploy_id)
    if view.deploy is None:
        raise NotFound(f"no deploy with id {deploy_id}")
    checks = [
        {
            "name": c.result.name,
            "outcome": c.result.outcome.value,
            "reason": c.result.reason,
            "mode": c.mode,
            "baseline": [[p.t, p.v] for p in c.baseline],
            "candidate": [[p.t, p.v] for p in c.candidate],
        }
        for c in view.checks
    ]
    return {
        "deploy_id": deploy_id,
        "deploy_at": view.deploy.started_at.timestamp(),
        "verdict": view.verdict.value,
        "reason": view.reason,
        "checks": checks,
    }
