"""Incidents over HTTP and the CLI: list, detail, postmortem, resolve, export; both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shepherd.domain.alerts import Alert, AlertStatus, Page, Severity
from shepherd.domain.notify import Ack
from shepherd.entrypoints.cli import app
from shepherd.services.incidents import note, open_incident
from tests.support.world import AUTH, World


@dataclass
class Made:
    incident_id: int
    deploy_id: int
    deployed_at: datetime
    other_id: int  # an incident of the first deploy, opened earlier


def alert(starts: datetime, *, ends: datetime | None = None) -> Alert:
    return Alert(
        source="alertmanager",
        fingerprint="fp-errors",
        name="HighErrorRatio",
        status=AlertStatus.RESOLVED if ends else AlertStatus.FIRING,
        service="checkout",
        environment="production",
        severity=Severity.CRITICAL,
        starts_at=starts,
        ends_at=ends,
        summary="Error ratio above 20% on checkout",
    )


def make_incident(world: World) -> Made:
    """Two deploys; an incident on each, the second's with a page, an alert and an ack."""
    first = int(world.start(world.shas.first)["id"])
    world.event(first, "succeeded")
    world.run_jobs()
    world.clock.advance(3600)
    second = int(world.start(world.shas.second, previous_sha=world.shas.first)["id"])
    deployed_at = world.clock()
    world.event(second, "succeeded")
    world.run_jobs()
    uow_factory = world.shepherd.uow_factory
    with uow_factory() as uow:
        old = uow.deploys.get(first)
        assert old is not None
        other = open_incident(uow, deploy=old, trigger="verdict", title="checkout old one", now=world.clock())
        uow.commit()
    world.clock.advance(6 * 60)  # the alert starts 6 min after the deploy
    starts = world.clock()
    world.clock.advance(30)  # and reaches Shepherd 30 s later
    now = world.clock()
    with uow_factory() as uow:
        deploy = uow.deploys.get(second)
        assert deploy is not None and deploy.id is not None
        incident = open_incident(
            uow, deploy=deploy, trigger="page", title="HighErrorRatio on checkout", now=now
        )
        assert uow.alerts.record(alert(starts), now=now)
        stored = uow.alerts.recent(limit=1)[0]
        assert stored.id is not None
        page = uow.alerts.add_page(
            Page(
                deploy_id=deploy.id,
                service="checkout",
                opened_at=now,
                group_until=now + timedelta(minutes=30),
                dedup_key="fp-errors",
                severity="critical",
                reasons=["checkout was deployed 6 min before the alert started"],
                score=0.9,
                updated_at=now,
                incident_id=incident.id,
            )
        )
        uow.alerts.mark_routed(stored.id, status="firing", page_id=page.id, ranking=[])
        note(uow, deploy.id, starts, "alert", "HighErrorRatio firing: Error ratio above 20%", alert=stored.id)
        note(uow, deploy.id, now, "page", f"paged the people of deploy {deploy.sha[:7]}", page=page.id)
        uow.commit()
    world.clock.advance(3.5 * 60)  # Ana acks 10 min after the deploy
    with uow_factory() as uow:
        uow.notifications.add_ack(
            Ack(deploy_id=second, slack_user="U01ANA", name="Ana Lima", acked_at=world.clock())
        )
        uow.commit()
    world.clock.advance(20 * 60)
    with uow_factory() as uow:
        uow.alerts.record(alert(starts, ends=world.clock()), now=world.clock())  # resolved, not in the table
        uow.commit()
    assert incident.id is not None and other.id is not None
    return Made(incident.id, second, deployed_at, other.id)


