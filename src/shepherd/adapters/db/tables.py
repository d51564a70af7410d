"""SQLAlchemy tables. Rows are converted to domain values by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class DeployRow(Base):
    __tablename__ = "deploys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(63))
    environment: Mapped[str] = mapped_column(String(100))
    sha: Mapped[str] = mapped_column(String(40))
    previous_sha: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[str | None] = mapped_column(String(128))
    ref: Mapped[str | None] = mapped_column(String(255))
    deployer: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    percent: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    attribution_state: Mapped[str] = mapped_column(String(30))
    attribution_error: Mapped[str | None] = mapped_column(Text)
    attribution_notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    base_sha: Mapped[str | None] = mapped_column(String(40))
    total_commits: Mapped[int | None] = mapped_column(Integer)
    total_changes: Mapped[int | None] = mapped_column(Integer)
    skipped_changes: Mapped[int | None] = mapped_column(Integer)
    rollback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    backfill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        Index(None, "service", "environment", "status", "started_at"),
        Index(None, "service", "environment", "started_at"),
    )


class DeployEventRow(Base):
    __tablename__ = "deploy_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    percent: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    applied: Mapped[bool] = mapped_column(Boolean)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]


class ChangeRow(Base):
    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    sha: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    author: Mapped[dict[str, Any]] = mapped_column(JSON)
    coauthors: Mapped[list[Any]] = mapped_column(JSON)
    merger: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pr_number: Mapped[int | None] = mapped_column(Integer)
    merge_sha: Mapped[str | None] = mapped_column(String(40))
    authored_at: Mapped[datetime]
    committed_at: Mapped[datetime]
    files: Mapped[list[Any]] = mapped_column(JSON)
    path_rules: Mapped[list[Any]] = mapped_column(JSON)
    reverts: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    pr_first_authored_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("deploy_id", "sha"), Index(None, "deploy_id", "position"))


class DeployPersonRow(Base):
    __tablename__ = "deploy_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    person: Mapped[str | None] = mapped_column(String(255))
    github_login: Mapped[str | None] = mapped_column(String(100))
    roles: Mapped[list[Any]] = mapped_column(JSON)
    change_count: Mapped[int] = mapped_column(Integer)
    change_shas: Mapped[list[Any]] = mapped_column(JSON)
    merged_prs: Mapped[list[Any]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("deploy_id", "key"), Index(None, "email"))


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_at: Mapped[datetime]
    lease_token: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    deploy_id: Mapped[int | None] = mapped_column(Integer, index=True)
    serial_key: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    destination: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index(None, "state", "run_at", "id"),  # the order leases take jobs in
        Index(None, "destination", "state", "id"),  # a circuit's parked jobs, oldest first
    )


class CircuitRow(Base):
    """One destination's health (`domain.circuits`): a row once it has failed at least once."""

    __tablename__ = "circuits"

    destination: Mapped[str] = mapped_column(String(300), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime | None]
    next_probe_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    trial_job_id: Mapped[int | None] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class NotificationRow(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(30))
    target: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    person_key: Mapped[str | None] = mapped_column(String(330))
    person_name: Mapped[str | None] = mapped_column(String(255))
    person_email: Mapped[str | None] = mapped_column(String(320))
    thread_key: Mapped[str | None] = mapped_column(String(400))
    channel: Mapped[str | None] = mapped_column(String(100))
    ts: Mapped[str | None] = mapped_column(String(40))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("deploy_id", "key"),)


class AckRow(Base):
    __tablename__ = "acks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    slack_user: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(255))
    acked_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("deploy_id", "kind", "slack_user"),)


class SlackUserRow(Base):
    """users.lookupByEmail answers, positive and negative, cached with their time."""

    __tablename__ = "slack_users"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(40))
    looked_up_at: Mapped[datetime]


class WatchRow(Base):
    __tablename__ = "watches"

    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    interval_seconds: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    looks: Mapped[int] = mapped_column(Integer)
    stable_version: Mapped[str | None] = mapped_column(String(128))
    last_look_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    finished: Mapped[bool] = mapped_column(Boolean)


class CheckResultRow(Base):
    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    baseline: Mapped[float | None] = mapped_column(Float)
    candidate: Mapped[float | None] = mapped_column(Float)
    ratio: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    test: Mapped[str] = mapped_column(String(100))
    critical: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(20))
    baseline_packed: Mapped[bytes] = mapped_column(LargeBinary)  # adapters/db/points.py
    candidate_packed: Mapped[bytes] = mapped_column(LargeBinary)
    judged_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("deploy_id", "name"),)


class TimelineRow(Base):
    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int | None] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(String(63))
    environment: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20))
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    cause_deploy_id: Mapped[int | None] = mapped_column(
        ForeignKey("deploys.id", ondelete="SET NULL"), index=True
    )
    cause_by: Mapped[str | None] = mapped_column(String(255))
    cause_at: Mapped[datetime | None]


class PageRow(Base):
    """One suspect deploy's people paged for one grouping window of alerts."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(63))
    opened_at: Mapped[datetime]
    group_until: Mapped[datetime]
    dedup_key: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))

    __table_args__ = (Index(None, "deploy_id", "group_until"),)


class AlertRow(Base):
    """The latest state of one alert (one fingerprint of one source)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    fingerprint: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    service: Mapped[str | None] = mapped_column(String(63))
    environment: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    summary: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    links: Mapped[list[Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    routed_status: Mapped[str | None] = mapped_column(String(20))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"), index=True)
    ranking: Mapped[list[Any]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("source", "fingerprint"), Index(None, "service", "routed_status"))


class RollbackRow(Base):
    __tablename__ = "rollbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploys.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(255))
    via: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(20))
    target_sha: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))
    # "yes" while requested or running, NULL after: the unique key lets one run at a time per deploy
    active: Mapped[str | None] = mapped_column(String(10))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    exit_code: Mapped[int | None] = mapped_column(Integer)
    output: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("deploy_id", "active"),)
