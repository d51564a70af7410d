"""`shepherd demo`: a demo repository, the service, two deploys, and what Shepherd found."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from shepherd.entrypoints.cli_common import ConfigOpt, build, fail, load_settings, out, setup_logging
from shepherd.entrypoints.cli_jobs import print_deploy
from shepherd.entrypoints.demo_repo import build_demo_repo

EXAMPLE_CONFIG = Path("examples/shepherd.yaml")
DEMO_SERVICE = "checkout"


def demo(
    config: ConfigOpt = None,
    serve: Annotated[bool, typer.Option("--serve", help="keep the service running afterwards")] = False,
    port: Annotated[int, typer.Option(help="port (default 8000 with --serve, else any free one)")] = 0,
) -> None:
    """Build a demo repository, start Shepherd on it, send deploys and show what it found."""
    import uvicorn

    from shepherd.entrypoints.web.app import create_app

    setup_logging("WARNING")
    if config is None and "SHEPHERD_CONFIG" not in os.environ and EXAMPLE_CONFIG.exists():
        config = EXAMPLE_CONFIG
    settings = load_settings(config)
    repo_path = _demo_repo_path(settings.config)
    shas = build_demo_repo(repo_path)
    out.print(
        f"[bold]Demo repository[/] {repo_path} "
        "(three authors, a merged PR, a squash PR, a co-authored commit)"
    )
    shepherd = build(settings)
    app = create_app(shepherd, insecure_dev=settings.api_token is None)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port or (8000 if serve else 0), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = _wait_started(server)
    token = settings.api_token.get_secret_value() if settings.api_token else None
    client = httpx.Client(
        base_url=base, timeout=15, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    out.print(f"Shepherd is listening on {base}\n")
    first = _deploy(client, shas.first)
    client.post(f"/api/v1/deploys/{first}/events", json={"status": "succeeded", "idempotency_key": "done"})
    second = _deploy(client, shas.second)
    for percent in (10, 50):
        client.post(
            f"/api/v1/deploys/{second}/events",
            json={"status": "progressing", "percent": percent, "idempotency_key": f"p{percent}"},
        )
    client.post(f"/api/v1/deploys/{second}/events", json={"status": "succeeded", "idempotency_key": "done"})
    for deploy_id in (first, second):
        print_deploy(_wait_attributed(client, deploy_id))
        out.print()
    if serve:
        out.print(
            f"[green]Shepherd is running at {base}[/] — try: curl {base}/api/v1/deploys   (Ctrl-C stops it)"
        )
        with contextlib.suppress(KeyboardInterrupt):
            thread.join()
    server.should_exit = True
    thread.join(10)


def _demo_repo_path(config_path: Path) -> Path:
    from shepherd.adapters.config_file import ConfigError, load_config

    try:
        loaded = load_config(config_path)
    except ConfigError as exc:
        fail(str(exc))
    service = loaded.service(DEMO_SERVICE)
    if service is None or "://" in service.repository:
        fail(
            f"{config_path} has no service {DEMO_SERVICE!r} with a local repository path; "
            "use examples/shepherd.yaml"
        )
    return (config_path.resolve().parent / service.repository).resolve()


def _wait_started(server: Any) -> str:
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            fail("the demo server did not start within 15 s")
        time.sleep(0.02)
    sock = server.servers[0].sockets[0]
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


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


def _wait_attributed(client: httpx.Client, deploy_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        data: dict[str, Any] = client.get(f"/api/v1/deploys/{deploy_id}").json()
        if data["attribution"]["state"] != "pending" or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
