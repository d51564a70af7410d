"""A worker process for the multi-process tests: `python -m tests.db.worker_proc URL MODE DIR`.

Modes: `count` runs `effect` jobs (one row in job_effects per run, in the job's own
transaction) until none is left; `crash` runs `sleepy` jobs, hanging on the first attempt;
`park` runs `deliver` jobs, whose destination is down while the file `down` exists in DIR (they
park), until killed; `release` runs them until none is left (parked ones included).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

from shepherd.bootstrap import bootstrap
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.errors import NotifierUnavailable
from shepherd.services.jobs import JobContext
from shepherd.settings import Settings

EFFECTS_DDL = "CREATE TABLE IF NOT EXISTS job_effects (job_id INTEGER NOT NULL, pid INTEGER NOT NULL)"


def record_effect(ctx: JobContext) -> None:
    with ctx.transaction(finish=True) as uow:
        uow.session.execute(  # type: ignore[attr-defined]
            text("INSERT INTO job_effects (job_id, pid) VALUES (:j, :p)"), {"j": ctx.job.id, "p": os.getpid()}
        )


class FlagProbe:
    """The destination answers unless the file `down` exists."""

    def __init__(self, workdir: Path) -> None:
        self.flag = workdir / "down"

    def probe(self, destination: str) -> str | None:
        return "down" if self.flag.exists() else None


def main() -> None:
    url, mode, workdir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    lease = 2.0 if mode == "crash" else 30.0

    def sleepy(ctx: JobContext) -> None:
        if ctx.job.attempts == 1:
            # Written aside and renamed so the test never reads a created-but-empty file.
            pending = workdir / f"pending-{os.getpid()}"
            pending.write_text(str(ctx.job.id))
            os.replace(pending, workdir / f"started-{os.getpid()}")
            time.sleep(120)  # killed here
        record_effect(ctx)

    def deliver(ctx: JobContext) -> None:
        if (workdir / "down").exists():
            raise NotifierUnavailable("internal_error", "Slack answered 503")
        record_effect(ctx)

    settings = Settings.model_validate(
        {"database_url": url, "data_dir": workdir, "job_lease_seconds": lease, "job_poll_seconds": 0.05}
    )
    shepherd = bootstrap(
        settings,
        config=ShepherdConfig(),
        upgrade_database=False,
        extra_handlers={"effect": record_effect, "sleepy": sleepy, "deliver": deliver},
    )
    assert shepherd.runner.circuits is not None
    shepherd.runner.circuits.probes = FlagProbe(workdir)
    worker = shepherd.worker(concurrency=2)
    worker.start()
    (workdir / f"ready-{os.getpid()}").write_text("")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with shepherd.uow_factory() as uow:
            counts = uow.jobs.counts()
        left = sum(counts.get(state, 0) for state in ("pending", "running", "parked"))
        if mode != "park" and left == 0:
            break
        time.sleep(0.1)
    worker.stop()
    shepherd.close()


if __name__ == "__main__":
    main()
