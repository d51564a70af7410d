"""Shepherd's own pages: the dashboard and the pages notifications link to. Plain server-rendered HTML."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shepherd.domain.deploys import Deploy
from shepherd.domain.watch import Watch
from shepherd.entrypoints.web.api import get_deploy
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.errors import NotFound

router = APIRouter(include_in_schema=False)
RECENT = 50  # deploys on the dashboard

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d1c1d}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
code{background:#f4f4f4;padding:0 .25rem}.status{font-weight:600}.note{color:#7a5b00}
.failed,.attribution_failed{color:#b00020}.succeeded,.sent{color:#1a7f37}
.check{margin:1.5rem 0}.check h2{margin-bottom:.2rem}.reason{margin-top:0;color:#444}
.verdict{font-weight:600}.fail h2,.verdict.fail{color:#b00020}.pass h2,.verdict.pass{color:#1a7f37}
.inconclusive h2,.nodata h2,.verdict.inconclusive{color:#8a6d00}.verdict.running{color:#555}
"""


@router.get("/", response_class=HTMLResponse)
def dashboard(shepherd: ShepherdDep) -> HTMLResponse:
    """The newest deploys, each with its rollout status and its watch's verdict: where to start."""
    with shepherd.uow_factory() as uow:
        deploys = uow.deploys.query(limit=RECENT)
        watches = {d.id: uow.watches.get(d.id) for d in deploys if d.id is not None}
    if not deploys:
        hint = (
            "<p>No deploys yet. Tell Shepherd when one starts: <code>shepherd deploy start --service S "
            "--environment E --sha SHA</code>, or <code>POST /api/v1/deploys</code> (see the README).</p>"
        )
        return HTMLResponse(_page("Shepherd: recent deploys", hint))
    rows = [_dashboard_row(d, watches.get(d.id or 0)) for d in deploys]
    headers = ["started (UTC)", "service → environment", "deploy", "status", "watch", "changes", ""]
    body = _table(headers, rows) + "<p><small>JSON: <a href='/api/v1/deploys'>/api/v1/deploys</a></small></p>"
    return HTMLResponse(_page("Shepherd: recent deploys", body))


def _dashboard_row(deploy: Deploy, watch: Watch | None) -> list[str]:
    status = deploy.status.value + (f" {deploy.percent}%" if deploy.percent is not None else "")
    verdict = watch.verdict.value if watch is not None else ""
    reason = escape(watch.reason) if watch is not None else ""
    label = escape(deploy.version or deploy.sha[:12])
    return [
        escape(deploy.started_at.strftime("%Y-%m-%d %H:%M")),
        escape(f"{deploy.service} → {deploy.environment}"),
        f"<a href='/deploys/{deploy.id}'>{label}</a>",
        f"<span class='status {escape(deploy.status.value)}'>{escape(status)}</span>",
        f"<span class='verdict {escape(verdict)}' title='{reason}'>{escape(verdict or '—')}</span>",
        escape(str(deploy.total_changes if deploy.total_changes is not None else "")),
        f"<a href='/deploys/{deploy.id}/compare'>old vs new</a>" if watch is not None else "",
    ]


@router.get("/deploys/{deploy_id}", response_class=HTMLResponse)
def deploy_page(deploy_id: int, shepherd: ShepherdDep) -> HTMLResponse:
    try:
        data = get_deploy(deploy_id, shepherd)
    except NotFound:
        return HTMLResponse(_page("Not found", f"<p>No deploy with id {deploy_id}.</p>"), status_code=404)
    return HTMLResponse(_page(_title(data), _body(data)))


@router.get("/deploys/{deploy_id}/compare", response_class=HTMLResponse)
def compare_page(deploy_id: int, shepherd: ShepherdDep) -> HTMLResponse:
    """Old and new version side by side, per check: the page every notification links to."""
    with shepherd.uow_factory() as uow:
        deploy = uow.deploys.get(deploy_id)
    if deploy is None:
        return HTMLResponse(_page("Not found", f"<p>No deploy with id {deploy_id}.</p>"), status_code=404)
    title = f"{deploy.service} → {deploy.environment} {deploy.sha[:12]}: old vs new"
    body = (
        f"<p><a href='/deploys/{deploy_id}'>Deploy {deploy_id}</a> · what changed, who, and what to watch</p>"
        "<p id='verdict' class='verdict'>Loading…</p>"
        f"<div id='checks' data-deploy='{deploy_id}'></div>"
        "<script src='/static/vendor/uplot/uPlot.iife.min.js'></script>"
        "<script src='/static/compare.js'></script>"
    )
    head = "<link rel='stylesheet' href='/static/vendor/uplot/uPlot.min.css'>"
    return HTMLResponse(_page(title, body, head=head))


