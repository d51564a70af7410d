"""`shepherd deploys import FILE.jsonl`: a history of deploys, for the delivery metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shepherd.entrypoints.cli_common import ConfigOpt, build, err, fail, load_settings, out
from shepherd.services.backfill import attribute_now, import_history, read_history
from shepherd.services.errors import ShepherdError

deploys_app = typer.Typer(no_args_is_help=True, help="Deploys in bulk: import a history.")


@deploys_app.command("import")
def import_deploys(
    file: Annotated[Path, typer.Argument(help="JSON Lines: one deploy per line (docs/delivery.md)")],
    config: ConfigOpt = None,
) -> None:
    """Record past deploys (oldest first) and attribute them, so `shepherd dora` has their history.

    Each line: service, environment, sha, status, started_at, and optionally previous_sha,
    finished_at, idempotency_key. Nobody is messaged and nothing is watched. Running it twice
    records each deploy once.
    """
    if not file.is_file():
        fail(f"{file}: no such file")
    shepherd = build(load_settings(config))
    try:
        with file.open(encoding="utf-8") as lines:
            history = read_history(lines, config=shepherd.config)
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    except ShepherdError as exc:
        fail(f"{file}: {exc}")
    if not history:
        fail(f"{file}: no deploys in it")
    with _bar() as bar:
        task = bar.add_task("recording", total=len(history))
        imported = import_history(
            history,
            uow_factory=shepherd.uow_factory,
            config=shepherd.config,
            clock=shepherd.clock,
            progress=lambda n: bar.advance(task, n),
        )
        task = bar.add_task("attributing", total=len(imported.deploy_ids))
        attribute_now(imported.deploy_ids, runner=shepherd.runner, progress=lambda n: bar.advance(task, n))
    again = len(imported.deploy_ids) - imported.created
    out.print(
        f"{imported.created:,} deploys imported"
        + (f", {again:,} already there (same key)" if again else "")
        + f"; oldest {history[0].started_at:%Y-%m-%d}, newest {history[-1].started_at:%Y-%m-%d}."
        + " See them with `shepherd dora`."
    )


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(deploys_app, name="deploys")
