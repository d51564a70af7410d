"""Alert storm: 10,000 Alertmanager alerts in batches of 50 over 60 s, pages per suspect deploy.

`shepherd serve` runs as it ships (embedded worker), with SHEPHERD_API_TOKEN set: every POST
carries the bearer token (one unauthenticated POST is checked to get a 401 first; the
`--insecure-dev` that bench/server.py adds changes nothing once a token is set). Five
services, each with a Slack channel and a PagerDuty routing key, each get one deploy (real
git range, authors known by slack_user_id), started just before the storm; the deploys'
own channel summaries and DMs are waited for. Then `alerts` alerts with distinct fingerprints,
spread round-robin over the five services, all firing and critical, `startsAt` = their send
time, go to `POST /webhooks/alertmanager` in batches of `batch`, sent on an even schedule over
`seconds` by a few sender threads (so a slow answer does not slow the schedule).

Slack and PagerDuty are the tests' fakes (tests/fakes/slack.py, tests/fakes/pagerduty.py) in
this process, on loopback, stamping each call's arrival. A page message is told from the rest
by its notification key (`page:<page id>:<person key | thread>`, in the post's metadata);
updates (which carry no metadata) by the (channel, ts) of the post they edit. Pages sent are
the distinct page ids in Slack and the distinct PagerDuty dedup keys: they must equal the
suspect deploys (five), not the alerts. A reader counts stored and routed alerts in the
database every second (the router's pace and backlog). After the last POST the benchmark waits
(bounded) for the router and the message jobs to drain, then reads the database for alerts
routed, pages opened and the jobs the storm caused, and stops the server. The machine's load
average is reported: on a shared machine the router falls behind and every figure moves.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from tests.fakes.slack import TOKEN as SLACK_TOKEN

from bench import gitgen, server
from bench.alert_storm_record import DRAIN_LIMIT, Post, Recorder, Run, recorded_fakes
from bench.alert_storm_report import report
from bench.common import WORK, Section
from shepherd.adapters.db.tables import AlertRow, JobRow, PageRow, TimelineRow
from shepherd.domain.jobs import JobKind

ALERTS = 10_000
BATCH = 50
SECONDS = 60.0
SENDERS = 4  # threads posting batches, each waiting for its batch's scheduled time
SERVICES = [f"storm{i}" for i in range(5)]
PEOPLE = [gitgen.Person(f"Oncall {i}", f"oncall{i}@example.com") for i in range(8)]
SLACK_IDS = {p.email: f"USTORM{i:03d}" for i, p in enumerate(PEOPLE)}
ROUTING_KEYS = {s: f"{s}routingkey".ljust(32, "0") for s in SERVICES}  # 32 characters each
RANGE = 6  # commits per deploy
NAMES = ["HighErrorRatio", "HighLatencyP99", "PodCrashLooping", "QueueBacklog", "CPUSaturation"]
API_TOKEN = "storm-bench-api-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
SETUP_TIMEOUT = 30.0  # deploys' own messages out, before the storm
SAMPLE = 1.0  # seconds between two counts of routed alerts in the database
POLL = 0.25


@dataclass(frozen=True)
class Window:
    service: str
    base: str
    head: str
    authors: int  # distinct authors in base..head, all known by slack_user_id


# -- setup ----------------------------------------------------------------------------------


def make_repo(path: Path) -> list[Window]:
    commits = gitgen.build_linear(path, len(SERVICES) * RANGE + 1, PEOPLE)
    windows = []
    for i, service in enumerate(SERVICES):
        span = commits[i * RANGE + 1 : (i + 1) * RANGE + 1]
        authors = len({dev for _, dev in span})
        windows.append(Window(service, commits[i * RANGE][0], commits[(i + 1) * RANGE][0], authors))
    return windows


def write_config(path: Path, repository: Path) -> Path:
    lines = ["policies: {correlation_minutes: 60, grouping_minutes: 30}", "people:"]
    for person in PEOPLE:
        lines += [f"  - name: {person.name}", f"    emails: [{person.email}]"]
        lines += [f"    slack_user_id: {SLACK_IDS[person.email]}"]
    lines += ["services:"]
    for service in SERVICES:
        lines += [f"  - name: {service}", f"    repository: {repository}", "    environments: [production]"]
        lines += [f'    slack_channel: "#{service}"', f"    pagerduty_routing_key: {ROUTING_KEYS[service]}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def server_env(
    config: Path, database_url: str, data_dir: Path, slack_url: str, pd_url: str
) -> dict[str, str]:
    env = server.server_env(config, database_url, data_dir)
    env |= {"SHEPHERD_API_TOKEN": API_TOKEN, "SHEPHERD_SLACK_TOKEN": SLACK_TOKEN}
    env |= {"SHEPHERD_SLACK_API_URL": slack_url, "SHEPHERD_PAGERDUTY_EVENTS_URL": pd_url}
    # slack_sdk reads HTTP(S)_PROXY itself and ignores NO_PROXY: keep the fakes on loopback.
    return {k: v for k, v in env.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}


def start_deploys(client: httpx.Client, recorder: Recorder, windows: list[Window], run: Run) -> None:
    """One deploy a service, succeeded; returns once their own summaries and DMs are out."""
    prefix = f"storm-{time.time_ns()}"
    for window in windows:
        body = {"service": window.service, "environment": "production", "sha": window.head}
        body |= {"previous_sha": window.base, "idempotency_key": f"{prefix}-{window.service}"}
        response = client.post("/api/v1/deploys", json=body, headers=AUTH)
        if response.status_code != 201:
            raise RuntimeError(f"deploy start: HTTP {response.status_code}: {response.text[:200]}")
        deploy_id = int(response.json()["id"])
        response = client.post(
            f"/api/v1/deploys/{deploy_id}/events", json={"status": "succeeded"}, headers=AUTH
        )
        if response.status_code >= 300:
            raise RuntimeError(f"deploy event: HTTP {response.status_code}: {response.text[:200]}")
        run.deploys[window.service] = deploy_id
    want = {run.deploys[w.service]: 1 + w.authors for w in windows}
    run.expected_messages = sum(want.values())  # a page says it again: thread reply + a DM each
    deadline = time.monotonic() + SETUP_TIMEOUT
    while time.monotonic() < deadline:
        calls, _ = recorder.snapshot()
        got = Counter(c.deploy_id for c in calls if c.method == "chat.postMessage")
        if all(got[d] >= n for d, n in want.items()) and _idle(client, kinds=None):
            return
        time.sleep(POLL)
    raise RuntimeError(f"the deploys' own messages were not all out within {SETUP_TIMEOUT:.0f} s")


def _idle(client: httpx.Client, kinds: tuple[str, ...] | None) -> bool:
    """No job (of these kinds) running or due: pending jobs due in the future do not count."""
    now = datetime.now(UTC)
    for state in ("running", "pending"):
        response = client.get("/api/v1/jobs", params={"state": state, "limit": 1000})
        response.raise_for_status()
        for job in response.json()["jobs"]:
            if kinds is not None and job["kind"] not in kinds:
                continue
            if state == "running" or datetime.fromisoformat(job["run_at"]) <= now:
                return False
    return True


# -- the storm ------------------------------------------------------------------------------


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def batch_body(k: int, batch: int, total: int) -> dict[str, Any]:
    """Batch k: alerts k*batch … of an Alertmanager v4 webhook, all firing, starting now."""
    starts = _stamp(datetime.now(UTC))
    alerts = []
    for i in range(k * batch, min(total, (k + 1) * batch)):
        service, name = SERVICES[i % len(SERVICES)], NAMES[(i // len(SERVICES)) % len(NAMES)]
        labels = {"alertname": name, "service": service, "severity": "critical"}
        labels |= {"instance": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:9100"}
        alerts.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"{name} on {service} ({labels['instance']})"},
                "startsAt": starts,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
                "fingerprint": f"{i:016x}",
            }
        )
    return {
        "receiver": "shepherd",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {"severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": f'{{}}:{{storm="{k}"}}',
        "truncatedAlerts": 0,
    }


def storm(client: httpx.Client, alerts: int, batch: int, span: float, run: Run) -> None:
    batches = math.ceil(alerts / batch)
    interval = span / batches
    run.wall_offset = time.time() - time.perf_counter()
    start = time.perf_counter() + 0.05

    def send(k: int) -> Post:
        scheduled = start + k * interval
        time.sleep(max(0.0, scheduled - time.perf_counter()))
        body = json.dumps(batch_body(k, batch, alerts))
        sent = time.perf_counter()
        headers = AUTH | {"Content-Type": "application/json"}
        try:
            response = client.post("/webhooks/alertmanager", content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Post(
                k, sent - scheduled, sent, time.perf_counter() - sent, 0, f"{type(exc).__name__}: {exc}"
            )
        took = time.perf_counter() - sent
        error = "" if response.status_code == 200 else response.text[:200]
        return Post(k, sent - scheduled, sent, took, response.status_code, error)

    with ThreadPoolExecutor(SENDERS, thread_name_prefix="storm-sender") as pool:
        run.posts = list(pool.map(send, range(batches)))
    run.first_sent = min(p.sent for p in run.posts)


def wait_drained(client: httpx.Client, recorder: Recorder, run: Run) -> None:
    """Until every page and trigger is out and no routing or message job is running or due."""
    deadline = time.monotonic() + DRAIN_LIMIT
    while time.monotonic() < deadline:
        calls, events = recorder.snapshot()
        pages = sum(1 for c in calls if c.method == "chat.postMessage" and c.key.startswith("page:"))
        triggers = sum(1 for e in events if e.action == "trigger")
        if (
            pages >= run.expected_messages
            and triggers >= len(SERVICES)
            and _idle(client, kinds=(JobKind.ROUTE_ALERTS, JobKind.SYNC_MESSAGES, JobKind.PAGE_PAGERDUTY))
        ):
            run.drained_at = time.perf_counter()
            break
        time.sleep(POLL)
    run.calls, run.events = recorder.snapshot()


# -- the database ---------------------------------------------------------------------------


@contextmanager
def sampling_progress(url: str, into: list[tuple[float, int, int]]) -> Iterator[None]:
    """Count stored and routed alerts every SAMPLE seconds while the block runs (a reader only)."""
    engine = create_engine(url, poolclass=NullPool)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE):
            with Session(engine) as session:
                stored = session.scalar(select(func.count()).select_from(AlertRow)) or 0
                routed = session.scalar(select(func.count()).where(AlertRow.routed_status.is_not(None))) or 0
            into.append((time.perf_counter(), stored, routed))

    thread = threading.Thread(target=sample, name="storm-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def read_database(url: str) -> dict[str, Any]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            alerts = session.scalar(select(func.count()).select_from(AlertRow)) or 0
            routed = (
                session.scalar(select(func.count()).where(AlertRow.routed_status == AlertRow.status)) or 0
            )
            paged = session.scalar(select(func.count()).where(AlertRow.page_id.is_not(None))) or 0
            pages = session.execute(select(PageRow.id, PageRow.deploy_id, PageRow.opened_at)).all()
            timeline = session.scalar(select(func.count()).select_from(TimelineRow)) or 0
            jobs = session.execute(
                select(JobRow.kind, JobRow.state, func.count(), func.max(JobRow.finished_at)).group_by(
                    JobRow.kind, JobRow.state
                )
            ).all()
    finally:
        engine.dispose()
    return {
        "alerts": alerts,
        "routed": routed,
        "paged": paged,
        "pages": {int(i): int(d) for i, d, _ in pages},
        "opened": sorted(o for _, _, o in pages),
        "timeline": timeline,
        "jobs": [(str(k), str(s), int(n), f) for k, s, n, f in jobs],
    }


# -- one database ---------------------------------------------------------------------------


def bench_database(
    name: str,
    database_url: str | None,
    tmp: Path,
    repo: Path,
    windows: list[Window],
    shape: tuple[int, int, float],
    section: Section,
) -> None:
    """Serve on one database (None = a SQLite file in `tmp`) and add its figures to `section`."""
    tmp.mkdir(parents=True, exist_ok=True)
    config = write_config(tmp / "shepherd.yaml", repo)
    url = database_url or f"sqlite:///{tmp}/storm.db"
    log = WORK / f"storm-{name.lower()}.log"
    run = Run()
    alerts, batch, span = shape
    before = os.getloadavg()[0]
    try:
        with recorded_fakes(SLACK_IDS) as recorder:
            env = server_env(config, url, tmp, recorder.slack.url, recorder.pagerduty.url)
            if database_url is not None:
                server.upgrade_database(env)
            limits = httpx.Limits(max_connections=SENDERS + 2, max_keepalive_connections=SENDERS + 2)
            with (
                server.running_server(env, log) as base_url,
                httpx.Client(base_url=base_url, timeout=30.0, limits=limits) as client,
            ):
                run.unauthenticated_status = client.post("/webhooks/alertmanager", json={}).status_code
                start_deploys(client, recorder, windows, run)
                with sampling_progress(url, run.progress):
                    storm(client, alerts, batch, span, run)
                    wait_drained(client, recorder, run)
                run.db = read_database(url)  # before the server stops: what the deadline saw
                run.load = (before, os.getloadavg()[0])
    except (RuntimeError, httpx.HTTPError) as exc:
        section.add(f"{name}: failed", str(exc).splitlines()[0][:300])
        section.notes.append(f"{name}: server log in {log.relative_to(WORK.parent.parent)}.")
        return
    report(name, run, alerts, section)


def run(alerts: int = ALERTS, batch: int = BATCH, seconds: float = SECONDS) -> Section:
    batches = math.ceil(alerts / batch)
    section = Section(
        f"Alert storm: {alerts:,} alerts in {batches:,} Alertmanager POSTs of {batch} over "
        f"{seconds:.0f} s, {len(SERVICES)} services with a fresh deploy each"
    )
    section.notes.append(
        "Server: `shepherd serve` with SHEPHERD_API_TOKEN (every POST sends it; a POST without it is "
        "checked to get 401), embedded worker on; "
        "Slack and PagerDuty: the tests' fakes in the bench process; all on loopback. "
        f"{SENDERS} sender threads keep the schedule even when answers slow."
    )
    section.notes.append(
        "Alerts: distinct fingerprints, round-robin over the services, all firing and critical, "
        "startsAt = send time; grouping window 30 min, so each deploy's page gathers all its alerts. "
        "Times are from the first POST being sent; webhook times are client-side."
    )
    with tempfile.TemporaryDirectory(prefix="shepherd-storm-") as tmp:
        repo = Path(tmp) / "repo.git"
        windows = make_repo(repo)
        people = sum(w.authors for w in windows) / len(windows)
        section.notes.append(
            f"Each deploy: {RANGE} commits, {people:.1f} authors on average, all known by slack_user_id: "
            "a page is a DM to each and a reply in the service channel's thread, plus one PagerDuty trigger."
        )
        shape = (alerts, batch, seconds)
        bench_database("SQLite", None, Path(tmp) / "sqlite", repo, windows, shape, section)
        admin_url = server.postgres_admin_url()
        if admin_url is None:
            section.notes.append("PostgreSQL: skipped (no server; set SHEPHERD_TEST_POSTGRES_URL).")
            return section
        with server.fresh_database(admin_url) as url:
            bench_database("PostgreSQL", url, Path(tmp) / "pg", repo, windows, shape, section)
    return section
