"""Watch scale: many concurrent watches at a 30 s interval, one worker thread: CPU and lag.

An hour of watching is not waited for: the clock is simulated. Setup writes, in a few big
transactions through the repositories, what the first look of each watch would leave
behind: the deploy, its watch (`start_watch`), its three check rows and its pending
`watch` job. Deploy start times are spread over the last hour in a shuffled order, so the
watches have every age from 0 to 60 minutes, as in steady state (young ones judge a few
points, old ones up to 120 a series), and no age is favoured by the order jobs are leased.

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
import io
import math
import os
import pstats
import random
import resource
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from tests.fakes.metrics import FakeMetricsSource, MetricsCall

from bench import server
from bench.common import Section, median, millis, percentile, seconds
from shepherd.adapters.config_file import parse_config
from shepherd.adapters.console_notifier import ConsoleNotifier
from shepherd.adapters.db import migrate
from shepherd.adapters.db.engine import build_engine
from shepherd.adapters.db.tables import JobRow
from shepherd.bootstrap import Shepherd, bootstrap
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.jobs import JobState
from shepherd.domain.metrics import CheckResult, Outcome, Point, Series
from shepherd.domain.model import AttributionState, Deploy, DeployStatus
from shepherd.domain.watch import StoredCheck
from shepherd.entrypoints.worker import Worker
from shepherd.services.jobs import Handler, JobContext
from shepherd.services.metrics_port import MetricsSource
from shepherd.services.notify import SYNC_JOB, NotifyDeps, sync_messages
from shepherd.services.watch import WATCH_JOB, WatchDeps, run_watch, start_watch, watch_job
from shepherd.settings import Settings

WATCHES = 2_000
DATABASES = ("sqlite", "postgresql")
MINUTES = 1.0  # simulated minutes measured per database: 2 rounds of 30 s
INTERVAL = 30  # seconds between two looks of a watch
WATCH_MINUTES = 60
SERVICES = 50  # the watched deploys are spread over this many services
REGRESSING = 0.01  # share of deploys whose error ratio is 10× their stable version's
ROUND_LIMIT = 60.0  # wall seconds: a round still draining then is stopped and extrapolated
TIME_LIMIT = 60.0  # wall seconds of measured rounds per database: no round that would end past it
CHUNK = 50  # jobs per run_until_idle call, so a round can be stopped at ROUND_LIMIT
PROFILE_JOBS = 300  # jobs of one more SQLite round under cProfile, not counted
BATCH = 250  # deploys per setup transaction
SEED = 20261102
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class SimClock:
    """The simulated now: moved only by the benchmark."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- the configuration and the fake metrics ---------------------------------------------

CHECKS = """
    checks:
      - name: error ratio
        query: 'errors{service="{service}",version="{version}"}'
        weight_query: 'requests{service="{service}",version="{version}"}'
        kind: ratio
        tolerance: 0.2
        critical: true
      - name: p95 latency
        query: 'latency_p95{service="{service}"}'
        kind: latency
        tolerance: 0.2
      - name: queue depth
        query: 'queue_depth{service="{service}"}'
        kind: gauge
        direction: both
        tolerance: 0.5"""


def service_name(i: int) -> str:
    return f"svc-{i:03d}"


def make_config(services: int, repository: Path) -> ShepherdConfig:
    lines = [f"policies: {{watch_minutes: {WATCH_MINUTES}, watch_interval_seconds: {INTERVAL}}}", "services:"]
    for i in range(services):
        name = service_name(i)
        lines += [f"  - name: {name}", f"    repository: {repository}", f'    slack_channel: "#{name}"']
        lines.append(CHECKS.strip("\n"))
    return parse_config("\n".join(lines) + "\n")


LEVELS = {"errors": 0.004, "requests": 200.0, "latency_p95": 0.250, "queue_depth": 40.0}  # ratio, rps, s, n
NOISE = {"errors": 0.25, "requests": 0.05, "latency_p95": 0.08, "queue_depth": 0.15}  # relative sd


