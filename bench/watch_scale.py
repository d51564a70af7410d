"""Watch scale: many concurrent watches at a 30 s interval, one worker thread: CPU and lag.

An hour of watching is not waited for: the clock is simulated. Setup (bench/watch_world.py)
writes what the first look of each watch would leave behind, for watches of every age from 0 to
60 minutes, as in steady state (young ones judge a few points, old ones up to 120 a series).

Then the clock advances in 30 s steps and at each step the worker's own loop
(`Worker.run_until_idle`: run a job; the transaction that settles it, for a watch tick the one
that stores its look, leases the next) drains what is due: every
watch's self-rescheduled tick and the `sync_messages` jobs its verdict changes cause.
Real database, real jobs table, real judge; only the metrics source (tests/fakes/metrics.py
answering seeded, computed series at once) and Slack (the console notifier, printing to
nowhere) are fakes. Deploys are attributed with no changes (no git): a finished or failed
watch updates its channel summary and DMs nobody.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import server
from bench.common import Section, median, millis, percentile, seconds
from bench.watch_world import INTERVAL, REGRESSING, SERVICES, WATCH_MINUTES, World, build_world
from shepherd.adapters.db.tables import JobRow
from shepherd.domain.jobs import JobKind, JobState
from shepherd.services.worker import Worker

WATCHES = 2_000
DATABASES = ("sqlite", "postgresql")
MINUTES = 1.0  # simulated minutes measured per database: 2 rounds of 30 s
ROUND_LIMIT = 60.0  # wall seconds: a round still draining then is stopped and extrapolated
TIME_LIMIT = 60.0  # wall seconds of measured rounds per database: no round that would end past it
CHUNK = 50  # jobs per run_until_idle call, so a round can be stopped at ROUND_LIMIT
PROFILE_JOBS = 300  # jobs of one more SQLite round under cProfile, not counted


# -- measuring ---------------------------------------------------------------------------


def process_cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class PostgresCpu:
    """CPU of the server processes (backends) connected to the benchmark's database, from /proc."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._database = url.database
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._tick = os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> dict[int, float] | None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self._database,),
            ).fetchall()
        out = {}
        for (pid,) in rows:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None  # another machine, or not readable: no figure rather than a wrong one
            out[int(pid)] = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
        return out

    @staticmethod
    def used(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
        if before is None or after is None:
            return None
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@dataclass
class Round:
    due: int  # watch jobs due when the round began
    ticks: int  # watch ticks run
    runs: dict[str, int]
    jobs: int
    wall: float
    cpu: float  # this process (and children, if any)
    fake_cpu: float  # of which the fake metrics source
    db_cpu: float | None  # PostgreSQL backends serving the benchmark
    lags: list[float]  # per watch tick: wall seconds from the round's start to the tick's start
    errors: dict[str, int]  # jobs that raised (the runner retries them later)
    told: list[float]  # a verdict change's tick start -> its sync_messages job start

    @property
    def complete(self) -> bool:
        return self.ticks >= self.due


def due_watches(world: World) -> int:
    with world.shepherd.engine.connect() as conn:
        query = select(func.count()).where(
            JobRow.kind == JobKind.WATCH,
            JobRow.state == JobState.PENDING.value,
            JobRow.run_at <= world.clock(),
        )
        return int(conn.execute(query).scalar_one())


def drain(world: World, pg: PostgresCpu | None) -> Round:
    """Run everything due now with the worker's loop; stop at ROUND_LIMIT if it is not done."""
    worker, meter = Worker(world.shepherd.runner), world.meter
    due = due_watches(world)
    meter.reset()
    fake_before, db_before = world.series.cpu, pg.snapshot() if pg else None
    cpu_before, started = process_cpu(), time.perf_counter()
    jobs = 0
    while True:
        ran = worker.run_until_idle(max_jobs=CHUNK)
        jobs += ran
        if ran < CHUNK or time.perf_counter() - started > ROUND_LIMIT:
            break
    wall, cpu = time.perf_counter() - started, process_cpu() - cpu_before
    db_cpu = PostgresCpu.used(db_before, pg.snapshot()) if pg else None
    world.source.calls.clear()  # the fake records every call: keep memory flat
    return Round(
        due=due,
        ticks=meter.runs[JobKind.WATCH],
        runs=dict(meter.runs),
        jobs=jobs,
        wall=wall,
        cpu=cpu,
        fake_cpu=world.series.cpu - fake_before,
        db_cpu=db_cpu,
        lags=[s - started for s in meter.starts],
        errors=dict(meter.errors),
        told=list(meter.told),
    )


def profile_round(world: World, jobs: int) -> list[str]:
    """Part of one more round under cProfile: where the time goes."""
    world.clock.advance(INTERVAL)
    worker, profiler = Worker(world.shepherd.runner), cProfile.Profile()
    profiler.enable()
    worker.run_until_idle(max_jobs=jobs)
    profiler.disable()
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())

    def cumulative(match: Callable[[str, str], bool]) -> float:
        return sum(v[3] for (f, _line, n), v in raw.items() if match(f, n))

    parts = {
        "judging (judge_check)": cumulative(lambda f, n: n == "judge_check"),
        "storing the look (check rows, watch, next run, next job's lease: one commit)": cumulative(
            lambda f, n: n == "_record" and f.endswith("services/watch.py")
        ),
        "(within it) the check rows (save_checks: one update, points packed)": cumulative(
            lambda f, n: n == "save_checks"
        ),
        "leasing jobs (mostly within the above)": cumulative(
            lambda f, n: n == "lease" and f.endswith("db/jobs.py")
        ),
        "reading the deploy and its watch": cumulative(
            lambda f, n: n == "get" and f.endswith(("db/repositories.py", "db/watches.py"))
        ),
        "the fake metrics source": cumulative(lambda f, n: n == "query_range"),
    }
    shares = [f"{name} {100 * t / total:.0f}%" for name, t in sorted(parts.items(), key=lambda kv: -kv[1])]
    by_package: Counter[str] = Counter()
    for (filename, _line, name), v in raw.items():
        by_package[_package(filename, name)] += v[2]
    top = ", ".join(f"{p} {100 * t / total:.0f}%" for p, t in by_package.most_common(5))
    return [", ".join(shares), f"self time by package: {top}"]


