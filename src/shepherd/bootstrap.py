"""Builds Shepherd from one validated Settings object. Nothing connects at import time."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from shepherd.adapters.charts import MatplotlibCharts
from shepherd.adapters.config_file import load_config
from shepherd.adapters.console_notifier import ConsoleNotifier
from shepherd.adapters.db import migrate
from shepherd.adapters.db.engine import build_engine, session_factory
from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.adapters.git import GitMirrors
from shepherd.adapters.github_api import GithubApi
from shepherd.adapters.metric_sources import build_metric_sources
from shepherd.adapters.pagerduty import PagerDutyEvents
from shepherd.adapters.rollback_runner import SubprocessRollbackRunner
from shepherd.adapters.slack import SlackNotifier
from shepherd.adapters.slack_response import SlackResponses
from shepherd.domain.config import ShepherdConfig
from shepherd.entrypoints.worker import Worker
from shepherd.services.alert_notes import NOTE_JOB, NoteDeps, post_note
from shepherd.services.alert_routing import route_alerts
from shepherd.services.alerts import PAGER_JOB, ROUTE_JOB, AlertDeps
from shepherd.services.attribution import AttributionDeps, attribute_changes
from shepherd.services.deploys import ATTRIBUTE_JOB
from shepherd.services.jobs import Handler, JobContext, JobRunner
from shepherd.services.metrics_port import MetricsSource
from shepherd.services.notify import SYNC_JOB, NotifyDeps, sync_messages
from shepherd.services.paging import PagingDeps, page_pagerduty
from shepherd.services.parallel import Parallel, ThreadPool
from shepherd.services.ports import Notifier
from shepherd.services.rollback import ROLLBACK_JOB, RollbackDeps, run_rollback
from shepherd.services.slack_replies import REPLY_JOB, send_reply
from shepherd.services.watch import WATCH_JOB, WatchDeps, run_watch
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
    handlers: dict[str, Handler] = field(default_factory=dict)
    notifier: Notifier | None = None
    queries: ThreadPool | None = None

    def worker(self, *, concurrency: int | None = None) -> Worker:
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
    notifier = build_notifier(settings)
    queries = ThreadPool(threads=settings.metric_query_concurrency)  # threads start when used
    handlers = default_handlers(settings, config, notifier, queries)
    handlers.update(extra_handlers or {})
    runner = JobRunner(
        uow_factory=uow_factory, handlers=handlers, clock=clock, lease_seconds=settings.job_lease_seconds
    )
    return Shepherd(settings, config, engine, uow_factory, runner, clock, handlers, notifier, queries)


def build_notifier(settings: Settings) -> Notifier:
    """Slack when a token is set; otherwise the console shows what Slack would get."""
    if settings.slack_token is None:
        return ConsoleNotifier(chart_dir=settings.data_dir / "charts")
    return SlackNotifier(token=settings.slack_token.get_secret_value(), base_url=settings.slack_api_url)


def default_handlers(
    settings: Settings, config: ShepherdConfig, notifier: Notifier, queries: Parallel
) -> dict[str, Handler]:
    github = None
    if settings.github_token is not None:
        github = GithubApi(base_url=settings.github_api_url, token=settings.github_token.get_secret_value())
    deps = AttributionDeps(
        config=config,
        change_sources=GitMirrors(
            data_dir=settings.data_dir,
            config_dir=settings.config.resolve().parent,
            timeout=settings.git_timeout_seconds,
        ),
        pull_requests=github,
    )

    notify = NotifyDeps(
        config=config, notifier=notifier, public_url=settings.public_url, charts=MatplotlibCharts()
    )
    watch = WatchDeps(config=config, sources=metric_sources(settings), queries=queries)

    def attribute(ctx: JobContext) -> None:
        attribute_changes(ctx, deps)

    def sync(ctx: JobContext) -> None:
        sync_messages(ctx, notify)

    def look(ctx: JobContext) -> None:
        run_watch(ctx, watch)

    handlers: dict[str, Handler] = {ATTRIBUTE_JOB: attribute, SYNC_JOB: sync, WATCH_JOB: look}
    handlers.update(alert_handlers(settings, config))
    notes = NoteDeps(
        notifier=notifier,
        window_minutes={s.name: s.policy(config.policies).correlation_minutes for s in config.services},
    )
    handlers[NOTE_JOB] = lambda ctx: post_note(ctx, notes)
    return handlers


def alert_handlers(settings: Settings, config: ShepherdConfig) -> dict[str, Handler]:
    keyed = any(s.pagerduty_routing_key for s in config.services) or any(
        p.pagerduty_routing_key for p in config.people
    )
    routing = AlertDeps(config=config, pagerduty=keyed)
    paging = PagingDeps(
        config=config,
        pager=PagerDutyEvents(settings.pagerduty_events_url, timeout=settings.metrics_timeout_seconds),
        environ=os.environ,
        public_url=settings.public_url,
    )

    rollback = RollbackDeps(
        config=config, runner=SubprocessRollbackRunner(), environ=os.environ, public_url=settings.public_url
    )

    def route(ctx: JobContext) -> None:
        route_alerts(ctx, routing)

    def page(ctx: JobContext) -> None:
        page_pagerduty(ctx, paging)

    def roll_back(ctx: JobContext) -> None:
        run_rollback(ctx, rollback)

    responses = SlackResponses(api_url=settings.slack_api_url)

    def reply(ctx: JobContext) -> None:
        send_reply(ctx, responses)

    return {ROUTE_JOB: route, PAGER_JOB: page, ROLLBACK_JOB: roll_back, REPLY_JOB: reply}


def metric_sources(settings: Settings) -> dict[str, MetricsSource]:
    return dict(
        build_metric_sources(
            prometheus_url=settings.prometheus_url,
            prometheus_headers=settings.prometheus_headers,
            timeout_seconds=settings.metrics_timeout_seconds,
            datadog_api_url=settings.datadog_api_url,
            datadog_api_key=settings.datadog_api_key,
            datadog_app_key=settings.datadog_app_key,
        )
    )


def _require_current_schema(engine: Engine) -> None:
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if current != head:
        raise DatabaseNotReady(
            f"database schema is at {current or 'nothing'}, this Shepherd needs {head}: "
            "run `shepherd db upgrade` first"
        )
