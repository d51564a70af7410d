"""Notification latency: a deploy start answered → its first chat.postMessage at Slack.

`shepherd serve` runs as it ships (embedded worker woken in-process by the request's
commit): the deploy start queues `attribute` (git over the range), which queues
`sync_messages`, which posts the channel summary, then one DM per author. Slack is the
tests' fake (tests/fakes/slack.py) in this process, on loopback, stamping each post's
arrival (bench/slack_clock.py). Deploys go one at a time, each waiting for all its
messages, so the figures are latency, not queueing. Time is bounded; the server is stopped.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import gitgen, server
from bench.common import WORK, Section, median, millis, percentile
from bench.slack_clock import TOKEN, SlackClock, timed_fake_slack

DEPLOYS = 200
RANGE = 20  # commits per deploy
WARMUP = 5  # deploys before the measured ones, not counted
TIME_LIMIT = 60.0  # seconds of measured deploys per database, at most
FIRST_TIMEOUT = 5.0  # per deploy: wait this long for its first message
REST_TIMEOUT = 2.0  # then this long for the rest (its author DMs)
TARGET_P99 = 0.250  # seconds, on SQLite
SERVICE = "bench"
CHANNEL = "#bench"
# Three people Shepherd knows by their slack_user_id in shepherd.yaml, two it has to look
# up by email (users.lookupByEmail on the fake, then cached in the database).
CONFIGURED = [gitgen.Person(f"Author {i}", f"author{i}@example.com") for i in range(3)]
LOOKED_UP = [gitgen.Person(f"Author {i}", f"author{i}@example.com") for i in range(3, 5)]
SLACK_IDS = {p.email: f"UBENCH{i:04d}" for i, p in enumerate(CONFIGURED + LOOKED_UP)}


@dataclass(frozen=True)
class Window:
    base: str
    head: str
    expected: int  # messages: the channel summary and one DM per author


@dataclass(frozen=True)
class Sample:
    deploy_id: int
    first: float | None  # seconds from the answer to the first post, None if none came
    last: float | None  # ... to the last of the expected posts, None if some did not come
    first_key: str


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    unmatched: int = 0


def make_repo(path: Path, deploys: int) -> list[Window]:
    """A straight history with (WARMUP + deploys) consecutive ranges of RANGE commits."""
    count = (WARMUP + deploys) * RANGE + 1
    commits = gitgen.build_linear(path, count, CONFIGURED + LOOKED_UP)
    windows = []
    for i in range(WARMUP + deploys):
        authors = {dev for _, dev in commits[i * RANGE + 1 : (i + 1) * RANGE + 1]}
        windows.append(Window(commits[i * RANGE][0], commits[(i + 1) * RANGE][0], 1 + len(authors)))
    return windows


def write_config(path: Path, repository: Path) -> Path:
    lines = ["services:", f"  - name: {SERVICE}", f"    repository: {repository}"]
    lines += ["    environments: [production]", f'    slack_channel: "{CHANNEL}"', "people:"]
    for person in CONFIGURED:
        lines += [f"  - name: {person.name}", f"    emails: [{person.email}]"]
        lines += [f"    slack_user_id: {SLACK_IDS[person.email]}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _deploy(client: httpx.Client, window: Window, key: str) -> tuple[int, float]:
    """Start one deploy; (its id, perf_counter when the answer was in)."""
    body = {"service": SERVICE, "environment": "production", "sha": window.head}
    body |= {"previous_sha": window.base, "idempotency_key": key}
    response = client.post("/api/v1/deploys", json=body)
    answered = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    return int(response.json()["id"]), answered


def _sample(clock: SlackClock, window: Window, deploy_id: int, answered: float) -> Sample:
    arrivals = clock.wait(deploy_id, 1, FIRST_TIMEOUT)
    if not arrivals:
        return Sample(deploy_id, None, None, "")
    arrivals = clock.wait(deploy_id, window.expected, REST_TIMEOUT)
    first = min(arrivals, key=lambda a: a.at)
    last = max(a.at for a in arrivals) - answered if len(arrivals) >= window.expected else None
    return Sample(deploy_id, first.at - answered, last, first.key)


def measure(base_url: str, clock: SlackClock, windows: list[Window]) -> Run:
    run, prefix = Run(), f"notify-{time.time_ns()}"
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        for i, window in enumerate(windows[:WARMUP]):
            sample = _sample(clock, window, *_deploy(client, window, f"{prefix}-warmup-{i}"))
            if sample.first is None:
                raise RuntimeError(
                    f"warm-up deploy {sample.deploy_id}: no Slack message within {FIRST_TIMEOUT}s"
                )
        deadline = time.monotonic() + TIME_LIMIT
        start = time.perf_counter()
        for i, window in enumerate(windows[WARMUP:]):
            if time.monotonic() > deadline:
                break
            try:
                deploy_id, answered = _deploy(client, window, f"{prefix}-{i}")
            except (RuntimeError, httpx.HTTPError) as exc:
                run.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            run.samples.append(_sample(clock, window, deploy_id, answered))
        run.elapsed = time.perf_counter() - start
    run.unmatched = clock.unmatched
    return run


def server_env(config: Path, database_url: str, data_dir: Path, slack_url: str) -> dict[str, str]:
    env = server.server_env(config, database_url, data_dir)
    env |= {"SHEPHERD_SLACK_TOKEN": TOKEN, "SHEPHERD_SLACK_API_URL": slack_url}
    # slack_sdk reads HTTP(S)_PROXY itself and ignores NO_PROXY: keep the fake on loopback.
    return {k: v for k, v in env.items() if k.lower() not in ("http_proxy", "https_proxy")}


def bench_database(
    name: str, database_url: str | None, tmp: Path, repo: Path, windows: list[Window], section: Section
) -> None:
    """Serve on one database (None = a SQLite file in `tmp`) and add its figures to `section`."""
    tmp.mkdir(parents=True, exist_ok=True)
    config = write_config(tmp / "shepherd.yaml", repo)
    log = WORK / f"notify-{name.lower()}.log"
    with timed_fake_slack(SLACK_IDS) as clock:
        env = server_env(config, database_url or f"sqlite:///{tmp}/b.db", tmp, clock.url)
        try:
            if database_url is not None:
                server.upgrade_database(env)
            with server.running_server(env, log) as base_url:
                run = measure(base_url, clock, windows)
        except (RuntimeError, httpx.HTTPError) as exc:
            section.add(f"{name}: failed", str(exc).splitlines()[0][:300])
            section.notes.append(f"{name}: server log in {log.relative_to(WORK.parent.parent)}.")
            return
    _report(name, run, section)


def _report(name: str, run: Run, section: Section) -> None:
    sent = len(run.samples)
    firsts = [s.first for s in run.samples if s.first is not None]
    if not firsts:
        section.add(f"{name}: failed", "; ".join(run.errors[:3]) or "no deploy got a Slack message")
        return
    p50, p99 = median(firsts), percentile(firsts, 99)
    section.add(
        f"{name}: first message p50 / p99 / max", f"{millis(p50)} / {millis(p99)} / {millis(max(firsts))}"
    )
    lasts = [s.last for s in run.samples if s.last is not None]
    if lasts:
        section.add(
            f"{name}: all messages of a deploy p50 / p99",
            f"{millis(median(lasts))} / {millis(percentile(lasts, 99))}",
        )
    got = f"{len(firsts)}/{sent} got a message, {len(lasts)}/{sent} all of theirs"
    section.add(f"{name}: deploys", f"{got} ({sent} in {run.elapsed:.1f} s)")
    kinds = Counter(s.first_key.split(":")[0] for s in run.samples if s.first is not None)
    section.add(f"{name}: first message was", ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    if run.errors or run.unmatched:
        first = f" (first: {run.errors[0]})" if run.errors else ""
        section.add(f"{name}: errors", f"{len(run.errors)}{first}; posts naming no deploy: {run.unmatched}")
    if name == "SQLite":
        verdict = "met" if p99 <= TARGET_P99 else f"missed by {millis(p99 - TARGET_P99)}"
        section.add(f"{name}: target p99 ≤ {TARGET_P99 * 1000:.0f} ms", verdict)


def run(deploys: int = DEPLOYS) -> Section:
    section = Section(
        f"Notify: deploy answered → first chat.postMessage, {deploys:,} sequential deploys of {RANGE} commits"
    )
    section.notes.append(
        "Server: `shepherd serve --insecure-dev`, embedded worker on; Slack: tests/fakes/slack.py in the "
        "bench process; all on loopback. Each deploy waits for all its messages before the next."
    )
    section.notes.append(
        f"Time from the client having the 201 to the fake Slack receiving the post; {WARMUP} warm-up "
        f"deploys first; at most {TIME_LIMIT:.0f} s of deploys per database."
    )
    with tempfile.TemporaryDirectory(prefix="shepherd-bench-") as tmp:
        repo = Path(tmp) / "repo.git"
        windows = make_repo(repo, deploys)
        authors = sum(w.expected - 1 for w in windows) / len(windows)
        section.notes.append(
            f"{len(CONFIGURED + LOOKED_UP)} authors ({len(LOOKED_UP)} found by users.lookupByEmail, then "
            f"cached), {authors:.1f} in a range on average: a channel summary and {authors:.1f} DMs a deploy."
        )
        bench_database("SQLite", None, Path(tmp) / "sqlite", repo, windows, section)
        admin_url = server.postgres_admin_url()
        if admin_url is None:
            section.notes.append("PostgreSQL: skipped (no server; set SHEPHERD_TEST_POSTGRES_URL).")
            return section
        with server.fresh_database(admin_url) as url:
            bench_database("PostgreSQL", url, Path(tmp) / "pg", repo, windows, section)
    return section
