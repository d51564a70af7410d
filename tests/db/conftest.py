"""Fixtures for the database tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from shepherd.adapters.db.engine import build_engine
from tests.support import need


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, not yet migrated (the shared one is at head)."""
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path}/migrate.db")
        yield engine
        engine.dispose()
        return
    pg_url = os.environ.get("SHEPHERD_TEST_POSTGRES_URL")
    need(pg_url, "PostgreSQL: set SHEPHERD_TEST_POSTGRES_URL")
    assert pg_url is not None
    import psycopg

    name = f"shepherd_migrate_{uuid.uuid4().hex[:10]}"
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = build_engine(make_url(pg_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
