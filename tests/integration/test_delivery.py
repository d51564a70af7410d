"""Delivery metrics end to end: backfilled deploys of a real git history, attributed, then measured.

A revert made with `git revert` is found in its message; a deploy of an older sha is a rollback
(by ancestry); an incident linked by a person fails the deploy it names. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shepherd.adapters.config_file import parse_config
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.jobs import JobKind
from shepherd.entrypoints.cli import app
from shepherd.services.incidents import open_incident
from tests.support import payload_path
from tests.support.git_repo import ANA, BRUNO, GitRepo
from tests.support.world import AUTH, World

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _repo(path: Path) -> dict[str, str]:
    path.mkdir(parents=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", "main")
    shas = {"v1": repo.commit("Start the shop", {"app.py": "# shop"}, who=ANA)}
    shas["v2"] = repo.commit("Faster checkout", {"checkout.py": "fast = True"}, who=BRUNO)
    shas["v3"] = repo.commit("Bigger buttons", {"buttons.py": "big = True"}, who=ANA)
    repo.git("revert", "--no-edit", shas["v2"], who=BRUNO)
    shas["v4"] = repo.git("rev-parse", "HEAD")
    return shas


def _config(repo: Path) -> ShepherdConfig:
    return parse_config(
        f"""
people:
  - {{name: Ana Lima, emails: [ana@example.com]}}
  - {{name: Bruno Costa, emails: [bruno@example.com]}}
services:
  - name: shop
    repository: {repo}
teams:
  - {{name: web, services: [shop], members: [Ana Lima]}}
