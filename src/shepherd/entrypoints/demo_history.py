"""The demo's last step: three months of checkout's history, backfilled, and the delivery metrics.

A `demo-history` branch in the demo repository holds about 45 changes dated over the last three
months (authored a few hours to a day before their deploy); each is deployed as backfill every
other day, a few of them failing, one reverted the next morning. Shepherd attributes them and
`GET /api/v1/delivery` answers what `shepherd dora` shows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from shepherd.entrypoints.cli_common import fail, out
from shepherd.entrypoints.cli_dora import failures_table, keys_table
from shepherd.entrypoints.demo_repo import ANA, BRUNO, CHEN, RepoBuilder

BRANCH = "demo-history"
DAYS = 90
SERVICE = "checkout"


def history_commits(path: Path, now: datetime) -> list[tuple[str, datetime]]:
    """The branch's commits oldest first with their authored times (made on first use)."""
    repo = RepoBuilder(path)
    if not repo.git("branch", "--list", BRANCH):
        _make(repo, now)
    log = repo.git("log", "--reverse", "--format=%H %aI", BRANCH, "^demo-first")
    return [(sha, datetime.fromisoformat(at)) for sha, at in (line.split() for line in log.splitlines())]


def _make(repo: RepoBuilder, now: datetime) -> None:
    rng = random.Random(7)
    people = (ANA, BRUNO, CHEN)
    repo.git("checkout", "-q", "-b", BRANCH, "demo-first")
    reverted, last = "", now
    for i in range(DAYS // 2):
        at = now - timedelta(days=DAYS - 2 * i, hours=rng.uniform(2, 26))
        who = people[i % 3]
        if i == 20:  # a change that has to be taken back the next morning
            reverted = repo.commit_at(
                "Charge cards in one request",
                {"services/checkout/payments/charge.py": f"batch = {i}"},
                who=who,
                at=at,
            )
            last = at
            continue
        if i == 21:  # the next morning, not two days later: within the revert rule's 24 h
            repo.git("revert", "--no-edit", reverted, who=BRUNO, at=last + timedelta(hours=14))
            continue
        repo.commit_at(
            f"Checkout tweak {i}", {"services/checkout/app.py": f"tweak_{i} = True"}, who=who, at=at
        )
    repo.git("checkout", "-q", "main")


def play(client: httpx.Client, path: Path, settle: Any) -> None:
    now = datetime.now(UTC)
    commits = history_commits(path, now)
    rng = random.Random(11)
    for sha, authored in commits:
        start = authored + timedelta(hours=3, minutes=rng.uniform(0, 90))
        status = "failed" if rng.random() < 0.07 else "succeeded"
        body = {
            "service": SERVICE,
            "environment": "production",
            "sha": sha,
            "status": status,
            "started_at": start.isoformat(),
            "finished_at": (start + timedelta(minutes=8)).isoformat(),
            "backfill": True,
            "idempotency_key": f"demo-history-{sha}",
        }
        response = client.post("/api/v1/deploys", json=body)
        if response.status_code >= 400:
            fail(f"demo history refused: {response.text}")
    settle(client)
    since = (now - timedelta(days=DAYS)).date().isoformat()
    report = client.get("/api/v1/delivery", params={"service": SERVICE, "since": since}).json()
    out.print(
        f"{len(commits)} past deploys of {SERVICE} recorded as backfill (nobody told), then attributed:"
    )
    out.print(keys_table(report))
    if report["failed_deploys"]:
        out.print(failures_table(report["failed_deploys"]))
    out.print(f"The same with [bold]shepherd dora --service {SERVICE} --since {since}[/] (docs/delivery.md).")
