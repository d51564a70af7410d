"""`shepherd deploys import FILE.jsonl`: a history of deploys, for the delivery metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shepherd.adapters.github_api import GithubApi
from shepherd.adapters.inbound.github_deployments import import_lines
from shepherd.entrypoints.cli_common import ConfigOpt, build, err, fail, load_settings, out
from shepherd.services.backfill import attribute_now, import_history, read_history
from shepherd.services.errors import ShepherdError

if TYPE_CHECKING:
    from shepherd.bootstrap import Shepherd

deploys_app = typer.Typer(no_args_is_help=True, help="Deploys in bulk: import a history.")


@deploys_app.command("import")
def import_deploys(
    file: Annotated[
        Path | None, typer.Argument(help="JSON Lines: one deploy per line (docs/delivery.md)")
    ] = None,
    github: Annotated[
        str | None, typer.Option(help="OWNER/REPO: read its GitHub deployments instead of a file")
    ] = None,
    environment: Annotated[str, typer.Option(help="with --github: the environment")] = "production",
    service: Annotated[
        str | None, typer.Option(help="with --github: when several services share the repo")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Record past deploys (oldest first) and attribute them, so `shepherd dora` has their history.

    From a file, each line: service, environment, sha, status, started_at, and optionally
    previous_sha, finished_at, idempotency_key. With --github, from GitHub's Deployments API
    (SHEPHERD_GITHUB_TOKEN, SHEPHERD_GITHUB_API_URL). Nobody is messaged and nothing is watched.
    Running it twice records each deploy once.
    """
    if (file is None) == (github is None):
        fail("give a FILE or --github OWNER/REPO (one of them)")
    shepherd = build(load_settings(config))
    lines = _github_lines(shepherd, github, environment, service) if github else _file_lines(file)
    try:
        history = read_history(lines, config=shepherd.config)
    except ShepherdError as exc:
        fail(f"{github or file}: {exc}")
    if not history:
        fail(f"{github or file}: no deploys in it")
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


def _file_lines(file: Path | None) -> list[str]:
    assert file is not None
    if not file.is_file():
        fail(f"{file}: no such file")
    try:
        return file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})")


def _github_lines(shepherd: Shepherd, repo: str | None, environment: str, service: str | None) -> list[str]:
    assert repo is not None
    settings = shepherd.settings.github
    if settings.token is None:
        fail("--github needs SHEPHERD_GITHUB_TOKEN (a token that can read the repository's deployments)")
    matching = [s.name for s in shepherd.config.services_for_github_repo(repo)]
    if service is None and len(matching) != 1:
        known = ", ".join(matching) or "none"
        fail(f"{repo}: give --service (services with github_repository {repo}: {known})")
    name = service or matching[0]
    api = GithubApi(base_url=settings.api_url, token=settings.token.get_secret_value())
    try:
        deployments = api.deployments(repo, environment)
        statuses = {int(d["id"]): api.statuses(repo, int(d["id"])) for d in deployments}
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"GitHub did not give the deployments of {repo}: {exc}")
    finally:
        api.close()
    err.print(f"GitHub: {len(deployments):,} deployments of {repo} to {environment}", highlight=False)
    return [
        json.dumps(line)
        for line in import_lines(deployments, statuses, service=name, environment=environment)
    ]


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
