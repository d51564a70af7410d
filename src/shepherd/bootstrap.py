"""Builds Shepherd from one validated Settings object. Nothing connects at import time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from shepherd.adapters.charts import MatplotlibCharts, MatplotlibDeliveryChart
from shepherd.adapters.config_file import load_config
from shepherd.adapters.console_notifier import ConsoleNotifier, ConsoleUserLookup
from shepherd.adapters.db import migrate
from shepherd.adapters.db.engine import build_engine, session_factory
from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.adapters.git import GitMirrors
from shepherd.adapters.github_api import GithubApi
from shepherd.adapters.metric_sources import build_metric_sources
from shepherd.adapters.pagerduty import PagerDutyEvents
from shepherd.adapters.probes import HttpProbes
from shepherd.adapters.rollback_runner import SubprocessRollbackRunner
from shepherd.adapters.slack.client import SlackNotifier
from shepherd.adapters.slack.identity import SlackUserLookup
from shepherd.adapters.slack.responses import SlackResponses
from shepherd.domain.config import ShepherdConfig
from shepherd.services import (
    alert_notes,
    alert_routing,
    attribution,
    digest,
    notify,
    ops_notice,
    paging,
    rollback,
    slack_replies,
    watch,
)
from shepherd.services.alert_notes import NoteDeps
from shepherd.services.alerts import AlertDeps
from shepherd.services.attribution import AttributionDeps
from shepherd.services.circuits import Circuits
from shepherd.services.digest import DigestDeps
from shepherd.services.jobs import Handler, HandlerRegistry, JobRunner
from shepherd.services.metrics_port import MetricsSource
from shepherd.services.notify import NotifyDeps
from shepherd.services.ops_notice import OpsNoticeDeps
from shepherd.services.paging import PagingDeps
from shepherd.services.parallel import Parallel, ThreadPool
from shepherd.services.ports import Notifier, UserLookup
from shepherd.services.rollback import RollbackDeps
from shepherd.services.watch import WatchDeps
from shepherd.services.worker import Worker
from shepherd.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


class DatabaseNotReady(Exception):
    pass


@dataclass
class Shepherd:
    """Everything the entrypoints need, built once."""

    settings: Settings
    config: ShepherdConfig
    engine: Engine
    uow_factory: SqlUnitOfWorkFactory
    runner: JobRunner
    clock: Callable[[], datetime] = utc_now
    handlers: HandlerRegistry = field(default_factory=HandlerRegistry)
    notifier: Notifier | None = None
    queries: ThreadPool | None = None

    def worker(self, *, concurrency: int | None = None) -> Worker:
        # The weekly digests are queued by whoever runs jobs: one key per week, so once however
        # many workers start.
        digest.schedule_digests(config=self.config, uow_factory=self.uow_factory, now=self.clock())
        worker = Worker(
            self.runner,
            concurrency=self.worker_concurrency(concurrency),
            poll_seconds=self.settings.job_poll_seconds,
            next_due=self._next_due,
        )
        self.uow_factory.on_jobs_committed(worker.wake)
        return worker

    def worker_concurrency(self, wanted: int | None = None) -> int:
        # SQLite serializes writers: more than one worker thread only adds waiting.
        if self.engine.dialect.name == "sqlite":
            return 1
        return max(1, wanted or self.settings.worker_concurrency)

    def _next_due(self) -> datetime | None:
        with self.uow_factory() as uow:
            return uow.jobs.next_run_at()

    def close(self) -> None:
        if self.queries is not None:
            self.queries.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings,
    *,
    config: ShepherdConfig | None = None,
    clock: Callable[[], datetime] = utc_now,
    upgrade_database: bool | None = None,
    extra_handlers: dict[str, Handler] | None = None,
) -> Shepherd:
    """Build the app. SQLite upgrades itself unless told not to; PostgreSQL must be current."""
    config = config if config is not None else load_config(settings.config)
    engine = build_engine(settings.database_url)
    if upgrade_database is None:
        upgrade_database = engine.dialect.name == "sqlite"
    if upgrade_database:
        migrate.upgrade(engine)
    else:
        _require_current_schema(engine)
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    notifier = build_notifier(settings, config)
    queries = ThreadPool(threads=settings.metrics.query_concurrency)  # threads start when used
    handlers = HandlerRegistry()
    register_jobs(handlers, settings, config, notifier, queries)
    for kind, handler in (extra_handlers or {}).items():
        handlers[kind] = handler
    circuits = Circuits(
        uow_factory=uow_factory,
        clock=clock,
        probes=HttpProbes(settings),
        on_recovery=ops_notice.listener(settings.slack.ops_channel),
    )
    runner = JobRunner(
        uow_factory=uow_factory,
        handlers=handlers,
        clock=clock,
        lease_seconds=settings.job_lease_seconds,
        circuits=circuits,
    )
    return Shepherd(settings, config, engine, uow_factory, runner, clock, handlers, notifier, queries)


def build_notifier(settings: Settings, config: ShepherdConfig | None = None) -> Notifier:
    """Slack when a token is set; otherwise the console shows what Slack would get."""
    if settings.slack.token is None:
        people = config.people if config is not None else []
        names = {p.slack_user_id: p.name for p in people if p.slack_user_id}
        return ConsoleNotifier(chart_dir=settings.data_dir / "charts", names=names)
    return SlackNotifier(token=settings.slack.token.get_secret_value(), base_url=settings.slack.api_url)


def build_user_lookup(settings: Settings) -> UserLookup:
    """Slack's users.lookupByEmail with a token; without one, nobody is found by email."""
    if settings.slack.token is None:
        return ConsoleUserLookup()
    return SlackUserLookup(token=settings.slack.token.get_secret_value(), base_url=settings.slack.api_url)