def _package(filename: str, name: str) -> str:
    """Whose code a profiled function is: a top-level package, or the C function's name."""
    if filename == "~":  # built-in: name the driver calls, lump the rest
        if "sqlite3" in name or "psycopg" in name:
            return "database driver (C)"
        return "builtins"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if "shepherd" in parts:
        return "shepherd"
    if "bench" in parts:
        return "bench (the fake source)"
    return "stdlib"


@dataclass
class Result:
    setup: float
    rounds: list[Round]
    profile: list[str]
    load: tuple[float, float]  # 1-minute load average before and after the rounds


def bench_database(database_url: str, tmp: Path, watches: int, minutes: float, *, profile: bool) -> Result:
    started = time.perf_counter()
    world = build_world(database_url, tmp, watches)
    setup = time.perf_counter() - started
    pg = PostgresCpu(database_url) if world.shepherd.engine.dialect.name == "postgresql" else None
    rounds: list[Round] = []
    load_before = os.getloadavg()[0]
    try:
        for _ in range(max(1, round(minutes * 60 / INTERVAL))):
            spent = sum(r.wall for r in rounds)
            if rounds and (not rounds[-1].complete or spent + rounds[-1].wall > TIME_LIMIT):
                break
            world.clock.advance(INTERVAL)
            rounds.append(drain(world, pg))
        lines = profile_round(world, PROFILE_JOBS) if profile else []
    finally:
        world.shepherd.close()
    return Result(setup, rounds, lines, (load_before, os.getloadavg()[0]))


# -- reporting ---------------------------------------------------------------------------


