"""Delivery metrics at scale: `shepherd dora` for one service and a year, over 100,000 deploys and
1,000,000 changes, on SQLite and PostgreSQL.

The history is drawn from distributions (seeded): 20 services with log-uniform shares of the
deploys, a year of them at random times, 0–20 changes each (geometric, mean 10), a few per cent
failed, rolled back, failing their watch or named by an incident, and some reverts. The figure is
the wall time of the same call `shepherd dora --service S --since … --until …` makes (read the
history, compute the keys, the previous period and the JSON), against a baseline in the same
process: a plain SELECT of the same deploy and change rows with the database driver.
"""

from __future__ import annotations

import gc
import hashlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, text

from bench import server
from bench.common import Section, median, seconds
from shepherd.adapters.db import migrate
from shepherd.adapters.db.engine import build_engine, session_factory
from shepherd.adapters.db.tables import ChangeRow, DeployRow, IncidentRow, WatchRow
from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.services.queries.dora import Scope, delivery_report

DEPLOYS, CHANGES, SERVICES = 100_000, 1_000_000, 20
YEAR = timedelta(days=365)
END = datetime(2026, 12, 1, tzinfo=UTC)
SEED = 20_261_204
TARGET = 1.0  # seconds
REPEAT = 5
BATCH = 20_000


def run(deploys: int = DEPLOYS, changes: int = CHANGES) -> Section:
    section = Section(
        f"Delivery metrics: one service and a year over {deploys:,} deploys and {changes:,} changes"
    )
    with tempfile.TemporaryDirectory(prefix="shepherd-bench-") as tmp:
        _measure("SQLite", f"sqlite:///{Path(tmp) / 'dora.db'}", deploys, changes, section)
        admin_url = server.postgres_admin_url()
        if admin_url is None:
            section.notes.append("PostgreSQL: skipped (no server; set SHEPHERD_TEST_POSTGRES_URL).")
        else:
            with server.fresh_database(admin_url) as url:
                _measure("PostgreSQL", url, deploys, changes, section)
    section.notes += NOTES
    return section


def _measure(name: str, url: str, deploys: int, changes: int, section: Section) -> None:
    engine = build_engine(url)
    migrate.upgrade(engine)
    start = time.perf_counter()
    busiest, counts = _fill(engine, deploys, changes)
    gc.collect()  # the million rows just written are garbage; a `shepherd dora` process has none
    section.add(f"{name}: writing the history", seconds(time.perf_counter() - start))
    factory = SqlUnitOfWorkFactory(session_factory(engine))
    scope = Scope((busiest,), "production", service=busiest)

    def dora() -> dict[str, Any]:
        return delivery_report(
            scope=scope, since=END - YEAR, until=END, uow_factory=factory, clock=lambda: END
        )

    def baseline() -> int:
        with engine.connect() as conn:
            rows = conn.execute(
                _BASELINE, {"service": busiest, "since": _naive(END - 2 * YEAR, engine)}
            ).all()
        return len(rows)

    times, base = [], []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        report = dora()
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        baseline()
        base.append(time.perf_counter() - t0)
    verdict = "met" if median(times) < TARGET else "missed"
    section.add(
        f"{name}: shepherd dora, one service, a year (median of {REPEAT})",
        f"{seconds(median(times))} (target < {TARGET:g} s: {verdict})",
    )
    section.add(f"{name}: baseline, the same rows by a plain SELECT", seconds(median(base)))
    section.add(f"{name}: ratio dora / baseline", f"{median(times) / median(base):.2f}")
    section.add(
        f"{name}: the service measured",
        f"{counts[busiest]:,} deploys in two years read (the year and the one before, for the trend); "
        f"{report['deploys']:,} in the year, {report['lead_time']['changes']:,} changes, "
        f"{report['change_failure_rate']['failed']:,} failed",
    )
    engine.dispose()


_BASELINE = text(
    "SELECT d.id, d.status, d.started_at, d.finished_at, c.sha, c.authored_at FROM deploys d "
    "LEFT JOIN changes c ON c.deploy_id = d.id WHERE d.service = :service "
    "AND d.environment = 'production' AND d.started_at >= :since"
)


def _naive(when: datetime, engine: Engine) -> datetime:
    return when.replace(tzinfo=None) if engine.dialect.name == "sqlite" else when


