"""`shepherd incident list|show|export|link`: incidents straight from the database."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shepherd.domain.incidents import IncidentStory, detection, impact_window, render_markdown, timeline
from shepherd.entrypoints.cli_common import ConfigOpt, build, err, fail, load_settings, out
from shepherd.services.errors import NotFound
from shepherd.services.incidents import link_cause
from shepherd.services.queries.incidents import load_story

if TYPE_CHECKING:
    from shepherd.bootstrap import Shepherd

incident_app = typer.Typer(no_args_is_help=True, help="Incidents: list, timeline, postmortem draft.")

TIME = "%Y-%m-%d %H:%M:%S"


@incident_app.command("list")
def list_incidents(
    config: ConfigOpt = None,
    state: Annotated[str | None, typer.Option(help="open | resolved")] = None,
    service: Annotated[str | None, typer.Option(help="only this service")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="rows")] = 20,
) -> None:
    """Incidents, newest first."""
    if state not in (None, "open", "resolved"):
        fail(f"--state must be open or resolved, not {state!r}")
    shepherd = build(load_settings(config))
    with shepherd.uow_factory() as uow:
        incidents = uow.incidents.query(state=state, service=service, limit=limit)
    columns = ("id", "state", "service", "env", "deploy", "trigger", "opened UTC", "resolved UTC", "title")
    table = Table(*columns)
    for incident in incidents:
        table.add_row(
            str(incident.id),
            incident.state.value,
            incident.service,
            incident.environment,
            str(incident.deploy_id),
            incident.trigger,
            incident.opened_at.strftime(TIME),
            incident.resolved_at.strftime(TIME) if incident.resolved_at else "",
            incident.title,
        )
    out.print(table if incidents else "no incidents")


@incident_app.command("show")
def show(
    incident_id: Annotated[int, typer.Argument(help="the incident's id")], config: ConfigOpt = None
) -> None:
    """An incident: detection times and its timeline."""
    shepherd = build(load_settings(config))
    story = _story(shepherd, incident_id)
    incident, deploy = story.incident, story.deploy
    colour = "red" if incident.state.value == "open" else "green"
    out.print(
        f"[bold]Incident #{incident.id}[/]: {incident.title}  [{colour}]{incident.state.value}[/]",
        highlight=False,
    )
    out.print(
        f"  {incident.service} → {incident.environment}, deploy {deploy.id} [cyan]{deploy.sha[:12]}[/]"
        + (f"  resolution: {incident.resolution}" if incident.resolution else ""),
        highlight=False,
    )
    found, window = detection(story), impact_window(story)
    minutes = window.minutes(shepherd.clock())
    out.print(f"  impact: {minutes:g} min" + (" (ongoing)" if window.end is None else ""), highlight=False)
    steps = [
        f"onset {found.onset.strftime(TIME)}",
        f"first alert +{found.onset_to_alert:g} min ({found.first_alert_what})"
        if found.onset_to_alert is not None
        else "no alert",
        f"first ack +{found.onset_to_ack:g} min ({found.first_ack_by})"
        if found.onset_to_ack is not None
        else "no ack after the first alert",
    ]
    out.print("  detection: " + " → ".join(steps), highlight=False)
    table = Table("time (UTC)", "kind", "what", title="Timeline")
    for moment in timeline(story):
        table.add_row(moment.at.strftime(TIME), moment.kind, moment.text)
    out.print(table)


@incident_app.command("export")
def export(
    incident_id: Annotated[int, typer.Argument(help="the incident's id")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """A postmortem draft in Markdown, filled in from Shepherd's records."""
    shepherd = build(load_settings(config))
    story = _story(shepherd, incident_id)
    markdown = render_markdown(story, shepherd.clock())
    if output is None:
        sys.stdout.write(markdown)
        sys.stdout.flush()
        return
    try:
        output.write_text(markdown, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")
    err.print(f"postmortem draft of incident #{incident_id} written to {output}", highlight=False)


@incident_app.command("link")
def link(
    incident_id: Annotated[int, typer.Argument(help="the incident's id")],
    deploy_id: Annotated[int, typer.Argument(help="the deploy that caused it")],
    by: Annotated[str, typer.Option(help="who says so (default: $USER)")] = "",
    config: ConfigOpt = None,
) -> None:
    """Name the deploy that caused an incident; delivery metrics count it as failed."""
    shepherd = build(load_settings(config))
    who = by or os.environ.get("USER") or "someone at a terminal"
    try:
        link_cause(
            incident_id, deploy_id=deploy_id, by=who, uow_factory=shepherd.uow_factory, clock=shepherd.clock
        )
    except NotFound as exc:
        fail(str(exc))
    out.print(f"incident #{incident_id}: caused by deploy #{deploy_id} (said by {who})")


def _story(shepherd: Shepherd, incident_id: int) -> IncidentStory:
    with shepherd.uow_factory() as uow:
        story = load_story(uow, incident_id)
    if story is None:
        fail(f"no incident with id {incident_id} (see `shepherd incident list`)")
    return story


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