def test_list_detail_and_the_deploy_show_incidents(world: World) -> None:
    made = make_incident(world)
    listed = world.client.get("/api/v1/incidents").json()["incidents"]
    assert [i["id"] for i in listed] == [made.incident_id, made.other_id]  # newest first
    assert listed[0] == {
        "id": made.incident_id,
        "state": "open",
        "title": "HighErrorRatio on checkout",
        "trigger": "page",
        "service": "checkout",
        "environment": "production",
        "deploy_id": made.deploy_id,
        "opened_at": "2026-11-02T11:06:30Z",
        "resolved_at": None,
        "resolution": None,
        "cause": None,  # until a person names the deploy that caused it (docs/delivery.md)
    }
    assert world.client.get("/api/v1/incidents?service=search").json() == {"incidents": []}
    assert world.client.get("/api/v1/incidents?state=resolved").json() == {"incidents": []}
    assert world.client.get("/api/v1/incidents?state=nonsense").status_code == 422
    limited = world.client.get("/api/v1/incidents?limit=1").json()["incidents"]
    assert [i["id"] for i in limited] == [made.incident_id]

    detail = world.client.get(f"/api/v1/incidents/{made.incident_id}").json()
    assert (
        detail["deploy"]["id"] == made.deploy_id and detail["deploy"]["started_at"] == "2026-11-02T11:00:00Z"
    )
    assert detail["detection"] == {
        "onset": "2026-11-02T11:00:00Z",
        "first_alert": "2026-11-02T11:06:00Z",
        "first_alert_what": "HighErrorRatio",
        "first_ack": "2026-11-02T11:10:00Z",
        "first_ack_by": "Ana Lima",
        "minutes": {"onset_to_alert": 6.0, "alert_to_ack": 4.0, "onset_to_ack": 10.0},
    }
    assert detail["impact"] == {
        "start": "2026-11-02T11:00:00Z",
        "end": None,
        "ongoing": True,
        "minutes": 30.0,
    }
    (page,) = detail["pages"]
    assert page["state"] == "open" and page["severity"] == "critical"
    assert page["reasons"] == ["checkout was deployed 6 min before the alert started"]
    assert page["alerts"] == [
        {
            "id": page["alerts"][0]["id"],
            "name": "HighErrorRatio",
            "status": "resolved",
            "starts_at": "2026-11-02T11:06:00Z",
            "ends_at": "2026-11-02T11:30:00Z",
            "summary": "Error ratio above 20% on checkout",
            "severity": "critical",
        }
    ]
    assert detail["rollbacks"] == []
    assert [c["subject"] for c in detail["changes"]], "attribution ran: the changes are listed"
    moments = [(m["at"], m["kind"], m["text"]) for m in detail["timeline"]]
    assert moments[0][:2] == ("2026-11-02T11:00:00Z", "deploy")
    assert moments == sorted(moments, key=lambda m: m[0])  # time order
    tail = [m for m in moments if m[1] in ("alert", "incident", "page", "ack")]
    assert tail == [
        ("2026-11-02T11:06:00Z", "alert", "HighErrorRatio firing: Error ratio above 20%"),
        (
            "2026-11-02T11:06:30Z",
            "incident",
            f"incident #{made.incident_id} opened: HighErrorRatio on checkout",
        ),
        ("2026-11-02T11:06:30Z", "page", f"paged the people of deploy {world.shas.second[:7]}"),
        ("2026-11-02T11:10:00Z", "ack", "Ana Lima pressed “I'm watching”"),
        ("2026-11-02T11:30:00Z", "alert", "HighErrorRatio resolved"),
    ]
    assert any(m[1] == "deploy" and m[2] == "deploy succeeded" for m in moments)

    deploy = world.detail(made.deploy_id)
    assert [i["id"] for i in deploy["incidents"]] == [made.incident_id]
    assert world.detail(made.deploy_id - 1)["incidents"][0]["id"] == made.other_id


def test_postmortem_and_resolve(world: World) -> None:
    made = make_incident(world)
    url = f"/api/v1/incidents/{made.incident_id}"
    markdown = world.client.get(f"{url}/postmortem")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    text = markdown.text
    assert text.startswith(f"# Postmortem draft — incident #{made.incident_id}: HighErrorRatio on checkout")
    assert "| First alert: HighErrorRatio | 2026-11-02 11:06:00 | 6 | 6 |" in text
    assert "| First ack: Ana Lima | 2026-11-02 11:10:00 | 4 | 10 |" in text
    assert "**ongoing**: 30 min so far" in text
    assert "## Changes involved" in text and "## Action items" in text

    assert world.client.post(f"{url}/resolve", json={}).status_code == 401  # writes need the token
    world.clock.advance(60)
    first = world.client.post(
        f"{url}/resolve", json={"resolution": "rolled forward with a fix"}, headers=AUTH
    )
    assert first.status_code == 200, first.text
    resolved = first.json()
    assert (resolved["state"], resolved["resolution"]) == ("resolved", "rolled forward with a fix")
    assert resolved["resolved_at"] == "2026-11-02T11:31:00Z"
    assert resolved["impact"] == {
        "start": "2026-11-02T11:00:00Z",
        "end": "2026-11-02T11:31:00Z",
        "ongoing": False,
        "minutes": 31.0,
    }
    world.clock.advance(60)
    again = world.client.post(f"{url}/resolve", headers=AUTH)  # no body: still fine, and idempotent
    assert again.status_code == 200
    assert (again.json()["resolved_at"], again.json()["resolution"]) == (
        "2026-11-02T11:31:00Z",
        "rolled forward with a fix",
    )
    resolved_notes = [m for m in again.json()["timeline"] if m["kind"] == "resolved"]
    assert resolved_notes == [
        {
            "at": "2026-11-02T11:31:00Z",
            "kind": "resolved",
            "text": f"incident #{made.incident_id} resolved: rolled forward with a fix",
        }
    ]
    listed = world.client.get("/api/v1/incidents?state=resolved").json()["incidents"]
    assert [i["id"] for i in listed] == [made.incident_id]
    text = world.client.get(f"{url}/postmortem").text
    assert "| Status | resolved — rolled forward with a fix |" in text
    assert "to 2026-11-02 11:31:00 (resolved): **31 min**." in text

    # the other incident resolves with the default wording
    other = world.client.post(f"/api/v1/incidents/{made.other_id}/resolve", headers=AUTH).json()
    assert other["resolution"] == "resolved by hand"


