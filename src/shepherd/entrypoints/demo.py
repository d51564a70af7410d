"""`shepherd demo`: a demo repository, Shepherd on it, a deploy told to its authors.

The story, in the console (or in Slack when SHEPHERD_SLACK_TOKEN is set): the first deploy
Shepherd sees; the next one with three authors, each told about their own changes; the
rollout 10% → 50% → 100% updating every message in place; a reminder because nobody said
they are watching; Ana pressing "I'm watching"; the watch failing the new version; then an
alert paging the deploy's people, a rollback, and the incident's postmortem draft.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import typer
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from shepherd.domain.config import Policies, PolicyOverrides, ShepherdConfig
from shepherd.entrypoints import demo_history, demo_incident
from shepherd.entrypoints.cli_common import ConfigOpt, fail, load_settings, out, setup_logging
from shepherd.entrypoints.cli_jobs import print_deploy
from shepherd.entrypoints.demo_metrics import DemoMetrics, serve_demo_metrics
from shepherd.entrypoints.demo_repo import build_demo_repo
from shepherd.settings import Settings

EXAMPLE_CONFIG = Path("examples/shepherd.yaml")
DEMO_SERVICE = "checkout"
# Demo timings: a reminder 3 s after the deploy, escalation after 12 s, a look every 2 s.
DEMO_POLICIES = Policies(ack_minutes=0.05, escalate_minutes=0.2, watch_minutes=2, watch_interval_seconds=2)


def demo(
    config: ConfigOpt = None,
    serve: Annotated[bool, typer.Option("--serve", help="keep the service running afterwards")] = False,
    port: Annotated[
        int, typer.Option(help="port (default 8000 with --serve, else any free one)", show_default=False)
    ] = 0,
) -> None:
    """Build a demo repository, start Shepherd on it, and play a deploy through."""
    setup_logging("WARNING")
    settings = load_settings(config)
    if config is None and not settings.given("config") and EXAMPLE_CONFIG.exists():
        settings = settings.model_copy(update={"config": EXAMPLE_CONFIG})
    settings = _demo_settings(settings, port or (8000 if serve else _free_port()))
    loaded = _demo_config(settings.config)
    repo_path = _repo_path(settings.config, loaded)
    shas = build_demo_repo(repo_path)
    metrics, metrics_url = serve_demo_metrics(DemoMetrics(bad_version=shas.second))
    settings = settings.model_copy(update={"prometheus_url": metrics_url})
    server, thread, base = _start(settings, loaded, int(settings.public_url.rsplit(":", 1)[1]))
    client = _client(settings, base)
    out.rule("[bold]1. The first deploy Shepherd sees[/]")
    first = _deploy(client, shas.first)
    _post_event(client, first, "succeeded")
    _settle(client)
    out.rule("[bold]2. The next deploy: each author hears about their own changes[/]")
    second = _deploy(client, shas.second)
    _settle(client)
    out.rule("[bold]3. The rollout moves: every message is updated in place[/]")
    for percent in (10, 50):
        _post_event(client, second, "progressing", percent=percent)
        _settle(client)
    _post_event(client, second, "succeeded")
    _settle(client)
    out.rule("[bold]4. Nobody said they are watching: a reminder (demo: after 3 s)[/]")
    _settle(client, until=lambda: _has(client, second, "reminder"))
    out.rule("[bold]5. Ana presses “I'm watching”: everyone sees it, escalation is off[/]")
    _press(client, settings, second, "shepherd_ack", "U01ANALIMA")
    _settle(client)
    out.rule("[bold]6. The watch: the new version errs 8× as often as the old one[/]")
    _settle(client, until=lambda: _verdict(client, second) in ("fail", "pass", "inconclusive"), timeout=60)
    _settle(client)
    out.print(f"Old vs new, side by side: [bold]{base}/deploys/{second}/compare[/]")
    demo_incident.play(
        client,
        second,
        settle=_settle,
        press=lambda action, user: _press(client, settings, second, action, user),
        data_dir=settings.data_dir,
    )
    out.rule("[bold]10. Three months of history: the delivery metrics (DORA)[/]")
    demo_history.play(client, repo_path, _settle)
    out.rule("[bold]What Shepherd found[/]")
    print_deploy(client.get(f"/api/v1/deploys/{second}").json())
    _where(settings)
    _finish(server, thread, base, serve)
    metrics.shutdown()


def _demo_settings(settings: Settings, port: int) -> Settings:
    # Links in messages point at this demo server; the demo signs its own button press.
    update: dict[str, object] = {"public_url": f"http://127.0.0.1:{port}"}
    if settings.slack_signing_secret is None:
        update["slack_signing_secret"] = SecretStr(secrets.token_hex(16))
    settings = settings.model_copy(update=update)
    # A fresh database per run keeps the story the same each time, unless one is given.
    if settings.given("database_url"):
        return settings
    path = settings.data_dir / "demo.db"
    for leftover in (path, path.with_name("demo.db-wal"), path.with_name("demo.db-shm")):
        leftover.unlink(missing_ok=True)
    return settings.model_copy(update={"database_url": f"sqlite:///{path}"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _demo_config(path: Path) -> ShepherdConfig:
    from shepherd.adapters.config_file import ConfigError, load_config

    try:
        loaded = load_config(path)
    except ConfigError as exc:
        fail(str(exc))
    services = [s.model_copy(update={"policies": PolicyOverrides()}) for s in loaded.services]
    return loaded.model_copy(update={"policies": DEMO_POLICIES, "services": services})


def _repo_path(config_path: Path, config: ShepherdConfig) -> Path:
    service = config.service(DEMO_SERVICE)
    if service is None or "://" in service.repository:
        fail(f"{config_path} has no service {DEMO_SERVICE!r} with a local repository (see examples/)")
    path = (config_path.resolve().parent / service.repository).resolve()
    out.print(
        f"[bold]Demo repository[/] {path}: three authors, a merged PR, a squash PR, a co-authored commit"
    )
    return path


def _start(settings: Settings, config: ShepherdConfig, port: int) -> tuple[Any, threading.Thread, str]:
    import uvicorn

    from shepherd.bootstrap import bootstrap
    from shepherd.entrypoints.web.app import create_app

    shepherd = bootstrap(settings, config=config)
    app = create_app(shepherd, insecure_dev=settings.api_token is None)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            fail("the demo server did not start within 15 s")
        time.sleep(0.02)
    host, bound = server.servers[0].sockets[0].getsockname()[:2]
    base = f"http://{host}:{bound}"
    where = "Slack" if settings.slack_token else "this console (no SHEPHERD_SLACK_TOKEN)"
    out.print(f"Shepherd is listening on {base}; messages go to {where}\n")
    return server, thread, base


def _client(settings: Settings, base: str) -> httpx.Client:
    token = settings.api_token.get_secret_value() if settings.api_token else None
    return httpx.Client(
        base_url=base, timeout=15, headers={"Authorization": f"Bearer {token}"} if token else {}
    )


def _deploy(client: httpx.Client, sha: str) -> int:
    body = {
        "service": DEMO_SERVICE,
        "environment": "production",
        "sha": sha,
        "deployer": "demo",
        "idempotency_key": f"demo-{sha}",
    }
    response = client.post("/api/v1/deploys", json=body)
    if response.status_code >= 400:
        fail(f"demo deploy refused: {response.text}")
    return int(response.json()["id"])


def _post_event(client: httpx.Client, deploy_id: int, status: str, percent: int | None = None) -> None:
    body = {"status": status, "percent": percent, "idempotency_key": f"{status}-{percent}"}
    client.post(f"/api/v1/deploys/{deploy_id}/events", json={k: v for k, v in body.items() if v is not None})


def _settle(client: httpx.Client, until: Any = None, timeout: float = 30) -> None:
    """Wait until the worker has nothing due (and `until` holds), so output stays in order."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        jobs = client.get("/api/v1/jobs?limit=50").json()["jobs"]
        now = time.time()
        busy = any(
            j["state"] == "running" or (j["state"] == "pending" and _epoch(j["run_at"]) <= now) for j in jobs
        )
        if not busy and (until is None or until()):
            return


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _verdict(client: httpx.Client, deploy_id: int) -> str:
    return str(client.get(f"/api/v1/deploys/{deploy_id}/verdict").json()["verdict"])


