"""`shepherd`: serve, worker, db, config, deploy (CI client), jobs, demo."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated

import typer

from shepherd.adapters.config_file import ConfigError, load_config
from shepherd.domain.text import plural
from shepherd.entrypoints import (
    cli_deploy,
    cli_deploys,
    cli_dora,
    cli_gate,
    cli_jobs,
    cli_judge,
    cli_rollback,
    demo,
)
from shepherd.entrypoints.cli_common import (
    ConfigOpt,
    build,
    err,
    fail,
    load_settings,
    out,
    report_config_error,
    setup_logging,
)
from shepherd.entrypoints.cli_incident import register as register_incident

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Shepherd: deploys find their authors.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
config_app = typer.Typer(no_args_is_help=True, help="shepherd.yaml.")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(config: ConfigOpt = None) -> None:
    """Validate shepherd.yaml; every problem is reported with its location."""
    settings = load_settings(config)
    try:
        loaded = load_config(settings.config)
    except ConfigError as exc:
        report_config_error(exc)
    names = ", ".join(s.name for s in loaded.services) or "none"
    out.print(
        f"[green]✓[/] {settings.config}: {plural(len(loaded.services), 'service')} ({names}), "
        f"{plural(len(loaded.people), 'person', 'people')}"
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to this version."""
    from shepherd.adapters.db import migrate
    from shepherd.adapters.db.engine import build_engine

    settings = load_settings()
    engine = build_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        out.print(f"[green]✓[/] database at revision {migrate.current_revision(engine)}")
    except Exception as exc:
        fail(f"could not upgrade the database: {exc}")
    finally:
        engine.dispose()


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    insecure_dev: Annotated[
        bool, typer.Option("--insecure-dev", help="accept writes without a token")
    ] = False,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="run jobs in `shepherd worker` only")
    ] = False,
) -> None:
    """The web service with its embedded worker."""
    import uvicorn

    from shepherd.entrypoints.web.app import create_app

    setup_logging()
    settings = load_settings(config)
    shepherd = build(settings)
    if settings.api_token is None and not insecure_dev:
        err.print("[yellow]SHEPHERD_API_TOKEN is not set: API writes will be refused.[/]")
    app_ = create_app(shepherd, insecure_dev=insecure_dev, embedded_worker=not no_worker)
    uvicorn.run(app_, host=host, port=port, log_level="info")


@app.command()
def worker(
    config: ConfigOpt = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=64, help="worker threads (PostgreSQL; SQLite runs one)")
    ] = None,
) -> None:
    """A standalone worker: runs jobs until stopped (Ctrl-C / SIGTERM)."""
    import signal
    import threading

    setup_logging()
    settings = load_settings(config)
    shepherd = build(settings)
    running = shepherd.worker(concurrency=concurrency)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    running.start()
    threads = shepherd.worker_concurrency(concurrency)
    err.print(f"worker started ({plural(threads, 'thread')}, {shepherd.engine.dialect.name})")
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(0.5):
            pass
    # One line a tired operator reads: what happens to the work in hand.
    err.print(
        "stopping: jobs in hand finish (up to 10 s); any still running then "
        "go back to the queue when their lease ends"
    )
    running.stop()
    err.print(f"worker stopped after {plural(running.processed, 'job')}")


cli_deploy.register(app)
cli_gate.register(app)
cli_rollback.register(app)
cli_judge.register(app)
cli_jobs.register(app)
cli_dora.register(app)
cli_deploys.register(app)
register_incident(app)
demo.register(app)


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        sys.exit(1)
