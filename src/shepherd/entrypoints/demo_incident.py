"""The demo's second act: an alert after the deploy, the page, the rollback, the postmortem.

Everything goes through Shepherd's public doors, as a real setup would: Alertmanager's v4
webhook, Slack's signed button press, the deploy event the rollback's own pipeline would send,
and the incidents API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from shepherd.entrypoints.cli_common import fail, out

FINGERPRINT = "demo-high-error-ratio"


def alertmanager_body(status: str, starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    """What Alertmanager posts when the checkout error-ratio rule fires (or resolves)."""
    alert = {
        "status": status,
        "labels": {
            "alertname": "CheckoutHighErrorRatio",
            "service": "checkout",
            "env": "production",
            "severity": "critical",
            "handler": "/checkout/payments/charge",
        },
        "annotations": {
            "summary": "2.4% of checkout requests fail (threshold 1%)",
            "runbook_url": "https://runbooks.example.com/checkout/errors",
        },
        "startsAt": _stamp(starts),
        "endsAt": _stamp(ends) if ends else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=checkout_error_ratio",
        "fingerprint": FINGERPRINT,
    }
    return {
        "receiver": "shepherd",
        "status": status,
        "alerts": [alert],
        "groupLabels": {"alertname": "CheckoutHighErrorRatio"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example.com",
        "version": "4",
        "groupKey": '{}:{alertname="CheckoutHighErrorRatio"}',
        "truncatedAlerts": 0,
    }


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def send_alert(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/webhooks/alertmanager", content=json.dumps(body))
    if response.status_code != 200:
        fail(f"the demo alert was refused: {response.text}")


def wait_rollback(client: httpx.Client, deploy_id: int, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rollbacks = client.get(f"/api/v1/deploys/{deploy_id}/rollbacks").json().get("rollbacks", [])
        if rollbacks and rollbacks[-1]["state"] in ("succeeded", "failed"):
            return dict(rollbacks[-1])
        time.sleep(0.3)
    fail(f"the demo rollback of deploy {deploy_id} did not finish within {timeout:g} s")


def export_postmortem(client: httpx.Client, deploy_id: int, data_dir: Path) -> Path:
    incidents = client.get("/api/v1/incidents").json()["incidents"]
    mine = [i for i in incidents if i["deploy_id"] == deploy_id]
    if not mine:
        fail(f"no incident was opened for deploy {deploy_id}")
    incident_id = mine[0]["id"]
    markdown = client.get(f"/api/v1/incidents/{incident_id}/postmortem").text
    path = data_dir / f"postmortem-incident-{incident_id}.md"
    path.write_text(markdown)
    return path


def play(
    client: httpx.Client,
    deploy_id: int,
    *,
    settle: Callable[..., None],
    press: Callable[[str, str], None],
    data_dir: Path,
) -> None:
    """Steps 7–9 of the demo, after the watch has judged the deploy."""
    out.rule("[bold]7. An alert fires: Shepherd pages the people of the deploy that most likely caused it[/]")
    deployed = client.get(f"/api/v1/deploys/{deploy_id}").json()["started_at"]
    started = datetime.fromisoformat(deployed.replace("Z", "+00:00")) + timedelta(seconds=5)
    send_alert(client, alertmanager_body("firing", started))
    settle(client)
    out.rule("[bold]8. Ana presses “Roll back” (she is an author, so she may); the rollback runs once[/]")
    press("rollback", "U01ANALIMA")
    press("rollback", "U01ANALIMA")  # an impatient second click: nothing runs twice
    rollback = wait_rollback(client, deploy_id)
    out.print(f"rollback {rollback['state']}: {rollback['output'].strip()[:200]}")
    client.post(
        f"/api/v1/deploys/{deploy_id}/events", json={"status": "rolled_back", "idempotency_key": "demo-rb"}
    )
    send_alert(client, alertmanager_body("resolved", started, datetime.now(UTC)))
    settle(client)
    out.rule("[bold]9. The incident closes itself; its postmortem draft is written for you[/]")
    path = export_postmortem(client, deploy_id, data_dir)
    out.print(path.read_text(), markup=False, highlight=False)
    out.print(f"[bold]Postmortem draft:[/] {path}")