def _has(client: httpx.Client, deploy_id: int, kind: str) -> bool:
    notifications = client.get(f"/api/v1/deploys/{deploy_id}").json()["notifications"]
    return any(n["kind"] == kind and n["state"] == "sent" for n in notifications)


def _press(client: httpx.Client, settings: Settings, deploy_id: int, action: str, user: str) -> None:
    """What Slack sends when someone presses a button (signed when a secret is set)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "name": "ana"},
        "actions": [{"action_id": action, "value": str(deploy_id)}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if settings.slack_signing_secret is not None:  # always, in the demo (see _demo_settings)
        stamp = str(int(time.time()))
        secret = settings.slack_signing_secret.get_secret_value().encode()
        digest = hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        headers |= {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    response = client.post("/slack/interactions", content=body, headers=headers)
    if response.status_code != 200:
        fail(f"the button press was refused: {response.text}")


def _where(settings: Settings) -> None:
    """The lines that point another terminal's `shepherd` at this demo's database and config."""
    out.print(
        "\nTo ask this demo from another terminal (shepherd incident list, shepherd jobs, "
        "shepherd dora --service checkout), point it at the demo's database and config:"
    )
    # A URL you gave may carry a password: it is shown as ***, to be typed in yourself.
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    out.print(
        f"  export SHEPHERD_DATABASE_URL={database} SHEPHERD_CONFIG={settings.config.resolve()}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _finish(server: Any, thread: threading.Thread, base: str, serve: bool) -> None:
    if serve:
        out.print(
            f"\n[green]Shepherd is running at {base}[/] — open {base}/ (the dashboard), "
            f"{base}/deploys/2 or curl {base}/api/v1/deploys   (Ctrl-C stops it)"
        )
        with contextlib.suppress(KeyboardInterrupt):
            thread.join()
    server.should_exit = True
    thread.join(10)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
