"""`shepherd jobs` (what the worker has to do, and what died) and `shepherd deploy show`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from shepherd.domain.jobs import JobState
from shepherd.domain.text import plural
from shepherd.entrypoints.cli_common import ConfigOpt, build, fail, load_settings, out, server
from shepherd.entrypoints.cli_deploy import deploy_app
from shepherd.services.queries.delivery import delivery_health

jobs_app = typer.Typer(
    help="The jobs table: pending, running, done and dead work.", invoke_without_command=True
)


StateOpt = Annotated[str | None, typer.Option(help="pending | running | parked | done | dead")]
LimitOpt = Annotated[int, typer.Option(help="rows")]


@jobs_app.callback()
def jobs(ctx: typer.Context, config: ConfigOpt = None, state: StateOpt = None, limit: LimitOpt = 20) -> None:
    """Counts by state, destinations that are down, and the latest jobs (dead ones first when any)."""
    if ctx.invoked_subcommand is None:
        _show(config, state, limit)


@jobs_app.command("list")
def list_jobs(
    config: ConfigOpt = None,
    state: StateOpt = None,
    dead: Annotated[bool, typer.Option("--dead", help="only the jobs that gave up, with why")] = False,
    limit: LimitOpt = 20,
) -> None:
    """The latest jobs, newest first; `--dead` for the ones that gave up and their reasons."""
    _show(config, "dead" if dead else state, limit)


def _show(config: Path | None, state: str | None, limit: int) -> None:
    shepherd = build(load_settings(config))
    health = delivery_health(uow_factory=shepherd.uow_factory, clock=shepherd.clock)
    with shepherd.uow_factory() as uow:
        if state is None and health.jobs.get("dead"):
            state = "dead"
        rows = uow.jobs.query(state=state, limit=limit)
    out.print("  ".join(f"{s.value}: {health.jobs.get(s.value, 0)}" for s in JobState))
    for d in health.destinations:
        if d.down:
            since = d.down_since.strftime("%H:%M:%S UTC") if d.down_since else "?"
            out.print(
                f"[red]{d.destination} is down[/red] since {since} ({d.last_error}); "
                f"{plural(d.parked, 'job')} waiting, the oldest for {d.oldest_parked_seconds:.0f} s"
            )
    dead = state == "dead"
    columns = ["id", "kind", "state", "attempts", "deploy", "to", "run at"]
    table = Table(*columns, *([] if dead else ["last error"]))
    for job in rows:
        cells = [str(job.id), job.kind, job.state.value, f"{job.attempts}/{job.max_attempts}"]
        cells += [str(job.deploy_id or ""), job.destination or "", job.run_at.strftime("%Y-%m-%d %H:%M:%S")]
        table.add_row(*cells, *([] if dead else [(job.last_error or "")[:80]]))
    out.print(table)
    if dead and rows:  # whole reasons, one a line: a table column would cut them into pieces
        for job in rows:
            out.print(f"job {job.id} ({job.kind}): {job.last_error or 'no reason recorded'}", soft_wrap=True)
        out.print("Run one again with `shepherd jobs retry ID` once its reason is fixed.")


@jobs_app.command("retry")
def retry(job_id: int, config: ConfigOpt = None) -> None:
    """Give a dead job a fresh set of attempts."""
    shepherd = build(load_settings(config))
    with shepherd.uow_factory() as uow:
        revived = uow.jobs.revive(job_id, now=shepherd.clock())
    if not revived:
        fail(f"job {job_id} is not dead (or does not exist)")
    out.print(f"job {job_id} will run again")


@deploy_app.command("show")
def show(deploy_id: int) -> None:
    """A deploy with its changes and people, as a table."""
    url, headers = server()
    try:
        response = httpx.get(f"{url}/api/v1/deploys/{deploy_id}", headers=headers, timeout=15)
    except httpx.HTTPError as exc:
        fail(f"cannot reach Shepherd at {url}: {exc}")
    if response.status_code != 200:
        fail(response.json().get("error", {}).get("message", response.text[:200]))
    print_deploy(response.json())


def print_deploy(data: dict[str, Any]) -> None:
    attribution = data["attribution"]
    out.print(
        f"[bold]Deploy {data['id']}[/]: {data['service']} → {data['environment']} "
        f"[cyan]{data['sha'][:12]}[/]  status [bold]{data['status']}[/]"
        + (f" {data['percent']}%" if data.get("percent") is not None else "")
    )
    state = attribution["state"]
    if state == "attribution_failed":
        out.print(f"[red]attribution failed:[/] {attribution['error']}")
    for note in attribution["notes"]:
        out.print(f"  [yellow]•[/] {note}")
    if attribution["total_changes"] is not None:
        out.print(
            f"  {plural(attribution['total_changes'], 'change')} in "
            f"{plural(attribution['total_commits'], 'commit')}"
            + (f" since {attribution['base_sha'][:12]}" if attribution["base_sha"] else "")
        )
    changes = Table("sha", "PR", "subject", "author(s)", "merged by", "path rules", title="Changes")
    for change in data.get("changes", []):
        authors = ", ".join([change["author"]["name"]] + [c["name"] for c in change["coauthors"]])
        merger = change["merger"]["name"] if change["merger"] else ""
        pr = f"#{change['pr_number']}" if change["pr_number"] else ""
        changes.add_row(
            change["short_sha"], pr, change["subject"][:60], authors, merger, ", ".join(change["path_rules"])
        )
    out.print(changes)
    people = Table("person", "email", "roles", "changes", "merged PRs", "in config", title="People")
    for person in data.get("people", []):
        people.add_row(
            person["name"],
            person["email"],
            ", ".join(person["roles"]),
            str(len(person["changes"])),
            ", ".join(f"#{n}" for n in person["merged_prs"]),
            "yes" if person["person"] else "no",
        )
    out.print(people)


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
