"""`shepherd deploy start|event`: the client CI pipelines call."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer

from shepherd.entrypoints.cli_common import err, fail, server

deploy_app = typer.Typer(no_args_is_help=True, help="Tell Shepherd about a deploy (for CI jobs).")

RETRIES = 4


def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST with retries on connection problems and 5xx; 4xx are reported at once."""
    url, headers = server()
    last = ""
    for attempt in range(RETRIES):
        try:
            response = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=15)
        except httpx.HTTPError as exc:
            last = f"cannot reach Shepherd at {url} ({exc.__class__.__name__}: {exc})"
        else:
            if response.status_code < 500:
                return _result(response)
            last = f"Shepherd answered {response.status_code}"
        if attempt < RETRIES - 1:
            time.sleep(0.5 * 2**attempt)
    fail(f"{last}; gave up after {RETRIES} tries (set SHEPHERD_URL?)")


def _result(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        fail(f"Shepherd answered {response.status_code} with a body that is not JSON")
    if response.status_code >= 400:
        error = data.get("error", {}) if isinstance(data, dict) else {}
        message = error.get("message", response.text[:300])
        fail(message + _details(error.get("details")))
    return dict(data)


def _details(details: Any) -> str:
    """The error's details as a person reads them ("known: checkout, search"), not a dict's repr."""
    if not details:
        return ""
    if isinstance(details, dict):
        lines = [f"  {k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in details.items()]
        return "\n" + "\n".join(lines)
    if isinstance(details, list):
        return "\n" + "\n".join(
            f"  {d.get('field')}: {d.get('problem')}" if isinstance(d, dict) else f"  {d}" for d in details
        )
    return f"\n  {details}"


@deploy_app.command("start")
def start(
    service: Annotated[str, typer.Option(help="service name from shepherd.yaml")],
    environment: Annotated[str, typer.Option(help="e.g. production")],
    sha: Annotated[str, typer.Option(help="the commit being deployed")],
    previous_sha: Annotated[
        str | None, typer.Option(help="what is running now (default: last success)")
    ] = None,
    url: Annotated[str | None, typer.Option(help="link to the pipeline or deploy log")] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="the version label your metrics carry (default: the sha)")
    ] = None,
    ref: Annotated[str | None, typer.Option(help="branch or tag")] = None,
    deployer: Annotated[str | None, typer.Option(help="who or what started the deploy")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="same key → same deploy (e.g. the CI run id)")
    ] = None,
) -> None:
    """Record a deploy start; prints the deploy id (use it for `deploy event`)."""
    body = {
        "service": service,
        "environment": environment,
        "sha": sha,
        "previous_sha": previous_sha,
        "version": version,
        "url": url,
        "ref": ref,
        "deployer": deployer,
        "idempotency_key": idempotency_key,
    }
    data = post("/api/v1/deploys", {k: v for k, v in body.items() if v is not None})
    if not data.get("created"):
        err.print(f"deploy {data['id']} was already recorded with this idempotency key")
    print(data["id"])


@deploy_app.command("event")
def event(
    deploy_id: Annotated[int, typer.Argument(help="the id printed by `deploy start`")],
    status: Annotated[str, typer.Option(help="progressing | succeeded | failed | rolled_back")],
    percent: Annotated[int | None, typer.Option(help="traffic on the new version, 0-100")] = None,
    stage: Annotated[str | None, typer.Option(help="e.g. canary")] = None,
    message: Annotated[str | None, typer.Option(help="free text")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="same key → recorded once")] = None,
) -> None:
    """Report progress or the outcome of a deploy."""
    if status not in ("progressing", "succeeded", "failed", "rolled_back"):
        fail(f"--status must be progressing, succeeded, failed or rolled_back, not {status!r}")
    body = {
        "status": status,
        "percent": percent,
        "stage": stage,
        "message": message,
        "idempotency_key": idempotency_key,
    }
    data = post(f"/api/v1/deploys/{deploy_id}/events", {k: v for k, v in body.items() if v is not None})
    applied = data.get("event", {}).get("applied")
    note = "" if applied else " (recorded; the deploy had already gone further)"
    err.print(f"deploy {data['id']}: {data['status']}{note}")


def register(app: typer.Typer) -> None:
    app.add_typer(deploy_app, name="deploy")
