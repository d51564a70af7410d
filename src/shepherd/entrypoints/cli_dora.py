"""`shepherd dora`: the five delivery keys for a service or a team, from the database."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from shepherd.domain.delivery import KEYS, Key
from shepherd.domain.text import figure, hours_words, percent
from shepherd.entrypoints.cli_common import ConfigOpt, build, fail, load_settings, out
from shepherd.services.errors import ShepherdError
from shepherd.services.queries.dora import delivery_report, question

Format = Literal["table", "json"]


def dora(
    config: ConfigOpt = None,
    service: Annotated[str | None, typer.Option(help="one service")] = None,
    team: Annotated[
        str | None, typer.Option(help="a team's services together (teams: in shepherd.yaml)")
    ] = None,
    environment: Annotated[
        str | None, typer.Option(help="default: the service's production environment")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="first day (2026-09-01) or ISO time; default 30 days ago")
    ] = None,
    until: Annotated[str | None, typer.Option(help="end, excluded; default now")] = None,
    group_by: Annotated[str | None, typer.Option("--group-by", help="week | month: one row each")] = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Deployment frequency, lead time, change failure rate, recovery time and rework (docs/delivery.md)."""
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    if group_by not in (None, "week", "month"):
        fail(f"--group-by must be week or month, not {group_by!r}")
    shepherd = build(load_settings(config))
    try:
        scope, start, end = question(
            shepherd.config,
            service=service,
            team=team,
            environment=environment,
            since=since,
            until=until,
            now=shepherd.clock(),
        )
        report = delivery_report(
            scope=scope,
            since=start,
            until=end,
            uow_factory=shepherd.uow_factory,
            clock=shepherd.clock,
            group_by=group_by,  # type: ignore[arg-type]
        )
    except ShepherdError as exc:
        fail(str(exc))
    if format == "json":
        print(json.dumps(report, indent=2))
        return
    out.print(_title(report))
    out.print(keys_table(report))
    if report.get("groups"):
        out.print(groups_table(report["groups"]))
    if report["failed_deploys"]:
        out.print(failures_table(report["failed_deploys"]))


def _title(r: dict[str, Any]) -> str:
    who = r["service"] or (f"team {r['team']}" if r["team"] else "all services")
    span = f"{r['since'][:10]} to {r['until'][:10]}"
    return f"[bold]{who}[/] → {r['environment']}, {span} (trends: against the period before, as long)"


def keys_table(r: dict[str, Any]) -> Table:
    table = Table("key", "value", "band", "trend", "what it rests on")
    for key in KEYS:
        table.add_row(
            key.label, key.words(key.value(r)), key.band(r) or "", _trend(key.trend(r)), _rests_on(key, r)
        )
    table.add_row("batch size, median", figure(r["batch_size"]["median_changes"]), "", "", "changes a deploy")
    return table


def _rests_on(key: Key, r: dict[str, Any]) -> str:
    """What a key's figure is made of, so a surprising one can be checked."""
    freq, lead, cfr = r["deployment_frequency"], r["lead_time"], r["change_failure_rate"]
    recovery, rework = r["recovery_time"], r["rework_rate"]
    return {
        "deployment_frequency": f"{freq['deploys']} to production on {r['deploy_days']} days",
        "lead_time": f"{lead['changes']} changes; p90 {hours_words(lead['p90_hours'])}",
        "change_failure_rate": f"{cfr['failed']} of {r['deploys']} deploys",
        "recovery_time": f"{recovery['recoveries']} recovered, {recovery['open']} still open",
        "rework_rate": f"{rework['rework']} of {r['deploys']} deploys were rollbacks or fixes",
    }[key.section]


def groups_table(groups: list[dict[str, Any]]) -> Table:
    table = Table("from", "deploys", "a day", "lead time", "failure rate", "recovery")
    for g in groups:
        table.add_row(
            g["since"][:10],
            str(g["deploys"]),
            figure(g["deployment_frequency"]["per_day"]),
            hours_words(g["lead_time"]["median_hours"]),
            percent(g["change_failure_rate"]["rate"]),
            hours_words(g["recovery_time"]["median_hours"]),
        )
    return table


def failures_table(failed: list[dict[str, Any]]) -> Table:
    table = Table("deploy", "sha", "why it counts as failed", "recovered")
    for f in failed:
        recovered = (
            f"by #{f['recovered_by']} in {hours_words(f['recovery_hours'])}" if f["recovered_by"] else "open"
        )
        table.add_row(f"#{f['id']}", f["sha"][:7], f["why"], recovered)
    return table


def _trend(moved: tuple[int, bool] | None) -> str:
    if moved is None:
        return ""
    direction, better = moved
    if direction == 0:
        return "→"
    arrow = "↑" if direction > 0 else "↓"
    return f"[green]{arrow}[/]" if better else f"[red]{arrow}[/]"


def register(app: typer.Typer) -> None:
    app.command("dora")(dora)
