"""`shepherd dora`: the five delivery keys for a service or a team, from the database."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from shepherd.domain.text import figure, hours_words, percent
from shepherd.entrypoints.cli_common import ConfigOpt, build, fail, load_settings, out
from shepherd.services.errors import ShepherdError
from shepherd.services.queries.dora import delivery_report, parse_when, period_of, scope_of

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
        scope = scope_of(shepherd.config, service=service, team=team, environment=environment)
        start, end = period_of(
            since=parse_when(since, "--since"), until=parse_when(until, "--until"), now=shepherd.clock()
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
    p = r["previous"]
    table = Table("key", "value", "band", "trend", "what it rests on")
    rows = [
        (
            "deploys a day",
            figure(r["deployment_frequency"]["per_day"]),
            r["deployment_frequency"]["band"],
            _trend(
                r["deployment_frequency"]["per_day"], p["deployment_frequency"]["per_day"], up_is_good=True
            ),
            f"{r['deployment_frequency']['deploys']} to production on {r['deploy_days']} days",
        ),
        (
            "lead time, median",
            hours_words(r["lead_time"]["median_hours"]),
            r["lead_time"]["band"],
            _trend(r["lead_time"]["median_hours"], p["lead_time"]["median_hours"], up_is_good=False),
            f"{r['lead_time']['changes']} changes; p90 {hours_words(r['lead_time']['p90_hours'])}",
        ),
        (
            "change failure rate",
            percent(r["change_failure_rate"]["rate"]),
            r["change_failure_rate"]["band"],
            _trend(r["change_failure_rate"]["rate"], p["change_failure_rate"]["rate"], up_is_good=False),
            f"{r['change_failure_rate']['failed']} of {r['deploys']} deploys",
        ),
        (
            "recovery time, median",
            hours_words(r["recovery_time"]["median_hours"]),
            r["recovery_time"]["band"],
            _trend(r["recovery_time"]["median_hours"], p["recovery_time"]["median_hours"], up_is_good=False),
            f"{r['recovery_time']['recoveries']} recovered, {r['recovery_time']['open']} still open",
        ),
        (
            "rework rate",
            percent(r["rework_rate"]["rate"]),
            "",
            _trend(r["rework_rate"]["rate"], p["rework_rate"]["rate"], up_is_good=False),
            f"{r['rework_rate']['rework']} of {r['deploys']} deploys were rollbacks or fixes",
        ),
        ("batch size, median", figure(r["batch_size"]["median_changes"]), "", "", "changes a deploy"),
    ]
    for row in rows:
        table.add_row(*(x or "" for x in row))
    return table


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


def _trend(now: float | None, before: float | None, *, up_is_good: bool) -> str:
    if now is None or before is None or now == before:
        return "→" if now is not None and now == before else ""
    better = (now > before) == up_is_good
    arrow = "↑" if now > before else "↓"
    return f"[green]{arrow}[/]" if better else f"[red]{arrow}[/]"


def register(app: typer.Typer) -> None:
    app.command("dora")(dora)