def _title(data: dict[str, Any]) -> str:
    return f"Deploy {data['id']}: {data['service']} → {data['environment']} {data['sha'][:12]}"


def _page(title: str, body: str, *, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} · Shepherd</title>"
        f"{head}<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _body(data: dict[str, Any]) -> str:
    attribution = data["attribution"]
    status = f"{data['status']}" + (f" {data['percent']}%" if data.get("percent") is not None else "")
    parts = [f"<p class='status {escape(data['status'])}'>Status: {escape(status)}</p>"]
    if attribution["error"]:
        parts.append(f"<p class='attribution_failed'>Attribution failed: {escape(attribution['error'])}</p>")
    parts += [f"<p class='note'>{escape(note)}</p>" for note in attribution["notes"]]
    parts += [
        f"<p class='failed'>⚠️ {escape(r['name'])} says something is wrong ({escape(r['at'] or '')})</p>"
        for r in data.get("reports", [])
    ]
    parts += [f"<h2>Changes ({attribution['total_changes'] or 0})</h2>", _changes(data)]
    parts += ["<h2>People</h2>", _people(data), "<h2 id='watch'>What to watch</h2>", _watch(data)]
    parts += ["<h2>Notifications</h2>", _notifications(data), "<h2>Watching</h2>", _acks(data)]
    parts += ["<h2>Timeline</h2>", _timeline(data)]
    return "".join(parts)


def _changes(data: dict[str, Any]) -> str:
    rows = [
        [
            f"<code>{escape(c['short_sha'])}</code>",
            f"#{c['pr_number']}" if c["pr_number"] else "",
            escape(c["subject"]),
            escape(", ".join([c["author"]["name"]] + [x["name"] for x in c["coauthors"]])),
            escape(c["merger"]["name"] if c["merger"] else ""),
            escape(", ".join(c["path_rules"])),
        ]
        for c in data["changes"]
    ]
    return _table(["sha", "PR", "subject", "author(s)", "merged by", "path rules"], rows)


def _people(data: dict[str, Any]) -> str:
    rows = [
        [escape(p["name"]), escape(p["email"]), escape(", ".join(p["roles"])), str(len(p["changes"]))]
        for p in data["people"]
    ]
    return _table(["person", "email", "roles", "changes"], rows)


def _notifications(data: dict[str, Any]) -> str:
    rows = [
        [
            escape(n["kind"]),
            escape(n["person"] or n["target"]),
            f"<span class='{escape(n['state'])}'>{escape(n['state'])}</span>",
            escape(n["error"] or ""),
        ]
        for n in data["notifications"]
    ]
    return _table(["kind", "to", "state", "error"], rows)


def _acks(data: dict[str, Any]) -> str:
    return _table(["who", "since"], [[escape(a["name"]), escape(a["at"] or "")] for a in data["acks"]])


def _timeline(data: dict[str, Any]) -> str:
    rows = [
        [
            escape(e["occurred_at"] or ""),
            escape(e["status"]),
            escape(str(e["percent"] if e["percent"] is not None else "")),
            escape(e["stage"] or ""),
            "" if e["applied"] else "late / duplicate",
        ]
        for e in data["events"]
    ]
    return _table(["at", "status", "%", "stage", ""], rows)


def _watch(data: dict[str, Any]) -> str:
    guides = data.get("guides") or []
    if not guides:
        return "<p>No guides configured for this service (see <code>guides</code> in shepherd.yaml).</p>"
    items = [
        f"<li><a href='{escape(g['url'])}'>{escape(g['title'])}</a> <small>{escape(g['kind'])}</small></li>"
        for g in guides
    ]
    return "<ul>" + "".join(items) + "</ul>"