def _report(name: str, result: Result, section: Section) -> None:
    rounds = result.rounds
    ticks = sum(r.ticks for r in rounds)
    if not ticks:
        section.add(f"{name}: failed", "no watch tick ran")
        return
    watch_hours = ticks * INTERVAL / 3600  # each tick stands for one interval of one watch
    cpu, fake = sum(r.cpu for r in rounds), sum(r.fake_cpu for r in rounds)
    wall = sum(r.wall for r in rounds)
    per_tick = wall / ticks  # wall, including the few sync jobs the ticks caused
    runs: Counter[str] = Counter()
    for r in rounds:
        runs.update(r.runs)
    others = ", ".join(f"{k} {n:,}" for k, n in runs.most_common() if k != JobKind.WATCH) or "no other jobs"
    section.add(f"{name}: setup", f"{result.setup:.1f} s")
    errors: Counter[str] = Counter()
    for r in rounds:
        errors.update(r.errors)
    if errors:
        first, count = errors.most_common(1)[0]
        section.add(f"{name}: jobs that raised", f"{sum(errors.values()):,} (most: {count:,}× {first})")
    section.add(
        f"{name}: measured",
        f"{len(rounds)} round{'s' if len(rounds) > 1 else ''} of {INTERVAL} s, {ticks:,} watch ticks, "
        f"{others}, in {wall:.1f} s (on CPU {100 * cpu / wall:.0f}% of it; load average "
        f"{result.load[0]:.1f} → {result.load[1]:.1f} on {os.cpu_count()} cores)",
    )
    section.add(
        f"{name}: CPU s per watch-hour",
        f"{(cpu - fake) / watch_hours:.2f} ({millis((cpu - fake) / ticks)} a tick; "
        f"+{fake / watch_hours:.2f} in the fake metrics source)",
    )
    db_cpus = [r.db_cpu for r in rounds]
    if rounds and all(c is not None for c in db_cpus):
        db = sum(c for c in db_cpus if c is not None)
        section.add(
            f"{name}: + PostgreSQL server CPU s per watch-hour",
            f"{db / watch_hours:.2f} ({millis(db / ticks)} a tick)",
        )
    done = [r for r in rounds if r.complete]
    if done:
        walls = [r.wall for r in done]
        lags = [lag for r in done for lag in r.lags]
        fits = "fits in" if max(walls) <= INTERVAL else "does NOT fit in"
        section.add(
            f"{name}: drain of a round p50 / p99 / max ({len(done)} round{'s' if len(done) > 1 else ''})",
            f"{seconds(median(walls))} / {seconds(percentile(walls, 99))} / {seconds(max(walls))} for "
            f"{done[0].due:,} watches due at once: {fits} {INTERVAL} s",
        )
        section.add(
            f"{name}: job lag (tick start after its round began) p50 / p99 / max",
            f"{seconds(median(lags))} / {seconds(percentile(lags, 99))} / {seconds(max(lags))}",
        )
    for r in rounds:
        if not r.complete:
            projected = r.wall / r.ticks * r.due
            section.add(
                f"{name}: round stopped at {ROUND_LIMIT:.0f} s",
                f"{r.ticks:,} of {r.due:,} ticks done; the round would take ~{seconds(projected)}: "
                + ("fits in" if projected <= INTERVAL else "does NOT fit in")
                + f" {INTERVAL} s",
            )
            section.add(
                f"{name}: job lag of the {r.ticks:,} ticks run p50 / max",
                f"{seconds(median(r.lags))} / {seconds(max(r.lags))} (the rest wait longer)",
            )
    told = [t for r in rounds for t in r.told]
    if told:
        section.add(
            f"{name}: verdict change → its sync_messages job starts, p50 / max",
            f"{seconds(median(told))} / {seconds(max(told))} ({len(told)}; it queues behind the round)",
        )
    section.add(
        f"{name}: watches one worker thread sustains at {INTERVAL} s",
        f"~{INTERVAL / per_tick:,.0f} (= {INTERVAL} s / {millis(per_tick)} wall a tick; "
        f"~{INTERVAL * ticks / (cpu - fake):,.0f} on CPU alone)",
    )


