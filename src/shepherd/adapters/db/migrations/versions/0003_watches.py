"""watches

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:54:57.921345
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "check_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("candidate", sa.Float(), nullable=True),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("test", sa.String(length=100), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("baseline_points", sa.JSON(), nullable=False),
        sa.Column("candidate_points", sa.JSON(), nullable=False),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"], ["deploys.id"], name=op.f("fk_check_results_deploy_id_deploys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_results")),
        sa.UniqueConstraint("deploy_id", "name", name=op.f("uq_check_results_deploy_id_name")),
    )
    op.create_table(
        "timeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"], ["deploys.id"], name=op.f("fk_timeline_deploy_id_deploys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline")),
    )
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timeline_deploy_id"), ["deploy_id"], unique=False)

    op.create_table(
        "watches",
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("looks", sa.Integer(), nullable=False),
        sa.Column("stable_version", sa.String(length=128), nullable=True),
        sa.Column("last_look_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"], ["deploys.id"], name=op.f("fk_watches_deploy_id_deploys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("deploy_id", name=op.f("pk_watches")),
    )
    with op.batch_alter_table("deploys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.String(length=128), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("deploys", schema=None) as batch_op:
        batch_op.drop_column("version")

    op.drop_table("watches")
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_deploy_id"))

    op.drop_table("timeline")
    op.drop_table("check_results")
