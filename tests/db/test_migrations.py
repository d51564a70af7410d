"""Migration 0007 on SQLite and PostgreSQL: jobs queued before it get their destination."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from shepherd.adapters.db import migrate
from tests.support import FakeClock


def test_migration_0007_gives_queued_jobs_their_destination_and_goes_back(
    empty_database: Engine, clock: FakeClock
) -> None:
    migrate.upgrade(empty_database, "0006")
    insert = text(
        "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at) "
        "VALUES (:kind, '{}', 'pending', 0, 8, :at, :at, :at)"
    )
    at = clock().replace(tzinfo=None)
    with empty_database.begin() as conn:
        for kind in ("sync_messages", "page_pagerduty", "attribute"):
            conn.execute(insert, {"kind": kind, "at": at})
    migrate.upgrade(empty_database)
    with empty_database.connect() as conn:
        rows = dict(conn.execute(text("SELECT kind, destination FROM jobs")).all())
    assert rows == {"sync_messages": "slack", "page_pagerduty": "pagerduty", "attribute": None}
    command.downgrade(migrate.alembic_config(empty_database), "0006")
    with empty_database.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 3