"""
    )


def _backfill(world: World, sha: str, at: timedelta, status: str = "succeeded", **extra: Any) -> int:
    start = DAY0 + at
    body = {
        "service": "shop",
        "environment": "production",
        "sha": sha,
        "started_at": start.isoformat(),
        "finished_at": (start + timedelta(minutes=10)).isoformat(),
        "status": status,
        "backfill": True,
        **extra,
    }
    response = world.client.post("/api/v1/deploys", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def history(make_world: Callable[..., World], tmp_path: Path) -> tuple[World, dict[str, int]]:
    shas = _repo(tmp_path / "shop")
    world = make_world(_config(tmp_path / "shop"))
    world.clock.now = DAY0 + timedelta(days=10)  # the history is backfilled, days later
    ids = {
        "v1": _backfill(world, shas["v1"], timedelta(hours=1)),
        "v2": _backfill(world, shas["v2"], timedelta(hours=5)),
        "v3": _backfill(world, shas["v3"], timedelta(days=1)),
        "v4": _backfill(world, shas["v4"], timedelta(days=1, hours=3)),  # reverts v2's change: 22 h later
        "back": _backfill(world, shas["v3"], timedelta(days=2)),  # v3 again after v4: a rollback
    }
    world.run_jobs()
    return world, ids


def test_backfilled_deploys_are_attributed_but_nobody_is_told_or_watched(
    history: tuple[World, dict[str, int]],
) -> None:
    world, ids = history
    with world.shepherd.uow_factory() as uow:
        kinds = {job.kind for job in uow.jobs.query(limit=100)}
        deploy = uow.deploys.get(ids["v2"])
        assert deploy is not None and deploy.backfill and deploy.total_changes == 1
    assert JobKind.ATTRIBUTE in kinds
    assert not kinds & {JobKind.WATCH, JobKind.SYNC_MESSAGES}


def test_the_keys_from_a_real_history(history: tuple[World, dict[str, int]]) -> None:
    world, ids = history
    r = world.client.get("/api/v1/delivery", params={"service": "shop", "since": "2026-11-02"}).json()
    assert r["deploys"] == 5 and r["deploy_days"] == 3
    failed = {f["id"]: f["rule"] for f in r["failed_deploys"]}
    assert failed == {ids["v2"]: "reverted"}
    assert r["change_failure_rate"] == {"rate": 0.2, "failed": 1, "deploys": 5, "band": "medium"}
    assert r["rework_rate"]["rework"] == 2  # the revert's deploy and the rollback
    # v2 recovered when v3 finished (the next good deploy): 19 h.
    assert r["recovery_time"]["median_hours"] == pytest.approx(19.0)
    assert r["lead_time"]["changes"] == 4  # v1, v2, v3 and the revert: one each
    assert r["previous"]["deploys"] == 0


def test_an_incident_linked_to_a_deploy_fails_it(history: tuple[World, dict[str, int]]) -> None:
    world, ids = history
    with world.shepherd.uow_factory() as uow:
        deploy = uow.deploys.get(ids["v3"])
        assert deploy is not None
        from shepherd.services.incidents import open_incident

        incident = open_incident(uow, deploy=deploy, trigger="page", title="checkout errors", now=DAY0)
    linked = world.client.post(
        f"/api/v1/incidents/{incident.id}/cause",
        json={"deploy_id": ids["v3"], "by": "Ana Lima"},
        headers=AUTH,
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["cause"]["deploy_id"] == ids["v3"]
    r = world.client.get("/api/v1/delivery", params={"team": "web", "since": "2026-11-02"}).json()
    assert {f["id"]: f["rule"] for f in r["failed_deploys"]}[ids["v3"]] == "incident"


def test_the_cli_prints_the_keys_as_a_table_and_as_json(
    history: tuple[World, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, _ = history

    monkeypatch.setattr("shepherd.entrypoints.cli_dora.build", lambda settings: world.shepherd)
    args = ["dora", "--service", "shop", "--since", "2026-11-02"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"deploys": 5' in result.output
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "change failure rate" in table.output and "reverted by deploy" in table.output


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"service": "nope"}, "no service named 'nope'"),
        ({"team": "nope"}, "no team named 'nope'"),
        ({"since": "last tuesday"}, "since must be a date"),
        ({"since": "2026-11-05", "until": "2026-11-01"}, "since must be before until"),
        ({"service": "shop", "team": "web"}, "not both"),
    ],
)
def test_bad_questions_get_a_clear_4xx(
    history: tuple[World, dict[str, int]], params: dict[str, str], message: str
) -> None:
    world, _ = history
    response = world.client.get("/api/v1/delivery", params=params)
    assert 400 <= response.status_code < 500
    assert message in response.text


def test_a_backfilled_finish_before_its_start_is_refused(history: tuple[World, dict[str, int]]) -> None:
    world, _ = history
    body = {
        "service": "shop",
        "environment": "production",
        "sha": "a" * 40,
        "started_at": "2026-11-02T10:00:00Z",
        "finished_at": "2026-11-02T09:00:00Z",
        "status": "succeeded",
        "backfill": True,
    }
    response = world.client.post("/api/v1/deploys", json=body, headers=AUTH)
    assert response.status_code == 422 and "before started_at" in response.text


def _import(world: World, monkeypatch: pytest.MonkeyPatch, path: Path) -> Any:

    monkeypatch.setattr("shepherd.entrypoints.cli_deploys.build", lambda settings: world.shepherd)
    return CliRunner().invoke(app, ["deploys", "import", str(path)])


def test_importing_a_history_twice_records_it_once_and_attributes_it_at_once(
    make_world: Callable[..., World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shas = _repo(tmp_path / "shop")
    world = make_world(_config(tmp_path / "shop"))
    world.clock.now = DAY0 + timedelta(days=10)
    rows = [
        (shas["v3"], timedelta(days=1), "succeeded"),  # out of order in the file: sorted on import
        (shas["v1"], timedelta(hours=1), "succeeded"),
        (shas["v2"], timedelta(hours=5), "succeeded"),
        (shas["v4"], timedelta(days=1, hours=3), "succeeded"),
    ]
    lines = [
        {
            "service": "shop",
            "environment": "production",
            "sha": sha,
            "started_at": (DAY0 + at).isoformat(),
            "finished_at": (DAY0 + at + timedelta(minutes=10)).isoformat(),
            "status": status,
        }
        for sha, at, status in rows
    ]
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    first = _import(world, monkeypatch, path)
    assert first.exit_code == 0, first.output
    assert "4 deploys imported" in first.output
    again = _import(world, monkeypatch, path)
    assert again.exit_code == 0 and "0 deploys imported, 4 already there" in again.output
    # No worker ran: the import attributed them itself.
    r = world.client.get("/api/v1/delivery", params={"service": "shop", "since": "2026-11-02"}).json()
    assert r["deploys"] == 4 and r["lead_time"]["changes"] == 4
    assert [f["rule"] for f in r["failed_deploys"]] == ["reverted"]


def test_an_import_with_bad_lines_names_them_and_writes_nothing(
    history: tuple[World, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, _ = history
    good = {"service": "shop", "environment": "production", "sha": "a" * 40}
    lines = [
        json.dumps({**good, "started_at": "2026-11-20T10:00:00Z", "status": "succeeded"}),
        "{not json",
        json.dumps({**good, "started_at": "2026-11-20T10:00:00", "status": "succeeded"}),  # no zone
        json.dumps({**good, "service": "nope", "started_at": "2026-11-20T10:00:00Z", "status": "failed"}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines))
    with world.shepherd.uow_factory() as uow:
        before = len(uow.deploys.query(limit=500))
    result = _import(world, monkeypatch, path)
    assert result.exit_code == 1
    for expected in (
        "3 bad line(s), nothing imported",
        "line 2: not JSON",
        "line 3: started_at",
        "line 4: no service",
    ):
        assert expected in result.output
    with world.shepherd.uow_factory() as uow:
        assert len(uow.deploys.query(limit=500)) == before


def test_shepherd_incident_link_names_the_cause_and_refuses_unknown_ids(
    history: tuple[World, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, ids = history

    with world.shepherd.uow_factory() as uow:
        deploy = uow.deploys.get(ids["v1"])
        assert deploy is not None
        incident = open_incident(uow, deploy=deploy, trigger="page", title="errors", now=DAY0)
    monkeypatch.setattr("shepherd.entrypoints.cli_incident.build", lambda settings: world.shepherd)
    done = CliRunner().invoke(app, ["incident", "link", str(incident.id), str(ids["v1"]), "--by", "Ana Lima"])
    assert done.exit_code == 0, done.output
    assert f"caused by deploy #{ids['v1']}" in done.output
    with world.shepherd.uow_factory() as uow:
        linked = uow.incidents.get(incident.id or 0)
    assert linked is not None and (linked.cause_deploy_id, linked.cause_by) == (ids["v1"], "Ana Lima")
    missing = CliRunner().invoke(app, ["incident", "link", str(incident.id), "99999"])
    assert missing.exit_code == 1 and "no deploy with id 99999" in missing.output


def test_the_weekly_digest_posts_once_to_its_channel_with_a_chart_and_queues_the_next(
    make_world: Callable[..., World], tmp_path: Path, slack: Any
) -> None:
    from shepherd.services.digest import schedule_digests
    from tests.fakes.slack import TOKEN

    shas = _repo(tmp_path / "shop")
    config = parse_config(
        f"""
