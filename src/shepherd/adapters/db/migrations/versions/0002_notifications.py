"""notifications, acks, slack users, serial jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:29:14.105637
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "slack_users",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("looked_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_slack_users")),
    )
    op.create_table(
        "acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("slack_user", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"], ["deploys.id"], name=op.f("fk_acks_deploy_id_deploys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acks")),
        sa.UniqueConstraint(
            "deploy_id", "kind", "slack_user", name=op.f("uq_acks_deploy_id_kind_slack_user")
        ),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("person_key", sa.String(length=330), nullable=True),
        sa.Column("person_name", sa.String(length=255), nullable=True),
        sa.Column("person_email", sa.String(length=320), nullable=True),
        sa.Column("thread_key", sa.String(length=400), nullable=True),
        sa.Column("channel", sa.String(length=100), nullable=True),
        sa.Column("ts", sa.String(length=40), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deploy_id"], ["deploys.id"], name=op.f("fk_notifications_deploy_id_deploys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("deploy_id", "key", name=op.f("uq_notifications_deploy_id_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serial_key", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_serial_key"), ["serial_key"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_serial_key"))
        batch_op.drop_column("serial_key")

    op.drop_table("notifications")
    op.drop_table("acks")
    op.drop_table("slack_users")
