"""Delivery through a Slack outage: Slack down for OUTAGE seconds (real time) while deploys come in.

`shepherd serve` runs as it ships; on PostgreSQL a `shepherd worker` process runs beside it,
so two workers share the circuits. The fake Slack (tests/fakes/slack.py) answers every call
503 while down. Deploys are spread over the outage; when Slack is back, each deploy's
messages (its channel summary and one DM per author) must all arrive. Reported: time from
recovery to each deploy's last message, the calls Slack saw while down (probes should be most),
and messages posted twice (must be 0).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import server
from bench.common import WORK, Section, median, percentile, seconds
from bench.notify import SLACK_IDS, Window, make_repo, server_env, write_config
from bench.slack_clock import SlackClock, timed_fake_slack

OUTAGE = 300.0  # seconds Slack is down
DEPLOYS = 20
RECOVERY_TIMEOUT = 120.0  # after Slack is back, wait this long for every message
TARGET = 30.0  # seconds from recovery to the last message


@dataclass(frozen=True)
class Outcome:
    after_recovery: list[float]  # per deploy: recovery → its last expected message
    missing: list[str]  # deploys that did not get all their messages in time: what they got
    calls_down: Counter[str]  # Slack calls while down, by method
    duplicates: int  # (deploy, channel, key) posted more than once


def _start(client: httpx.Client, window: Window, key: str) -> int:
    body = {"service": "bench", "environment": "production", "sha": window.head, "previous_sha": window.base}
    response = client.post("/api/v1/deploys", json=body | {"idempotency_key": key})
    response.raise_for_status()
    return int(response.json()["id"])


def measure(base_url: str, clock: SlackClock, windows: list[Window], outage: float) -> Outcome:
    slack = clock.slack
    deploys: dict[int, Window] = {}
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        warm = _start(client, windows[0], f"outage-warm-{time.time_ns()}")
        clock.wait(warm, windows[0].expected, 10.0)
        before = len(slack.calls)
        slack.down(503)
        began = time.monotonic()
        gap = outage * 0.9 / max(1, len(windows) - 1)
        for i, window in enumerate(windows[1:]):
            time.sleep(max(0.0, began + i * gap - time.monotonic()))
            deploys[_start(client, window, f"outage-{time.time_ns()}-{i}")] = window
        time.sleep(max(0.0, began + outage - time.monotonic()))
        calls_down = Counter(c.method for c in slack.calls[before:])
    slack.up()
    back = time.perf_counter()
    after: list[float] = []
    missing: list[str] = []
    for deploy_id, window in deploys.items():
        left = max(0.1, back + RECOVERY_TIMEOUT - time.perf_counter())
        arrivals = clock.wait(deploy_id, window.expected, left)
        if len(arrivals) < window.expected:
            got = ", ".join(sorted(a.key for a in arrivals)) or "nothing"
            posted = [c for c in slack.calls if c.method == "chat.postMessage"]
            missing.append(
                f"deploy {deploy_id}: {len(arrivals)} of {window.expected} ({got}); posts naming no deploy: "
                f"{clock.unmatched}; chat.postMessage calls {len(posted)}, answered "
                f"{dict(Counter(c.status for c in posted))}"
            )
        else:
            after.append(max(0.0, max(a.at for a in arrivals) - back))
    time.sleep(2.0)  # anything posted twice would come now
    seen = Counter((d, a.channel, a.key) for d, arrivals in clock.by_deploy.items() for a in arrivals)
    return Outcome(after, missing, calls_down, sum(n - 1 for n in seen.values() if n > 1))


@contextmanager
def extra_worker(env: dict[str, str], log_file: Path) -> Iterator[None]:
    """A standalone `shepherd worker` beside the server's embedded one."""
    with open(log_file, "w") as log:
        proc = subprocess.Popen(
            [server.shepherd_command(), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def bench_database(name: str, url: str | None, tmp: Path, windows: list[Window], outage: float) -> Outcome:
    tmp.mkdir(parents=True, exist_ok=True)
    config = write_config(tmp / "shepherd.yaml", tmp.parent / "repo.git")
    with timed_fake_slack(SLACK_IDS) as clock:
        env = server_env(config, url or f"sqlite:///{tmp}/b.db", tmp, clock.url)
        if url is not None:
            server.upgrade_database(env)
        with server.running_server(env, WORK / f"outage-{name.lower()}.log") as base_url:
            if url is None:
                return measure(base_url, clock, windows, outage)
            with extra_worker(env, WORK / f"outage-{name.lower()}-worker.log"):
                return measure(base_url, clock, windows, outage)


def _report(name: str, outcome: Outcome, section: Section) -> None:
    times = outcome.after_recovery
    if times:
        p50, p99 = median(times), percentile(times, 99)
        verdict = "met" if p99 <= TARGET and not outcome.missing else "missed"
        section.notes += [f"{name}: {line}" for line in outcome.missing]
        section.add(
            f"{name}: recovery → last message p50 / p99 / max",
            f"{seconds(p50)} / {seconds(p99)} / {seconds(max(times))}",
        )
        section.add(f"{name}: target every message ≤ {TARGET:.0f} s after recovery", verdict)
    section.add(f"{name}: deploys fully delivered", f"{len(times)}/{len(times) + len(outcome.missing)}")
    probes = outcome.calls_down.get("auth.test", 0)
    others = sum(outcome.calls_down.values()) - probes
    section.add(f"{name}: Slack calls while down", f"{probes} probes (auth.test), {others} other calls")
    section.add(f"{name}: messages sent twice", str(outcome.duplicates))


def run(deploys: int = DEPLOYS, outage: float = OUTAGE) -> Section:
    section = Section(f"Outage: Slack down {outage:.0f} s (real time) while {deploys} deploys are recorded")
    section.notes.append(
        "Fake Slack answers 503 to everything while down; deploys spread over the outage; SQLite with the "
        "embedded worker, PostgreSQL with the embedded worker and a `shepherd worker` process."
    )
    with tempfile.TemporaryDirectory(prefix="shepherd-bench-") as tmp:
        windows = make_repo(Path(tmp) / "repo.git", deploys + 1)[: deploys + 1]
        _report("SQLite", bench_database("SQLite", None, Path(tmp) / "sqlite", windows, outage), section)
        admin_url = server.postgres_admin_url()
        if admin_url is None:
            section.notes.append("PostgreSQL: skipped (no server; set SHEPHERD_TEST_POSTGRES_URL).")
            return section
        with server.fresh_database(admin_url) as url:
            _report(
                "PostgreSQL", bench_database("PostgreSQL", url, Path(tmp) / "pg", windows, outage), section
            )
    return section
