"""API throughput: POST /api/v1/deploys against `shepherd serve`, on SQLite and PostgreSQL.

The server runs as it ships (embedded worker on, so every deploy also queues and runs an
`attribute` job in the same process); the client is a small thread pool of keep-alive
httpx clients over loopback. Counts and time are bounded; the server is always stopped.
"""

from __future__ import annotations

import itertools
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import server
from bench.common import WORK, Section, median, millis, percentile

REQUESTS = 2_000
THREADS = 8
WARMUP = 50
TIME_LIMIT = 90.0  # seconds of load per database, at most
DRAIN_LIMIT = 10.0  # seconds spent watching the worker after the load
SERVICE = "bench"
_JOBS_RE = re.compile(r'^shepherd_jobs\{state="(\w+)"\} (\d+)$', re.M)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    jobs: str = ""
    drain: str = ""


def _post(client: httpx.Client, sha: str, key: str) -> str | None:
    """One deploy start; None when it was created, else what went wrong."""
    body = {"service": SERVICE, "environment": "production", "sha": sha, "idempotency_key": key}
    try:
        response = client.post("/api/v1/deploys", json=body)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.status_code == 201 else f"HTTP {response.status_code}: {response.text[:200]}"


def _client_loop(base_url: str, shas: list[str], keys: list[str], deadline: float, load: Load) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        for sha, key in zip(itertools.cycle(shas), keys, strict=False):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            error = _post(client, sha, key)
            elapsed = time.perf_counter() - start
            if error:  # list.append is atomic: the threads share `load` without a lock
                load.errors.append(error)
            else:
                load.latencies.append(elapsed)


def generate_load(base_url: str, shas: list[str], requests: int, threads: int) -> Load:
    run = f"{time.time_ns()}"
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        for i in range(WARMUP):
            error = _post(client, shas[i % len(shas)], f"warmup-{run}-{i}")
            if error:
                raise RuntimeError(f"warm-up request failed: {error}")
    keys = [f"bench-{run}-{i}" for i in range(requests)]
    chunks = [keys[i::threads] for i in range(threads)]
    load = Load()
    deadline = time.monotonic() + TIME_LIMIT
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(_client_loop, base_url, shas, c, deadline, load) for c in chunks]:
            future.result()
    load.elapsed = time.perf_counter() - start
    load.jobs = ", ".join(f"{state} {n:,}" for state, n in _job_counts(base_url).items())
    load.drain = _drain_rate(base_url)
    return load


def _job_counts(base_url: str) -> dict[str, int]:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return {state: int(n) for state, n in _JOBS_RE.findall(text)}


def _drain_rate(base_url: str) -> str:
    """How fast the embedded worker gets through the queued `attribute` jobs (bounded wait)."""
    first, start = _job_counts(base_url), time.perf_counter()
    counts = first
    while counts.get("pending", 0) and time.perf_counter() - start < DRAIN_LIMIT:
        time.sleep(0.5)
        counts = _job_counts(base_url)
    done, elapsed = counts.get("done", 0) - first.get("done", 0), time.perf_counter() - start
    pending = counts.get("pending", 0)
    return f"{done / elapsed:,.0f} jobs/s ({done:,} done in {elapsed:.1f} s; {pending:,} pending)"


def bench_database(name: str, database_url: str | None, tmp: Path, requests: int, section: Section) -> None:
    """Serve on one database (None = a SQLite file in `tmp`) and add its figures to `section`."""
    tmp.mkdir(parents=True, exist_ok=True)
    shas = server.make_repo(tmp / "repo")
    config = server.write_config(tmp / "shepherd.yaml", SERVICE, tmp / "repo")
    env = server.server_env(config, database_url or f"sqlite:///{tmp}/b.db", tmp)
    log = WORK / f"serve-{name.lower()}.log"
    try:
        if database_url is not None:
            server.upgrade_database(env)
        with server.running_server(env, log) as base_url:
            load = generate_load(base_url, shas, requests, THREADS)
    except (RuntimeError, httpx.HTTPError) as exc:
        section.add(f"{name}: failed", str(exc).splitlines()[0][:300])
        section.notes.append(f"{name}: server log in {log.relative_to(WORK.parent.parent)}.")
        return
    _report(name, load, section)


def _report(name: str, load: Load, section: Section) -> None:
    done = len(load.latencies)
    if not done:
        section.add(f"{name}: failed", "; ".join(load.errors[:3]) or "no request completed")
        return
    rate = done / load.elapsed
    p50, p99 = median(load.latencies), percentile(load.latencies, 99)
    section.add(f"{name}: requests/s", f"{rate:,.0f}  ({done:,} in {load.elapsed:.1f} s)")
    section.add(f"{name}: latency p50 / p99", f"{millis(p50)} / {millis(p99)}")
    section.add(
        f"{name}: errors", f"{len(load.errors)}" + (f" (first: {load.errors[0]})" if load.errors else "")
    )
    section.add(f"{name}: jobs right after the load", load.jobs)
    if name == "SQLite" and p99 > 10 * p50:
        section.notes.append(
            f"SQLite p99 is {p99 / p50:.0f}× p50: concurrent writers wait in SQLite's busy handler "
            "(BEGIN IMMEDIATE + busy_timeout), which sleeps and retries and is not first-come first-served."
        )
    section.add(f"{name}: embedded worker, after the load", load.drain)


def run(requests: int = REQUESTS) -> Section:
    section = Section(f"API: POST /api/v1/deploys, {requests:,} requests from {THREADS} threads")
    section.notes.append("Server: `shepherd serve --insecure-dev`, embedded worker on, loopback.")
    with tempfile.TemporaryDirectory(prefix="shepherd-bench-") as tmp:
        bench_database("SQLite", None, Path(tmp) / "sqlite", requests, section)
    admin_url = server.postgres_admin_url()
    if admin_url is None:
        section.notes.append("PostgreSQL: skipped (no server; set SHEPHERD_TEST_POSTGRES_URL).")
        return section
    with (
        tempfile.TemporaryDirectory(prefix="shepherd-bench-") as tmp,
        server.fresh_database(admin_url) as url,
    ):
        bench_database("PostgreSQL", url, Path(tmp) / "pg", requests, section)
    return section
