"""delivery metrics: reverts per change, rollback and backfill flags per deploy, an incident's cause

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: on SQLite a batch rebuild drops and recreates the table,
    # and with foreign keys on, dropping `deploys` would cascade to every deploy's changes,
    # watches and incidents. SQLite adds a nullable or constant-default column in place.
    op.add_column("changes", sa.Column("reverts", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("changes", sa.Column("pr_first_authored_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deploys", sa.Column("rollback", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("deploys", sa.Column("backfill", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(
        op.f("ix_deploys_service_environment_started_at"), "deploys", ["service", "environment", "started_at"]
    )
    if op.get_bind().dialect.name == "sqlite":  # a reference only in the column's own definition
        op.execute(
            "ALTER TABLE incidents ADD COLUMN cause_deploy_id INTEGER "
            "REFERENCES deploys (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("incidents", sa.Column("cause_deploy_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_incidents_cause_deploy_id_deploys"),
            "incidents",
            "deploys",
            ["cause_deploy_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("incidents", sa.Column("cause_by", sa.String(length=255), nullable=True))
    op.add_column("incidents", sa.Column("cause_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_incidents_cause_deploy_id"), "incidents", ["cause_deploy_id"])


def downgrade() -> None:
    # Dropping columns is a table rebuild on SQLite before 3.35; the data around them stays.
    op.drop_index(op.f("ix_incidents_cause_deploy_id"), table_name="incidents")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_incidents_cause_deploy_id_deploys"), "incidents", type_="foreignkey")
    op.drop_column("incidents", "cause_at")
    op.drop_column("incidents", "cause_by")
    op.drop_column("incidents", "cause_deploy_id")
    op.drop_index(op.f("ix_deploys_service_environment_started_at"), table_name="deploys")
    op.drop_column("deploys", "backfill")
    op.drop_column("deploys", "rollback")
    op.drop_column("changes", "pr_first_authored_at")
    op.drop_column("changes", "reverts")
