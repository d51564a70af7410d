"""Helpers for tests on the real databases: rows to insert, tables to empty."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from shepherd.adapters.db.tables import metadata
from shepherd.domain.deploys import Deploy, DeployStatus
from tests.support import FakeClock


def truncate(engine: Engine) -> None:
    """Empty every table of a PostgreSQL test database (one per session, reused by each test)."""
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def new_deploy(clock: FakeClock, **kw: Any) -> Deploy:
    values: dict[str, Any] = {
        "service": "api",
        "environment": "production",
        "sha": "a" * 40,
        "status": DeployStatus.STARTED,
        "source": "api",
        "started_at": clock(),
        "created_at": clock(),
        "updated_at": clock(),
    }
    values.update(kw)
    return Deploy(**values)