def _postgres(section: Section, tmp: Path, watches: int, minutes: float) -> None:
    admin_url = server.postgres_admin_url()
    if admin_url is None:
        section.notes.append("PostgreSQL: skipped (no server; set SHEPHERD_TEST_POSTGRES_URL).")
        return
    with server.fresh_database(admin_url) as url:
        pg = bench_database(url, tmp, watches, minutes, profile=False)
    _report("PostgreSQL", pg, section)


def run(watches: int = WATCHES, minutes: float = MINUTES, databases: tuple[str, ...] = DATABASES) -> Section:
    rounds = max(1, round(minutes * 60 / INTERVAL))
    section = Section(
        f"Watch scale: {watches:,} concurrent watches (3 checks, {INTERVAL} s interval), "
        f"up to {rounds} simulated rounds, one worker thread"
    )
    section.notes.append(
        f"Simulated clock. {watches:,} deploys over {min(SERVICES, watches)} services, started over the "
        f"last {WATCH_MINUTES} min (every watch age present, as in steady state). Checks: an error ratio "
        "weighted by request rate (canary: new vs stable version, 4 queries) and a p95 latency and a "
        "gauge (before/after plus the same pair a week earlier, 4 queries each): 12 metric queries a "
        f"look. {REGRESSING:.0%} of deploys regress. All watches are due at once each round (the worst "
        "case for lag); the worker's loop drains it (Worker.run_until_idle: run a job; the "
        "transaction that settles it leases the next)."
    )
    section.notes.append(
        "CPU: getrusage of this process (self and children) over the measured rounds only, minus the "
        "fake metrics source's own CPU; a real Prometheus adds HTTP and JSON decoding for 12 queries a "
        "look. Per watch-hour = CPU / (ticks × 30 s / 3600 s). When PostgreSQL runs on this machine its "
        "backends' CPU is read from /proc and shown apart. Slack: the console notifier writing nowhere. "
        "Wall times (drain, lag, watches a thread sustains) include whatever else runs on the machine "
        "(see the load average); CPU figures do not."
    )
    with tempfile.TemporaryDirectory(prefix="shepherd-bench-") as tmp:
        profile: list[str] = []
        if "sqlite" in databases:
            sqlite = bench_database(
                f"sqlite:///{tmp}/w.db", Path(tmp) / "sqlite", watches, minutes, profile=True
            )
            _report("SQLite", sqlite, section)
            profile = sqlite.profile
        if "postgresql" in databases:
            _postgres(section, Path(tmp) / "pg", watches, minutes)
    section.notes.append(
        "The database work of a tick: two transactions, a read (the deploy, the watch) and the look's "
        "write (one update of the three check rows, their points packed as doubles, the watch row, the "
        "job's next run, and the lease of the next due job: two selects and an update, on PostgreSQL "
        "an advisory lock on its key too)."
    )
    if profile:
        section.notes.append(
            f"What dominates (cProfile, {PROFILE_JOBS} jobs of one more SQLite round; cumulative): "
            f"{profile[0]}; {profile[1]}."
        )
    section.notes.append(
        "The fake answers at once. A real metrics backend adds 12 sequential queries' latency to "
        "each tick's wall time (at 10 ms a query, +120 ms: a thread then keeps ~200 watches at 30 s), "
        "waiting that more worker threads overlap on PostgreSQL (SHEPHERD_WORKER_CONCURRENCY, more "
        "`shepherd worker` processes); on SQLite the worker is one thread by design."
    )
    return section


if __name__ == "__main__":
    import sys

    from bench.report import print_section

    n = int(sys.argv[1]) if len(sys.argv) > 1 else WATCHES
    m = float(sys.argv[2]) if len(sys.argv) > 2 else MINUTES
    print_section(Console(width=150), run(n, m))