people:
  - {{name: Ana Lima, emails: [ana@example.com]}}
services:
  - name: shop
    repository: {tmp_path / "shop"}
teams:
  - name: web
    services: [shop]
    delivery_digest: {{channel: "#web", weekday: monday, hour: 9}}
"""
    )
    world = make_world(config, slack_token=TOKEN, slack_api_url=slack.url)
    world.clock.now = DAY0 + timedelta(days=1)  # Tuesday 3 November, 09:00
    for name, at in (
        ("v1", timedelta(hours=1)),
        ("v2", timedelta(hours=5)),
        ("v4", timedelta(days=1, hours=3)),
    ):
        _backfill(world, shas[name], at)
    world.run_jobs()
    assert schedule_digests(config=config, uow_factory=world.shepherd.uow_factory, now=world.clock()) == 1
    assert schedule_digests(config=config, uow_factory=world.shepherd.uow_factory, now=world.clock()) == 0
    world.clock.now = DAY0 + timedelta(days=7, minutes=5)  # Monday 9 November, 09:05: the digest is due
    world.run_jobs()
    posts = slack.posts()  # the fake names #web by an id, as Slack does
    assert len(posts) == 1
    body = json.dumps(posts[0].args)
    assert "web: delivery, week of 2026-11-02" in body and "Change failure rate" in body
    assert "reverted by deploy" in body  # v2, reverted by v4's revert
    assert slack.method_calls("files.completeUploadExternal")  # the 12-week chart
    with world.shepherd.uow_factory() as uow:
        pending = [j for j in uow.jobs.query(state="pending") if j.kind == "delivery_digest"]
    assert [j.payload["at"] for j in pending] == ["2026-11-16T09:00:00+00:00"]


def _github_history(shas: dict[str, str]) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """Deployments shaped from GitHub's recorded payloads: three ended, one replaced, one running."""
    recorded = json.loads(payload_path("github", "deployment_status.payload.json").read_text())
    template, status = recorded["deployment"], recorded["deployment_status"]
    deployments, statuses = [], {}
    plan = [("v1", 1, "success"), ("v2", 5, "failure"), ("v3", 24, "success"), ("v4", 27, None)]
    for i, (name, hours, state) in enumerate(plan, start=1):
        created = (DAY0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        deployments.append({**template, "id": 1000 + i, "sha": shas[name], "created_at": created})
        done = (DAY0 + timedelta(hours=hours, minutes=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
        history = [{**status, "id": 5000 + i, "state": "in_progress", "created_at": created}]
        if state:
            history.insert(0, {**status, "id": 6000 + i, "state": state, "created_at": done})
        if name == "v1":  # replaced by a newer deployment later: inactive on top
            history.insert(0, {**status, "id": 7000 + i, "state": "inactive", "created_at": done})
        statuses[1000 + i] = history
    return list(reversed(deployments)), statuses  # newest first, as GitHub lists them


def test_importing_github_deployments_follows_the_pages_and_maps_their_statuses(
    make_world: Callable[..., World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.github import TOKEN, running_fake_github

    shas = _repo(tmp_path / "shop")
    config = parse_config(
        f"""
services:
  - name: shop
    repository: {tmp_path / "shop"}
    github_repository: acme/shop
"""
    )
    with running_fake_github() as github:
        github.deployments, github.statuses = _github_history(shas)
        world = make_world(config, github_token=TOKEN, github_api_url=github.url)
        world.clock.now = DAY0 + timedelta(days=10)
        monkeypatch.setattr("shepherd.entrypoints.cli_deploys.build", lambda settings: world.shepherd)
        monkeypatch.setattr("shepherd.adapters.github_api.PER_PAGE", 2, raising=False)
        result = CliRunner().invoke(app, ["deploys", "import", "--github", "acme/shop"])
        assert result.exit_code == 0, result.output
        assert "4 deploys imported" in result.output
        assert sum(r.endswith("/deployments") for r in github.requests) == 2  # two pages of 2
    with world.shepherd.uow_factory() as uow:
        deploys = sorted(uow.deploys.query(limit=10), key=lambda d: d.started_at)
    assert [d.status.value for d in deploys] == ["succeeded", "failed", "succeeded", "started"]
    assert deploys[0].finished_at == DAY0 + timedelta(hours=1, minutes=9)
    assert all(d.backfill and d.source == "import" for d in deploys)


def test_importing_from_github_without_a_token_says_what_is_missing(
    history: tuple[World, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, _ = history
    monkeypatch.setattr("shepherd.entrypoints.cli_deploys.build", lambda settings: world.shepherd)
    result = CliRunner().invoke(app, ["deploys", "import", "--github", "acme/shop"])
    assert result.exit_code == 1 and "SHEPHERD_GITHUB_TOKEN" in result.output
