"""Shepherd's own pages: the dashboard and the pages notifications link to, rendered from templates/."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shepherd.entrypoints.web.deps import Id, ShepherdDep
from shepherd.entrypoints.web.templating import render
from shepherd.services.errors import NotFound
from shepherd.services.queries import verdicts
from shepherd.services.queries.delivery import delivery_health
from shepherd.services.queries.deploys import compare_page, dashboard_rows, deploy_detail

router = APIRouter(include_in_schema=False)
RECENT = 50  # deploys on the dashboard
DEAD_SHOWN = 10  # dead jobs listed above them, newest first


@router.get("/", response_class=HTMLResponse)
def dashboard(shepherd: ShepherdDep) -> HTMLResponse:
    """The newest deploys, each with its rollout status and its watch's verdict: where to start."""
    rows = dashboard_rows(uow_factory=shepherd.uow_factory, limit=RECENT)
    delivery = delivery_health(uow_factory=shepherd.uow_factory, clock=shepherd.clock, dead=DEAD_SHOWN)
    return render("dashboard.html", title="Shepherd: recent deploys", rows=rows, delivery=delivery)


@router.get("/deploys/{deploy_id}", response_class=HTMLResponse)
def deploy_page(deploy_id: Id, shepherd: ShepherdDep) -> HTMLResponse:
    try:
        data = deploy_detail(
            uow_factory=shepherd.uow_factory,
            config=shepherd.config,
            public_url=shepherd.settings.public_url,
            deploy_id=deploy_id,
            now=shepherd.clock(),
        )
    except NotFound:
        return _not_found(deploy_id)
    title = f"Deploy {data['id']}: {data['service']} → {data['environment']} {data['sha'][:12]}"
    return render("deploy.html", title=title, data=data)


@router.get("/deploys/{deploy_id}/compare", response_class=HTMLResponse)
def compare(deploy_id: Id, shepherd: ShepherdDep) -> HTMLResponse:
    """Old and new version side by side, per check: the page every notification links to."""
    try:
        page = compare_page(uow_factory=shepherd.uow_factory, deploy_id=deploy_id)
    except NotFound:
        return _not_found(deploy_id)
    title = f"{page.service} → {page.environment} {page.sha[:12]}: old vs new"
    return render("compare.html", title=title, page=page)


@router.get("/deploys/{deploy_id}/compare/series")
def compare_series(deploy_id: Id, shepherd: ShepherdDep) -> dict[str, Any]:
    """The compare page's data (metric points and the verdict, no people): it follows the pages'
    rule, not the API's, because the page's script cannot carry a token."""
    return verdicts.deploy_series(uow_factory=shepherd.uow_factory, deploy_id=deploy_id)


def _not_found(deploy_id: int) -> HTMLResponse:
    return render(
        "not_found.html", status_code=404, title="Not found", message=f"No deploy with id {deploy_id}."
    )
