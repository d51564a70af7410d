"""Several worker processes on one database: each job exactly once; a killed worker loses nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shepherd.adapters.db.engine import build_engine, session_factory
from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.domain.jobs import NewJob
from tests.db.worker_proc import EFFECTS_DDL
from tests.support import FakeClock, wait_for
from tests.support.databases import truncate

ROOT = Path(__file__).resolve().parents[2]


def spawn(url: str, mode: str, workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.db.worker_proc", url, mode, str(workdir)], cwd=ROOT)


def effects(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(text("SELECT job_id, pid FROM job_effects"))]


def prepare(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(EFFECTS_DDL))
        conn.execute(text("DELETE FROM job_effects"))


@pytest.fixture
def pg_engine(pg_database_url: str) -> Iterator[Engine]:
    engine = build_engine(pg_database_url)
    truncate(engine)
    yield engine
    engine.dispose()


def test_two_worker_processes_run_2000_jobs_each_exactly_once(
    pg_engine: Engine, pg_database_url: str, tmp_path: Path
) -> None:
    """Several workers are a PostgreSQL deployment: SQLite runs one worker."""
    engine, database_url = pg_engine, pg_database_url
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    prepare(engine)
    clock = FakeClock()
    clock.now = clock.now.replace(year=2000)  # long due
    with uow_factory() as uow:
        for _ in range(2000):
            uow.jobs.enqueue(NewJob(kind="effect"), now=clock())
        uow.commit()
    workers = [spawn(database_url, "count", tmp_path) for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    done = effects(engine)
    job_ids = [job_id for job_id, _ in done]
    assert len(job_ids) == 2000 and len(set(job_ids)) == 2000
    assert len({pid for _, pid in done}) == 2, "both workers should have taken a share"
    with uow_factory() as uow:
        assert uow.jobs.counts() == {"done": 2000}


def test_job_of_a_killed_worker_is_finished_by_another(
    engine: Engine, uow_factory: SqlUnitOfWorkFactory, database_url: str, tmp_path: Path
) -> None:
    prepare(engine)
    with uow_factory() as uow:
        job_id = uow.jobs.enqueue(NewJob(kind="sleepy"), now=FakeClock(FakeClock().now.replace(year=2000))())
        uow.commit()
    first = spawn(database_url, "crash", tmp_path)
    started = wait_for(lambda: list(tmp_path.glob("started-*")), timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert started[0].read_text() == str(job_id)
    second = spawn(database_url, "crash", tmp_path)
    assert second.wait(timeout=60) == 0
    assert effects(engine) == [(job_id, second.pid)]
    with uow_factory() as uow:
        (job,) = uow.jobs.query()
    assert job.state.value == "done" and job.attempts == 2


def test_parked_jobs_survive_a_killed_worker_and_each_runs_once_when_slack_is_back(
    pg_engine: Engine, pg_database_url: str, tmp_path: Path
) -> None:
    engine = pg_engine
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    prepare(engine)
    (tmp_path / "down").write_text("")
    now = FakeClock(FakeClock().now.replace(year=2000))()
    with uow_factory() as uow:
        for _ in range(50):
            uow.jobs.enqueue(NewJob(kind="deliver", destination="slack"), now=now)

    def parked() -> bool:
        with uow_factory() as uow:
            return uow.jobs.counts().get("parked", 0) == 50

    first = spawn(pg_database_url, "park", tmp_path)
    wait_for(parked, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert effects(engine) == [] and parked()
    (tmp_path / "down").unlink()  # Slack is back
    second = spawn(pg_database_url, "release", tmp_path)
    assert second.wait(timeout=90) == 0
    job_ids = [job_id for job_id, _ in effects(engine)]
    assert len(job_ids) == 50 and len(set(job_ids)) == 50
    with uow_factory() as uow:
        assert uow.jobs.counts() == {"done": 50}
        assert all(j.attempts == 1 for j in uow.jobs.query(limit=100))  # the outage cost none