def test_unknown_incident_is_a_404_json_error(world: World) -> None:
    for method, path in (
        ("GET", "/api/v1/incidents/999"),
        ("GET", "/api/v1/incidents/999/postmortem"),
        ("POST", "/api/v1/incidents/999/resolve"),
    ):
        response = world.client.request(method, path, headers=AUTH)
        assert response.status_code == 404, path
        assert response.json()["error"] == {
            "code": "not_found",
            "message": "no incident with id 999",
            "details": None,
        }
    bad = world.client.post("/api/v1/incidents/1/resolve", json={"resolution": "", "x": 1}, headers=AUTH)
    assert bad.status_code == 422


CLI_CONFIG = """
people:
  - {{name: Ana Lima, emails: [ana@example.com]}}
services:
  - name: checkout
    repository: {repo}
    environments: [staging, production]
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def cli_env(world: World, tmp_path: Path) -> tuple[dict[str, str], Path]:
    config = tmp_path / "cli.yaml"
    config.write_text(CLI_CONFIG.format(repo=world.repo))
    env = {
        "SHEPHERD_DATABASE_URL": world.shepherd.settings.database_url,
        "SHEPHERD_DATA_DIR": str(tmp_path / "cli-data"),
        "COLUMNS": "200",
    }
    return env, config


def test_cli_export_list_show_and_unknown_id(world: World, runner: CliRunner, tmp_path: Path) -> None:
    made = make_incident(world)
    world.client.post(f"/api/v1/incidents/{made.incident_id}/resolve", headers=AUTH)
    env, config = cli_env(world, tmp_path)
    base = ["--config", str(config)]

    printed = runner.invoke(app, ["incident", "export", str(made.incident_id), *base], env=env)
    assert printed.exit_code == 0, printed.output
    api = world.client.get(f"/api/v1/incidents/{made.incident_id}/postmortem").text

    def undated(markdown: str) -> list[str]:  # the CLI drafts with the real clock
        return [line for line in markdown.splitlines() if not line.startswith("_Drafted by Shepherd on")]

    assert undated(printed.stdout) == undated(api)
    assert "| First ack: Ana Lima | 2026-11-02 11:10:00 | 4 | 10 |" in printed.stdout

    target = tmp_path / "postmortem.md"
    written = runner.invoke(
        app, ["incident", "export", str(made.incident_id), "-o", str(target), *base], env=env
    )
    assert written.exit_code == 0, written.output
    assert undated(target.read_text()) == undated(api)
    assert f"written to {target}" in written.stderr and written.stdout == ""

    listed = runner.invoke(app, ["incident", "list", *base], env=env)
    assert listed.exit_code == 0, listed.output
    assert "HighErrorRatio on checkout" in listed.stdout and "resolved" in listed.stdout
    assert "checkout old one" in listed.stdout

    shown = runner.invoke(app, ["incident", "show", str(made.incident_id), *base], env=env)
    assert shown.exit_code == 0, shown.output
    assert "first alert +6 min (HighErrorRatio)" in shown.stdout
    assert "first ack +10 min (Ana Lima)" in shown.stdout
    assert "Ana Lima pressed “I'm watching”" in shown.stdout

    for command in ("export", "show"):
        unknown = runner.invoke(app, ["incident", command, "999", *base], env=env)
        assert unknown.exit_code == 1
        assert "no incident with id 999" in unknown.stderr
