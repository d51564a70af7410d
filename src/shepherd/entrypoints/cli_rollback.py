"""`shepherd rollback DEPLOY`: run a service's configured rollback through the Shepherd API."""

from __future__ import annotations

import getpass
import os
import time
from typing import Annotated, Any

import httpx
import typer

from shepherd.entrypoints.cli_common import err, fail, server
from shepherd.entrypoints.cli_deploy import _result, post
from shepherd.entrypoints.cli_gate import parse_duration

EXIT = {"succeeded": 0, "failed": 1}


def rollback(
    deploy_id: Annotated[int, typer.Argument(help="the deploy to roll back (its id)")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="wait until it finished and show its output")] = False,
    timeout: Annotated[str, typer.Option(help="with --wait: give up after this long (exit 2)")] = "30m",
    requested_by: Annotated[
        str | None, typer.Option(help="who asks, for the timeline (default: $USER)")
    ] = None,
) -> None:
    """Roll a deploy back with its service's `rollback:` command or webhook (runs once)."""
    deploy = _get(f"/api/v1/deploys/{deploy_id}")
    target = (deploy.get("attribution") or {}).get("base_sha") or deploy.get("previous_sha")
    where = f"{deploy.get('service')} {deploy.get('environment')}"
    if not yes:
        question = f"Roll back {where} to {target[:7]}?" if target else f"Roll back {where}?"
        if not typer.confirm(question, default=False, err=True):
            err.print("not rolled back")
            raise typer.Exit(1)
    who = requested_by or os.environ.get("USER") or _login()
    data = post(f"/api/v1/deploys/{deploy_id}/rollback", {"requested_by": who, "via": "cli"})
    rb = data["rollback"]
    if data.get("created"):
        err.print(f"rollback #{rb['id']} of {where} requested by {who}: the worker runs it next")
    else:
        err.print(
            f"rollback #{rb['id']} was already {rb['state']} (requested by {rb['requested_by']}): "
            "not starting another"
        )
    if not wait:
        return
    deadline = time.monotonic() + parse_duration(timeout)
    while rb["state"] in ("requested", "running"):
        if time.monotonic() > deadline:
            err.print(f"[yellow]timed out after {timeout}[/]: rollback #{rb['id']} is still {rb['state']}")
            raise typer.Exit(2)
        time.sleep(1)
        rb = _find(deploy_id, int(rb["id"])) or rb
    if rb.get("output"):
        print(rb["output"].rstrip())
    code = f" (exit code {rb['exit_code']})" if rb.get("exit_code") is not None else ""
    colour = "green" if rb["state"] == "succeeded" else "red"
    err.print(f"[{colour}]rollback #{rb['id']} {rb['state']}[/]{code}", highlight=False)
    if rb["state"] == "succeeded":
        err.print("the deploy shows rolled_back once the rollback's own deploy event arrives")
    raise typer.Exit(EXIT.get(rb["state"], 1))


def _find(deploy_id: int, rollback_id: int) -> dict[str, Any] | None:
    data = _get(f"/api/v1/deploys/{deploy_id}/rollbacks", retry=True)
    return next((r for r in data.get("rollbacks", []) if r.get("id") == rollback_id), None)


def _get(path: str, *, retry: bool = False) -> dict[str, Any]:
    url, headers = server()
    try:
        response = httpx.get(f"{url}{path}", headers=headers, timeout=15)
    except httpx.HTTPError as exc:
        if retry:
            err.print(f"[yellow]cannot reach Shepherd at {url} ({exc}); trying again[/]")
            return {}
        fail(f"cannot reach Shepherd at {url} ({exc.__class__.__name__}: {exc}); set SHEPHERD_URL?")
    if response.status_code >= 500 and retry:
        return {}
    return _result(response)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def register(app: typer.Typer) -> None:
    app.command("rollback")(rollback)
