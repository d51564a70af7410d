"""circuits: per-destination health, and jobs parked while their destination is down

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "circuits",
        sa.Column("destination", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_probe_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("trial_job_id", sa.Integer(), nullable=True),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("destination", name=op.f("pk_circuits")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destination", sa.String(length=300), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_jobs_destination_state_id"), ["destination", "state", "id"], unique=False
        )
    # Jobs queued before the upgrade deliver somewhere too: give them their kind's destination.
    for kinds, destination in (
        (("sync_messages", "slack_reply", "alert_note"), "slack"),
        (("page_pagerduty",), "pagerduty"),
    ):
        names = ", ".join(f"'{k}'" for k in kinds)
        op.execute(f"UPDATE jobs SET destination = '{destination}' WHERE kind IN ({names})")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_destination_state_id"))
        batch_op.drop_column("destination")
    op.drop_table("circuits")