class SeededSeries:
    """Realistic-looking series, computed per call: a daily cycle plus seeded noise."""

    def __init__(self, seed: int, regressing: set[str]) -> None:
        rng = random.Random(seed)
        self._noise = [rng.gauss(0.0, 1.0) for _ in range(8192)]
        self._regressing = regressing  # versions whose error ratio is 10×
        self.cpu = 0.0  # thread CPU seconds spent answering (not Shepherd's)

    def __call__(self, call: MetricsCall) -> list[Series]:
        started = time.thread_time()
        metric, labels = call.query.split("{", 1)
        version = labels.split('version="')[1].split('"')[0] if 'version="' in labels else ""
        level = LEVELS[metric] * (10.0 if metric == "errors" and version in self._regressing else 1.0)
        spread, offset = NOISE[metric], zlib.crc32(call.query.encode())
        step, noise, size = call.step_seconds, self._noise, len(self._noise)
        points = []
        for k in range(math.ceil(call.start.timestamp() / step), math.floor(call.end.timestamp() / step) + 1):
            t = k * step
            daily = 1.0 + 0.2 * math.sin(2 * math.pi * t / 86400.0)
            points.append(Point(t, max(0.0, level * daily * (1.0 + spread * noise[(k + offset) % size]))))
        self.cpu += time.thread_time() - started
        return [Series({"version": version} if version else {}, tuple(points))]


# -- setup -------------------------------------------------------------------------------


@dataclass
class Meter:
    """What the wrapped handlers saw: runs per job kind, and when each watch tick started."""

    runs: Counter[str] = field(default_factory=Counter)
    starts: list[float] = field(default_factory=list)  # perf_counter at each watch tick's start
    errors: Counter[str] = field(default_factory=Counter)  # "kind: exception" -> count
    ticked: dict[int, float] = field(default_factory=dict)  # deploy id -> its watch tick's start
    told: list[float] = field(default_factory=list)  # tick start -> its deploy's sync start, seconds

    def wrap(self, kind: str, handler: Handler) -> Handler:
        def measured(ctx: JobContext) -> None:
            now, deploy_id = time.perf_counter(), int(ctx.payload.get("deploy_id", 0))
            if kind == WATCH_JOB:
                self.starts.append(now)
                self.ticked[deploy_id] = now
            elif kind == SYNC_JOB and deploy_id in self.ticked:
                self.told.append(now - self.ticked.pop(deploy_id))
            self.runs[kind] += 1
            try:
                handler(ctx)
            except Exception as exc:  # the runner retries it; the report must say so
                self.errors[f"{kind}: {type(exc).__name__}: {str(exc)[:120]}"] += 1
                raise

        return measured

    def reset(self) -> None:
        self.runs.clear()
        self.starts.clear()
        self.errors.clear()
        self.ticked.clear()
        self.told.clear()


@dataclass
class World:
    shepherd: Shepherd
    clock: SimClock
    source: FakeMetricsSource
    series: SeededSeries
    meter: Meter
    watches: int


