"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 14:10:59.134481
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "deploys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("previous_sha", sa.String(length=40), nullable=True),
        sa.Column("ref", sa.String(length=255), nullable=True),
        sa.Column("deployer", sa.String(length=255), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attribution_state", sa.String(length=30), nullable=False),
        sa.Column("attribution_error", sa.Text(), nullable=True),
        sa.Column("attribution_notes", sa.JSON(), nullable=False),
        sa.Column("base_sha", sa.String(length=40), nullable=True),
        sa.Column("total_commits", sa.Integer(), nullable=True),
        sa.Column("total_changes", sa.Integer(), nullable=True),
        sa.Column("skipped_changes", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deploys")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deploys_idempotency_key")),
    )
    with op.batch_alter_table("deploys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deploys_service_environment_status_started_at"),
            ["service", "environment", "status", "started_at"],
            unique=False,
        )

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("deploy_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_jobs_dedupe_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_deploy_id"), ["deploy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_state_run_at"), ["state", "run_at"], unique=False)

    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("author", sa.JSON(), nullable=False),
        sa.Column("coauthors", sa.JSON(), nullable=False),
        sa.Column("merger", sa.JSON(), nullable=True),
        sa.Column("pr_number", sa.Integer(), nullable=True),
        sa.Column("merge_sha", sa.String(length=40), nullable=True),
        sa.Column("authored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("path_rules", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"],
            ["deploys.id"],
            name=op.f("fk_changes_deploy_id_deploys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
        sa.UniqueConstraint("deploy_id", "sha", name=op.f("uq_changes_deploy_id_sha")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_changes_deploy_id_position"), ["deploy_id", "position"], unique=False
        )

    op.create_table(
        "deploy_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"],
            ["deploys.id"],
            name=op.f("fk_deploy_events_deploy_id_deploys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deploy_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deploy_events_idempotency_key")),
    )
    with op.batch_alter_table("deploy_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deploy_events_deploy_id"), ["deploy_id"], unique=False)

    op.create_table(
        "deploy_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("person", sa.String(length=255), nullable=True),
        sa.Column("github_login", sa.String(length=100), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("change_count", sa.Integer(), nullable=False),
        sa.Column("change_shas", sa.JSON(), nullable=False),
        sa.Column("merged_prs", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"],
            ["deploys.id"],
            name=op.f("fk_deploy_people_deploy_id_deploys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deploy_people")),
        sa.UniqueConstraint("deploy_id", "key", name=op.f("uq_deploy_people_deploy_id_key")),
    )
    with op.batch_alter_table("deploy_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deploy_people_email"), ["email"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("deploy_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deploy_people_email"))

    op.drop_table("deploy_people")
    with op.batch_alter_table("deploy_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deploy_events_deploy_id"))

    op.drop_table("deploy_events")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_deploy_id_position"))

    op.drop_table("changes")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_state_run_at"))
        batch_op.drop_index(batch_op.f("ix_jobs_deploy_id"))

    op.drop_table("jobs")
    with op.batch_alter_table("deploys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deploys_service_environment_status_started_at"))

    op.drop_table("deploys")
