"""The `shepherd` command: config check, serve refusing bad config, the CI client, demo."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shepherd.bootstrap import bootstrap
from shepherd.domain.circuits import Circuit, trip
from shepherd.domain.jobs import NewJob
from shepherd.entrypoints.cli import app
from shepherd.entrypoints.web.app import create_app
from shepherd.settings import Settings
from tests.support import live_server
from tests.support.world import TOKEN, World

ROOT = Path(__file__).resolve().parents[2]
BROKEN = """
services:
  - name: api
    repository: /tmp/x
  - name: web
    repository: /tmp/y
  - name: three
    repository: /tmp/z
    guides:
      - {title: Dash, url: "https://grafana/d?sha={sah}"}
    owners: [nobody]
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_config_check_reports_every_problem_with_location(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "shepherd.yaml"
    broken.write_text(BROKEN)
    result = runner.invoke(app, ["config", "check", "--config", str(broken)])
    assert result.exit_code == 1
    assert "services[2].guides[0].url: unknown placeholder {sah}" in result.stderr
    assert "(line 10)" in result.stderr
    good = runner.invoke(app, ["config", "check", "--config", str(ROOT / "examples" / "shepherd.yaml")])
    assert good.exit_code == 0 and "2 services (checkout, search)" in good.stdout


def test_serve_refuses_a_bad_config_with_the_same_messages(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "shepherd.yaml"
    broken.write_text(BROKEN)
    env = {"SHEPHERD_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    result = runner.invoke(app, ["serve", "--config", str(broken)], env=env)
    assert result.exit_code == 1
    assert "services[2].guides[0].url: unknown placeholder {sah}" in result.stderr
    # references between parts are checked once the structure is right
    broken.write_text(BROKEN.replace("{sah}", "{sha}"))
    result = runner.invoke(app, ["serve", "--config", str(broken)], env=env)
    assert result.exit_code == 1
    assert "services[2].owners[0]: unknown person 'nobody'" in result.stderr


def test_bad_environment_settings_are_named(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "check"], env={"SHEPHERD_API_TOKEN": "short"})
    assert result.exit_code == 1 and "SHEPHERD_API_TOKEN" in result.stderr and "8 characters" in result.stderr


def test_deploy_start_and_event_from_a_ci_job(runner: CliRunner, world: World) -> None:
    with live_server(create_app(world.shepherd, embedded_worker=False)) as url:
        env = {"SHEPHERD_URL": url, "SHEPHERD_API_TOKEN": TOKEN}
        start = runner.invoke(
            app,
            [
                "deploy",
                "start",
                "--service",
                "checkout",
                "--environment",
                "production",
                "--sha",
                world.shas.second,
                "--previous-sha",
                world.shas.first,
                "--url",
                "https://ci/run/1",
                "--idempotency-key",
                "run-1",
            ],
            env=env,
        )
        assert start.exit_code == 0, start.stderr
        deploy_id = int(start.stdout.strip())
        again = runner.invoke(
            app,
            [
                "deploy",
                "start",
                "--service",
                "checkout",
                "--environment",
                "production",
                "--sha",
                world.shas.second,
                "--idempotency-key",
                "run-1",
            ],
            env=env,
        )
        assert int(again.stdout.strip()) == deploy_id and "already recorded" in again.stderr
        unknown = runner.invoke(
            app,
            ["deploy", "start", "--service", "nope", "--environment", "production", "--sha", "a" * 40],
            env=env,
        )
        assert unknown.exit_code == 1 and "known: checkout, search" in unknown.stderr
        assert "{" not in unknown.stderr  # read as words, not a dict
        event = runner.invoke(
            app, ["deploy", "event", str(deploy_id), "--status", "progressing", "--percent", "50"], env=env
        )
        assert event.exit_code == 0 and "progressing" in event.stderr
        world.run_jobs()
        show = runner.invoke(app, ["deploy", "show", str(deploy_id)], env=env)
        assert show.exit_code == 0 and "#12" in show.stdout and "Bruno" in show.stdout
        refused = runner.invoke(
            app,
            [
                "deploy",
                "start",
                "--service",
                "nope",
                "--environment",
                "production",
                "--sha",
                world.shas.second,
            ],
            env=env,
        )
        assert refused.exit_code == 1 and "no service named 'nope'" in refused.stderr
        wrong = runner.invoke(app, ["deploy", "event", str(deploy_id), "--status", "done"], env=env)
        assert wrong.exit_code == 1 and "--status must be" in wrong.stderr
        no_token = runner.invoke(
            app, ["deploy", "event", str(deploy_id), "--status", "succeeded"], env={"SHEPHERD_URL": url}
        )
        assert no_token.exit_code == 1 and "bearer token" in no_token.stderr


def test_deploy_start_says_when_shepherd_is_unreachable(runner: CliRunner, monkeypatch: Any) -> None:
    monkeypatch.setattr("shepherd.entrypoints.cli_deploy.RETRIES", 2)
    result = runner.invoke(
        app,
        ["deploy", "start", "--service", "a", "--environment", "production", "--sha", "a" * 40],
        env={"SHEPHERD_URL": "http://127.0.0.1:9"},
    )
    assert result.exit_code == 1
    assert (
        "cannot reach Shepherd at http://127.0.0.1:9" in result.stderr
        and "gave up after 2 tries" in result.stderr
    )


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    examples.mkdir()
    shutil.copy(ROOT / "examples" / "shepherd.yaml", examples / "shepherd.yaml")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SHEPHERD_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
        "SHEPHERD_DATA_DIR": str(tmp_path / "data"),
        "SHEPHERD_CONFIG": str(examples / "shepherd.yaml"),
        "COLUMNS": "160",
    }
    env.pop("SHEPHERD_DATABASE_URL")  # the demo keeps its own database, fresh each run
    for _ in range(2):  # the same story again
        result = subprocess.run(
            [sys.executable, "-m", "shepherd", "demo"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert "Deploy 2: checkout → production" in result.stdout
    assert "Deploy 3" not in result.stdout
    story = result.stdout
    for step in (
        "DM to Bruno Costa (U01BRUNOCO)",
        "channel #checkout-deploys",
        "updated in place",
        "10% of traffic",
        "50% of traffic",
        "Live everywhere",
        "Is anyone watching",
        "Watching: Ana Lima",
    ):
        assert step in story, step
    for expected in (
        "Retry card charges",
        "#12",
        "Ana Lima",
        "Chen Wei",
        "coauthor",
        "merger",
        "payments",
        "First deploy of checkout",
        "Three months of history",  # step 10: the delivery metrics
        "change failure rate",
        f"export SHEPHERD_DATABASE_URL=sqlite:///{tmp_path / 'data' / 'demo.db'} SHEPHERD_CONFIG=",
    ):
        assert expected in result.stdout, expected


def test_postgres_needs_db_upgrade_before_serving(
    runner: CliRunner, pg_database_url: str, tmp_path: Path
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_database_url)
    name = f"{url.database}_empty"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            "SHEPHERD_DATABASE_URL": url.set(database=name).render_as_string(hide_password=False),
            "SHEPHERD_CONFIG": str(ROOT / "examples" / "shepherd.yaml"),
        }
        refused = runner.invoke(app, ["worker"], env=env)
        assert refused.exit_code == 1 and "run `shepherd db upgrade` first" in refused.stderr
        upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
        from shepherd.adapters.db.engine import build_engine
        from shepherd.adapters.db.migrate import head_revision

        head = head_revision(build_engine(env["SHEPHERD_DATABASE_URL"]))
        assert upgraded.exit_code == 0 and f"database at revision {head}" in upgraded.stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_jobs_list_dead_shows_each_reason_and_the_destinations_that_are_down(
    runner: CliRunner, tmp_path: Path
) -> None:
    env = {"SHEPHERD_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    config = str(ROOT / "examples" / "shepherd.yaml")
    shepherd = bootstrap(Settings(database_url=env["SHEPHERD_DATABASE_URL"], config=config))
    now = shepherd.clock()
    with shepherd.uow_factory() as uow:
        uow.jobs.enqueue(NewJob(kind="slack_reply", max_attempts=1), now=now)
        down = trip(Circuit("slack"), now=now, error="HTTP 503")
        uow.circuits.save(down, now=now)
    (job,) = shepherd.runner.lease()
    with shepherd.uow_factory() as uow:
        assert job.lease_token is not None
        uow.jobs.bury(job.id, job.lease_token, now=now, error="channel_not_found: the channel was archived")
    shepherd.close()
    result = runner.invoke(app, ["jobs", "list", "--dead", "--config", config], env=env)
    assert result.exit_code == 0, result.output
    assert "channel_not_found: the channel was archived" in result.output
    assert "slack is down" in result.output and "HTTP 503" in result.output
    assert "shepherd jobs retry" in result.output


def test_the_worker_stops_on_sigterm_and_says_what_happens_to_its_jobs(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHEPHERD_")},
        "SHEPHERD_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
        "SHEPHERD_CONFIG": str(ROOT / "examples" / "shepherd.yaml"),
        "SHEPHERD_DATA_DIR": str(tmp_path / "data"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "shepherd", "worker"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    started = proc.stderr.readline()
    while "worker started" not in started:
        started = proc.stderr.readline()
        assert started, "the worker exited before it started"
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=30) == 0
    assert "stopping: jobs in hand finish" in rest and "worker stopped after 0 jobs" in rest
