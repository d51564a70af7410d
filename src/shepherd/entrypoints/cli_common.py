"""What every `shepherd` subcommand shares: settings, building the app, messages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from shepherd.adapters.config_file import ConfigError
from shepherd.settings import Settings

if TYPE_CHECKING:
    from shepherd.bootstrap import Shepherd

err = Console(stderr=True, soft_wrap=True)  # messages stay greppable in CI logs
out = Console()

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="shepherd.yaml (default $SHEPHERD_CONFIG)")
]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print("[bold red]error:[/] ", end="", highlight=False)
    err.print(message, highlight=False, markup=False)
    raise typer.Exit(code)


def _setting_problem(loc: tuple[object, ...], message: str) -> str:
    # A check across settings (e.g. a Datadog key without its app key) has no field of its own.
    message = message.removeprefix("Value error, ")
    if not loc:
        return message
    return f"SHEPHERD_{'_'.join(str(p) for p in loc).upper()}: {message}"


def load_settings(config: Path | None = None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        lines = [_setting_problem(e["loc"], e["msg"]) for e in exc.errors()]
        fail("bad environment settings:\n  " + "\n  ".join(lines))
    if config is not None:
        settings = settings.model_copy(update={"config": config})
    return settings


def report_config_error(exc: ConfigError) -> NoReturn:
    err.print(f"[bold red]{exc.source}[/]: {len(exc.problems)} problem(s)", highlight=False)
    for problem in exc.problems:
        err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(1)


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def build(settings: Settings, *, upgrade: bool | None = None) -> Shepherd:
    """The app from settings; config and database problems end the command with a message."""
    from shepherd.bootstrap import DatabaseNotReady, bootstrap

    try:
        return bootstrap(settings, upgrade_database=upgrade)
    except ConfigError as exc:
        report_config_error(exc)
    except DatabaseNotReady as exc:
        fail(str(exc))


def server() -> tuple[str, dict[str, str]]:
    """Where a running Shepherd is (SHEPHERD_URL) and the headers to reach it: the API token,
    else the read token (enough for `gate` and `deploy show`)."""
    settings = load_settings()
    headers = {"User-Agent": "shepherd-cli"}
    token = settings.api_token or settings.read_token
    if token is not None:
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    return settings.url.rstrip("/"), headers