def register_jobs(
    registry: HandlerRegistry,
    settings: Settings,
    config: ShepherdConfig,
    notifier: Notifier,
    queries: Parallel,
) -> None:
    """Every capability registers its own job handlers with the adapters it needs."""
    attribution.register_jobs(registry, attribution_deps(settings, config))
    notify.register_jobs(
        registry,
        NotifyDeps(
            config=config,
            notifier=notifier,
            users=build_user_lookup(settings),
            public_url=settings.public_url,
            charts=MatplotlibCharts(),
        ),
    )
    watch.register_jobs(registry, WatchDeps(config=config, sources=metric_sources(settings), queries=queries))
    alert_notes.register_jobs(
        registry,
        NoteDeps(
            notifier=notifier,
            window_minutes={s.name: s.policy(config.policies).correlation_minutes for s in config.services},
        ),
    )
    register_alert_jobs(registry, settings, config)
    ops_notice.register_jobs(registry, OpsNoticeDeps(notifier=notifier, channel=settings.slack.ops_channel))
    chart = MatplotlibDeliveryChart()
    digest.register_jobs(
        registry, DigestDeps(config=config, notifier=notifier, chart=chart, public_url=settings.public_url)
    )


def attribution_deps(settings: Settings, config: ShepherdConfig) -> AttributionDeps:
    github = None
    if settings.github.token is not None:
        github = GithubApi(base_url=settings.github.api_url, token=settings.github.token.get_secret_value())
    mirrors = GitMirrors(
        data_dir=settings.data_dir,
        config_dir=settings.config.resolve().parent,
        timeout=settings.git_timeout_seconds,
    )
    return AttributionDeps(config=config, change_sources=mirrors, pull_requests=github)


def register_alert_jobs(registry: HandlerRegistry, settings: Settings, config: ShepherdConfig) -> None:
    keyed = any(s.pagerduty_routing_key for s in config.services) or any(
        p.pagerduty_routing_key for p in config.people
    )
    alert_routing.register_jobs(registry, AlertDeps(config=config, pagerduty=keyed))
    pager = PagerDutyEvents(settings.pagerduty.events_url, timeout=settings.pagerduty.timeout_seconds)
    paging.register_jobs(
        registry,
        PagingDeps(config=config, pager=pager, environ=settings.environ, public_url=settings.public_url),
    )
    rollback.register_jobs(
        registry,
        RollbackDeps(
            config=config,
            runner=SubprocessRollbackRunner(),
            environ=settings.environ,
            public_url=settings.public_url,
        ),
    )
    slack_replies.register_jobs(registry, SlackResponses(api_url=settings.slack.api_url))


def metric_sources(settings: Settings) -> dict[str, MetricsSource]:
    metrics = settings.metrics
    return dict(
        build_metric_sources(
            prometheus_url=metrics.prometheus_url,
            prometheus_headers=dict(metrics.prometheus_headers),
            timeout_seconds=metrics.timeout_seconds,
            datadog_api_url=metrics.datadog_api_url,
            datadog_api_key=metrics.datadog_api_key,
            datadog_app_key=metrics.datadog_app_key,
        )
    )


def _require_current_schema(engine: Engine) -> None:
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if current != head:
        raise DatabaseNotReady(
            f"database schema is at {current or 'nothing'}, this Shepherd needs {head}: "
            "run `shepherd db upgrade` first"
        )