def build_world(
    database_url: str, tmp: Path, watches: int, *, latency: float = 0.0, together: bool = True
) -> World:
    """`latency`: seconds each metric query waits; `together`: a look's queries as in production
    (the process's pool), else one after the other."""
    tmp.mkdir(parents=True, exist_ok=True)
    services = min(SERVICES, watches)
    config = make_config(services, tmp)
    settings = Settings.model_validate(
        {"database_url": database_url, "data_dir": tmp / "data", "config": tmp / "shepherd.yaml"}
    )
    every = max(1, round(1 / REGRESSING))
    series = SeededSeries(SEED, {f"r{i}" for i in range(watches) if i % every == every // 2})
    source = FakeMetricsSource(default=series, name="prometheus")
    slack = io.StringIO()  # what "Slack" got; emptied after each sync so memory stays flat
    notifier = ConsoleNotifier(Console(file=slack, width=100))
    slow: MetricsSource = SlowSource(source, latency) if latency > 0 else source
    watch = WatchDeps(config=config, sources={"prometheus": slow})
    notify = NotifyDeps(config=config, notifier=notifier, public_url=settings.public_url, charts=None)
    meter, clock = Meter(), SimClock(T0)

    def sync(ctx: JobContext) -> None:
        sync_messages(ctx, notify)
        slack.seek(0)
        slack.truncate()

    handlers: dict[str, Handler] = {
        WATCH_JOB: meter.wrap(WATCH_JOB, lambda ctx: run_watch(ctx, watch)),
        SYNC_JOB: meter.wrap(SYNC_JOB, sync),
    }
    engine = build_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    shepherd = bootstrap(
        settings, config=config, clock=clock, upgrade_database=False, extra_handlers=handlers
    )
    if together and shepherd.queries is not None:
        watch = replace(watch, queries=shepherd.queries)  # the handler above reads it at call time
    try:
        _record_deploys(shepherd, services, watches)
    except BaseException:
        shepherd.close()
        raise
    return World(shepherd, clock, source, series, meter, watches)


@dataclass(frozen=True)
class SlowSource:
    """A metrics backend that takes `seconds` to answer each query (sleeping: no CPU)."""

    inner: MetricsSource
    seconds: float

    def query_range(self, query: str, *, start: datetime, end: datetime, step_seconds: float) -> list[Series]:
        time.sleep(self.seconds)
        return self.inner.query_range(query, start=start, end=end, step_seconds=step_seconds)


def _deploy(service: str, version: str, started_at: datetime, status: DeployStatus) -> Deploy:
    return Deploy(
        service=service,
        environment="production",
        sha=f"{zlib.crc32(version.encode()):08x}",
        version=version,
        status=status,
        source="bench",
        started_at=started_at,
        created_at=started_at,
        updated_at=started_at,
        finished_at=started_at + timedelta(minutes=5) if status is DeployStatus.SUCCEEDED else None,
        attribution_state=AttributionState.DONE,
        total_commits=0,
        total_changes=0,
    )


def _record_deploys(shepherd: Shepherd, services: int, watches: int) -> None:
    """Per service a stable version (succeeded 3 h ago), then the watched deploys, as after a first look."""
    config = shepherd.config
    with shepherd.uow_factory() as uow:
        for i in range(services):
            earlier = T0 - timedelta(hours=3)
            uow.deploys.add(_deploy(service_name(i), f"s{i}", earlier, DeployStatus.SUCCEEDED))
        uow.commit()
    ages = [WATCH_MINUTES * 60 * (i + 0.5) / watches for i in range(watches)]
    random.Random(SEED).shuffle(ages)  # lease order (by id) must not follow age
    for first in range(0, watches, BATCH):
        with shepherd.uow_factory() as uow:
            for i in range(first, min(first + BATCH, watches)):
                service = config.service(service_name(i % services))
                assert service is not None
                started = T0 - timedelta(seconds=ages[i])
                deploy = uow.deploys.add(_deploy(service.name, f"r{i}", started, DeployStatus.STARTED))
                assert deploy.id is not None
                watch = start_watch(uow, deploy, service, config)
                for check in service.checks:
                    result = CheckResult(check.name, Outcome.INCONCLUSIVE, "set up", critical=check.critical)
                    mode = "canary" if check.by_version else "before_after"
                    uow.watches.save_check(StoredCheck(deploy.id, result, mode, (), (), T0))
                uow.watches.save(watch)
                uow.jobs.enqueue(watch_job(deploy.id, run_at=T0 + timedelta(seconds=INTERVAL)), now=T0)
            uow.commit()


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
            JobRow.kind == WATCH_JOB, JobRow.state == JobState.PENDING.value, JobRow.run_at <= world.clock()
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
        ticks=meter.runs[WATCH_JOB],
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
    others = ", ".join(f"{k} {n:,}" for k, n in runs.most_common() if k != WATCH_JOB) or "no other jobs"
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
