"""The `page_pagerduty` job: trigger or resolve a page's PagerDuty incident.

Routing keys come from the alerting service and from each paged person (authors and mergers of
the suspect deploy). PagerDuty deduplicates on `dedup_key` (the fingerprint of the alert that
opened the page), so a retry after an unknown outcome cannot open a second incident.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from shepherd.domain.alerts import Page, PageAction, PageEvent, Severity
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.deploys import Deploy, Role
from shepherd.domain.errors import PagerRejected
from shepherd.domain.jobs import JobKind, PermanentFailure
from shepherd.services.incidents import note
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.ports import Pager, UnitOfWork

log = logging.getLogger("shepherd.paging")


@dataclass(frozen=True)
class PagingDeps:
    config: ShepherdConfig
    pager: Pager
    environ: Mapping[str, str]  # for `env:NAME` routing keys
    public_url: str


def routing_keys(
    config: ShepherdConfig, service: str, people: list[str], environ: Mapping[str, str]
) -> list[str]:
    """Configured keys of the service and of these people (configured names), resolved, unique."""
    wanted = []
    svc = config.service(service)
    if svc is not None and svc.pagerduty_routing_key:
        wanted.append(svc.pagerduty_routing_key)
    for person in config.people:
        if person.name in people and person.pagerduty_routing_key:
            wanted.append(person.pagerduty_routing_key)
    keys = []
    for raw in wanted:
        key = environ.get(raw.removeprefix("env:"), "") if raw.startswith("env:") else raw
        if key and key not in keys:
            keys.append(key)
        elif not key:
            log.warning("PagerDuty routing key %s is not set in the environment", raw)
    return keys


def page_pagerduty(ctx: JobContext, deps: PagingDeps) -> None:
    page_id, action = int(ctx.payload["page_id"]), PageAction(ctx.payload["action"])
    with ctx.transaction() as uow:
        page = uow.alerts.page(page_id)
        deploy = uow.deploys.get(page.deploy_id) if page else None
        if page is None or deploy is None:
            return
        people = _people(uow, deploy)
        alerts = uow.alerts.for_pages([page_id])
    keys = routing_keys(deps.config, page.service, people, deps.environ)
    summary = _summary(page, deploy, [a.alert.name for a in alerts if a.alert.firing])
    for key in keys:
        event = _event(deps, key, action, page, deploy, summary)
        try:
            deps.pager.send(event)
        except PagerRejected as exc:
            with ctx.transaction() as uow:
                note(
                    uow,
                    deploy.id or 0,
                    ctx.now(),
                    "pagerduty",
                    f"PagerDuty refused the {action.value}: {exc}",
                )
            raise PermanentFailure(str(exc)) from exc
    with ctx.transaction(finish=True) as uow:
        verb = "triggered" if action is PageAction.TRIGGER else f"{action.value}d"
        keys_text = f"{len(keys)} routing key{'s' if len(keys) != 1 else ''}"
        text = f"PagerDuty {verb} ({keys_text}, dedup key {page.dedup_key})"
        note(uow, page.deploy_id, ctx.now(), "pagerduty", text, page=page_id)


def _people(uow: UnitOfWork, deploy: Deploy) -> list[str]:
    assert deploy.id is not None
    roles = {Role.AUTHOR, Role.COAUTHOR, Role.MERGER}
    return [p.ref.person for p in uow.deploys.people(deploy.id) if p.ref.person and p.roles & roles]


def _summary(page: Page, deploy: Deploy, firing: list[str]) -> str:
    names = ", ".join(sorted(set(firing))) or "alert"
    return f"{names} on {page.service} — suspect deploy {deploy.service} {deploy.sha[:7]}: {page.reasons[0]}"


def _event(
    deps: PagingDeps, key: str, action: PageAction, page: Page, deploy: Deploy, summary: str
) -> PageEvent:
    if action is not PageAction.TRIGGER:
        return PageEvent(routing_key=key, action=action, dedup_key=page.dedup_key)
    url = f"{deps.public_url.rstrip('/')}/deploys/{deploy.id}"
    return PageEvent(
        routing_key=key,
        action=action,
        dedup_key=page.dedup_key,
        summary=summary,
        source=f"{page.service}/{deploy.environment}",
        severity=Severity(page.severity),
        timestamp=page.opened_at,
        component=page.service,
        group=deploy.environment,
        event_class="post-deploy regression",
        custom_details={"suspect_deploy": deploy.id, "sha": deploy.sha, "why": page.reasons},
        links=((url, "Deploy in Shepherd"), (f"{url}/compare", "Old vs new")),
        client="Shepherd",
        client_url=url,
    )


def register_jobs(registry: HandlerRegistry, deps: PagingDeps) -> None:
    registry.register(JobKind.PAGE_PAGERDUTY, page_pagerduty, deps)
