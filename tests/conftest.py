"""Fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from shepherd.adapters.db import migrate
from shepherd.adapters.db.engine import build_engine, session_factory
from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.bootstrap import Shepherd, bootstrap
from shepherd.domain.config import ShepherdConfig
from shepherd.settings import Settings
from tests.support import FakeClock, need
from tests.support.databases import truncate

PG_URL = os.environ.get("SHEPHERD_TEST_POSTGRES_URL")
pytest_plugins = ["tests.integration.prometheus_fixtures"]  # real Prometheus + example app fixtures


# Every secret the tests configure: none may appear in any line Shepherd or its server logs.
TEST_SECRETS = (
    "test-token-123",
    "test-read-token-456",
    "github-secret-123",
    "slack-signing-secret",
    "alert-secret",
)
WATCHED_LOGGERS = ("shepherd", "uvicorn.access", "uvicorn.error")


class SecretWatch(logging.Handler):
    """Sees every record of Shepherd's and uvicorn's loggers for the whole run."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage() + (self.format(record) if record.exc_info else "")
        if any(secret in line for secret in TEST_SECRETS):
            self.leaks.append(f"{record.name}: {line[:300]}")


WATCH = SecretWatch()


def pytest_configure(config: pytest.Config) -> None:
    for name in WATCHED_LOGGERS:
        logging.getLogger(name).addHandler(WATCH)
    logging.getLogger("shepherd").setLevel(logging.DEBUG)  # its info lines are checked too


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if WATCH.leaks:
        print("\nsecrets in log lines:\n" + "\n".join(WATCH.leaks[:20]))
        session.exitstatus = 1


def _admin_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    need(PG_URL, "PostgreSQL: set SHEPHERD_TEST_POSTGRES_URL")
    assert PG_URL is not None
    import psycopg

    name = f"shepherd_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    engine = build_engine(rendered)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield rendered
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/shepherd.db"
        engine = build_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("pg_database_url")
    engine = build_engine(url)
    truncate(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(session_factory(engine))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": tmp_path / "data",
        "config": tmp_path / "shepherd.yaml",
        "api_token": "test-token-123",
        "read_token": "test-read-token-456",
        "github_webhook_secret": "github-secret-123",
        "job_poll_seconds": 0.05,
        "job_lease_seconds": 30,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def make_shepherd(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[object]:
    built: list[Shepherd] = []

    def make(config: ShepherdConfig, **overrides: object) -> Shepherd:
        settings = make_settings(database_url, tmp_path, **overrides)
        shepherd = bootstrap(settings, config=config, clock=clock, upgrade_database=False)
        built.append(shepherd)
        return shepherd

    yield make
    for shepherd in built:
        shepherd.close()
