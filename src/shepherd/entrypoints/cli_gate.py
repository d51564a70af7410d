"""`shepherd gate DEPLOY`: wait for a deploy's verdict in a CI pipeline, showing progress."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from shepherd.entrypoints.cli_common import err, fail, server

EXIT = {"pass": 0, "fail": 1, "inconclusive": 2}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h)?$")


def parse_duration(text: str) -> float:
    """`90s`, `30m`, `1h`, or plain seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 30m or 1h")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]


def gate(
    deploy_id: Annotated[int, typer.Argument(help="the id printed by `shepherd deploy start`")],
    timeout: Annotated[str, typer.Option(help="give up after this long (exit 2)")] = "30m",
    pass_after: Annotated[
        str | None,
        typer.Option(help="pass once watched this long with no failure, e.g. 10m (default: the whole watch)"),
    ] = None,
    poll: Annotated[str, typer.Option(help="how often to ask")] = "5s",
) -> None:
    """Exit 0 when the deploy's verdict is pass, 1 on fail, 2 when inconclusive or timed out."""
    limit, every = parse_duration(timeout), parse_duration(poll)
    early = parse_duration(pass_after) if pass_after else None
    url, headers = server()
    deadline = time.monotonic() + limit
    progress = Progress(
        TextColumn("[bold]watch[/]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
    )
    task = progress.add_task("watch", total=100)
    data: dict[str, Any] = {}
    outcome: str | None = None
    # Transient: the live bar goes when the gate ends, so the last thing on screen is the answer.
    with Live(Group(progress), console=err, refresh_per_second=4, transient=True) as live:
        while outcome is None and time.monotonic() < deadline:
            data = _ask(url, deploy_id, headers)
            progress.update(task, completed=_share(data))
            live.update(Group(progress, _table(data)))
            outcome = _outcome(data, early)
            if outcome is None:
                time.sleep(min(every, max(0.0, deadline - time.monotonic())))
    err.print(_table(data))
    if outcome is not None:
        _exit(outcome, data, early=early is not None and data.get("verdict") == "running")
    err.print(f"[yellow]timed out after {timeout}[/]: verdict still {data.get('verdict', 'unknown')}")
    raise typer.Exit(2)


def _ask(url: str, deploy_id: int, headers: dict[str, str]) -> dict[str, Any]:
    try:
        response = httpx.get(f"{url}/api/v1/deploys/{deploy_id}/verdict", headers=headers, timeout=15)
        data: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        err.print(f"[yellow]cannot ask Shepherd at {url} ({exc}); trying again[/]")
        return {"verdict": "running", "reason": "Shepherd unreachable", "checks": []}
    if response.status_code == 401:
        fail(f"Shepherd refused to answer: {data.get('error', {}).get('message', 'a token is needed')}")
    if data.get("deploy_id") is None:
        fail(f"Shepherd knows no deploy {deploy_id}")
    return data


def _outcome(data: dict[str, Any], early: float | None) -> str | None:
    verdict = str(data.get("verdict"))
    if verdict in ("pass", "fail", "inconclusive") and (data.get("finished") or verdict == "fail"):
        return verdict
    if early is not None and verdict == "running" and data.get("started_at") and _watched(data) >= early:
        failing = [c for c in data.get("checks", []) if c.get("outcome") == "fail"]
        return None if failing else "pass"
    return None


def _watched(data: dict[str, Any]) -> float:
    from datetime import UTC, datetime

    started = datetime.fromisoformat(str(data["started_at"]).replace("Z", "+00:00"))
    return (datetime.now(UTC) - started).total_seconds()


def _share(data: dict[str, Any]) -> float:
    if not data.get("started_at") or not data.get("ends_at"):
        return 0.0
    from datetime import datetime

    start = datetime.fromisoformat(str(data["started_at"]).replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(data["ends_at"]).replace("Z", "+00:00"))
    return (
        100.0
        if data.get("finished")
        else min(100.0, 100 * _watched(data) / max(1.0, (end - start).total_seconds()))
    )


def _table(data: dict[str, Any]) -> Table:
    table = Table(
        "check", "outcome", "reason", title=f"verdict: {data.get('verdict')} — {data.get('reason', '')}"
    )
    style = {"pass": "green", "fail": "red", "nodata": "yellow", "inconclusive": "yellow"}
    for check in data.get("checks", []):
        outcome = str(check.get("outcome"))
        table.add_row(
            str(check.get("name")), f"[{style.get(outcome, 'white')}]{outcome}[/]", str(check.get("reason"))
        )
    return table


def _exit(outcome: str, data: dict[str, Any], *, early: bool = False) -> None:
    words = {"pass": "[green]pass[/]", "fail": "[red]fail[/]", "inconclusive": "[yellow]inconclusive[/]"}
    reason = data.get("reason", "")
    if early:  # --pass-after: the watch goes on, but nothing failed in the time asked for
        reason = "watched long enough (--pass-after) with no failing check; Shepherd keeps watching"
    err.print(f"verdict: {words[outcome]} — {reason}")
    raise typer.Exit(EXIT[outcome])


def register(app: typer.Typer) -> None:
    app.command("gate")(gate)
