"""The world the watch-scale benchmarks run in: a simulated clock, the services' config, seeded
metrics, and the deploys and watches as a first look would leave them.

Setup writes, in a few big transactions through the repositories, what the first look of each
watch would leave behind: the deploy, its watch (`start_watch`), its three check rows and its
pending `watch` job. Deploy start times are spread over the last hour in a shuffled order, so the
watches have every age from 0 to 60 minutes, as in steady state, and no age is favoured by the
order jobs are leased. The metrics source is tests/fakes/metrics.py answering seeded, computed
series at once; Slack is the console notifier, printing to nowhere.
"""

from __future__ import annotations

import io
import math
import random
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from tests.fakes.metrics import FakeMetricsSource, MetricsCall

from shepherd.adapters.config_file import parse_config
from shepherd.adapters.console_notifier import ConsoleNotifier, ConsoleUserLookup
from shepherd.adapters.db import migrate
from shepherd.adapters.db.engine import build_engine
from shepherd.bootstrap import Shepherd, bootstrap
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.deploys import AttributionState, Deploy, DeployStatus
from shepherd.domain.jobs import JobKind
from shepherd.domain.watch import CheckResult, Outcome, Point, Series, StoredCheck
from shepherd.services.jobs import Handler, JobContext
from shepherd.services.metrics_port import MetricsSource
from shepherd.services.notify import NotifyDeps, sync_messages
from shepherd.services.watch import WatchDeps, run_watch, start_watch, watch_job
from shepherd.settings import Settings

INTERVAL = 30  # seconds between two looks of a watch
WATCH_MINUTES = 60
SERVICES = 50  # the watched deploys are spread over this many services
REGRESSING = 0.01  # share of deploys whose error ratio is 10× their stable version's
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
            if kind == JobKind.WATCH:
                self.starts.append(now)
                self.ticked[deploy_id] = now
            elif kind == JobKind.SYNC_MESSAGES and deploy_id in self.ticked:
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
    notify = NotifyDeps(
        config=config,
        notifier=notifier,
        users=ConsoleUserLookup(),
        public_url=settings.public_url,
        charts=None,
    )
    meter, clock = Meter(), SimClock(T0)

    def sync(ctx: JobContext) -> None:
        sync_messages(ctx, notify)
        slack.seek(0)
        slack.truncate()

    handlers: dict[str, Handler] = {
        JobKind.WATCH: meter.wrap(JobKind.WATCH, lambda ctx: run_watch(ctx, watch)),
        JobKind.SYNC_MESSAGES: meter.wrap(JobKind.SYNC_MESSAGES, sync),
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