def _fill(engine: Engine, deploys: int, changes: int) -> tuple[str, dict[str, int]]:
    """The seeded history; returns the busiest service and every service's deploy count."""
    rng = np.random.default_rng(SEED)
    shares = np.exp(rng.uniform(0, np.log(20), SERVICES))
    service_of = rng.choice(SERVICES, size=deploys, p=shares / shares.sum())
    started = np.sort(rng.uniform(0, 2 * YEAR.total_seconds(), deploys))  # two years: the trend too
    per = rng.geometric(1 / (changes / deploys + 1), deploys) - 1
    per = np.minimum(per, 40)
    status = rng.choice(["succeeded", "failed", "rolled_back"], size=deploys, p=[0.94, 0.04, 0.02])
    begin = END - 2 * YEAR
    deploy_rows, change_rows, watch_rows, incident_rows = [], [], [], []
    for i in range(deploys):
        at = begin + timedelta(seconds=float(started[i]))
        deploy_rows.append(_deploy(i + 1, f"svc-{service_of[i]:02d}", at, str(status[i])))
        for k in range(int(per[i])):
            change_rows.append(_change(i + 1, k, at, rng))
        if rng.random() < 0.02:
            watch_rows.append(
                {"deploy_id": i + 1, "verdict": "fail", **_WATCH, "started_at": at, "ends_at": at}
            )
        if rng.random() < 0.005:
            incident_rows.append(_incident(i + 1, f"svc-{service_of[i]:02d}", at))
    with engine.begin() as conn:
        for table, rows in (
            (DeployRow.__table__, deploy_rows),
            (ChangeRow.__table__, change_rows),
            (WatchRow.__table__, watch_rows),
            (IncidentRow.__table__, incident_rows),
        ):
            for k in range(0, len(rows), BATCH):
                conn.execute(insert(table), rows[k : k + BATCH])  # type: ignore[arg-type]
    counts = {f"svc-{s:02d}": int((service_of == s).sum()) for s in range(SERVICES)}
    return max(counts, key=lambda s: counts[s]), counts


_WATCH = {"interval_seconds": 60.0, "score": 0.0, "reason": "", "looks": 1, "finished": True}


def _deploy(i: int, service: str, at: datetime, status: str) -> dict[str, Any]:
    return {
        "id": i,
        "service": service,
        "environment": "production",
        "sha": _sha(i),
        "status": status,
        "source": "import",
        "started_at": at,
        "finished_at": at + timedelta(minutes=8),
        "created_at": at,
        "updated_at": at,
        "attribution_state": "done",
        "attribution_notes": [],
        "rollback": False,
        "backfill": True,
    }


def _sha(*parts: int) -> str:
    """A sha as git's look: 40 hex digits spread evenly (not a counter padded with zeros)."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


def _change(deploy_id: int, k: int, at: datetime, rng: np.random.Generator) -> dict[str, Any]:
    sha = _sha(deploy_id, k)
    reverts = [_sha(max(1, deploy_id - 3), 0)] if rng.random() < 0.003 else []
    return {
        "deploy_id": deploy_id,
        "position": k,
        "sha": sha,
        "subject": "change",
        "author": {"name": "A", "email": "a@example.com", "person": None, "github_login": None},
        "coauthors": [],
        "merger": None,
        "pr_number": None,
        "merge_sha": None,
        "authored_at": at - timedelta(hours=float(rng.exponential(20))),
        "committed_at": at,
        "files": [],
        "path_rules": [],
        "reverts": reverts,
    }


def _incident(deploy_id: int, service: str, at: datetime) -> dict[str, Any]:
    return {
        "deploy_id": deploy_id,
        "service": service,
        "environment": "production",
        "title": "errors",
        "trigger": "page",
        "opened_at": at,
        "state": "resolved",
        "cause_deploy_id": deploy_id,
        "cause_by": "bench",
        "cause_at": at,
    }


NOTES = [
    "The history is drawn from distributions (bench/delivery.py): 20 services with log-uniform "
    "shares, two years of deploys at uniform random times (the year measured and the year before, "
    "which the trend compares against), changes per deploy geometric with mean 10 (at most 40), "
    "6 % failed or rolled back, 2 % failing their watch, 0.5 % named by an incident, 0.3 % of "
    "changes reverting an earlier deploy's.",
    "The call is the one `shepherd dora` and `GET /api/v1/delivery` make (delivery_report): four "
    "reads (deploys, changes, failed watches, incident causes), the keys for the year and for the "
    "year before, and the JSON. The baseline reads the same deploy and change rows with one plain "
    "SELECT and does nothing with them.",
    "Indexes it relies on: deploys (service, environment, started_at), changes (deploy_id, "
    "position), watches by deploy, incidents (cause_deploy_id).",
]
