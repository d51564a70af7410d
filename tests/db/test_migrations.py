"""Migrations that move data, on SQLite and PostgreSQL: 0007 (jobs get a destination), 0008 (no rows lost)."""

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


def test_migration_0008_keeps_every_deploys_rows_and_goes_back(
    empty_database: Engine, clock: FakeClock
) -> None:
    """Adding columns to `deploys` must not rebuild it: on SQLite that would cascade-delete its
    changes, watches and incidents."""
    migrate.upgrade(empty_database, "0007")
    at = clock().replace(tzinfo=None)
    with empty_database.begin() as conn:
        deploy_id = conn.execute(
            text(
                "INSERT INTO deploys (service, environment, sha, status, source, started_at, created_at, "
                "updated_at, attribution_state, attribution_notes) VALUES ('shop', 'production', :sha, "
                "'succeeded', 'api', :at, :at, :at, 'done', '[]') RETURNING id"
            ),
            {"sha": "a" * 40, "at": at},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO changes (deploy_id, position, sha, subject, author, coauthors, files, "
                "path_rules, authored_at, committed_at) "
                "VALUES (:d, 0, :sha, 'x', '{}', '[]', '[]', '[]', :at, :at)"
            ),
            {"d": deploy_id, "sha": "b" * 40, "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO incidents (deploy_id, service, environment, title, trigger, opened_at, state) "
                "VALUES (:d, 'shop', 'production', 't', 'page', :at, 'open')"
            ),
            {"d": deploy_id, "at": at},
        )
    migrate.upgrade(empty_database)
    with empty_database.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM changes")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 1
        row = conn.execute(text("SELECT rollback, backfill FROM deploys")).one()
        assert (bool(row[0]), bool(row[1])) == (False, False)
        assert conn.execute(text("SELECT reverts FROM changes")).scalar_one() in ("[]", [])
    command.downgrade(migrate.alembic_config(empty_database), "0007")
    with empty_database.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM changes")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 1
