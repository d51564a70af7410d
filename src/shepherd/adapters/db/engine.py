"""Engines for SQLite (embedded default) and PostgreSQL (scale), built only when asked."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def build_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3 here
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, json_serializer=json_dumps
    )


def json_dumps(value: Any) -> str:
    """JSON columns as both databases take them: NaN and ±inf as null.

    PostgreSQL's json type refuses the NaN Python writes (the whole transaction would fail, e.g.
    a watch look whose check details hold one), and SQLite would keep it as text that is not JSON.
    """
    return json.dumps(_finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # One connection, handed out in turn: SQLite allows one writer anyway, and waiters queued
    # here are served in order, where its busy handler makes them sleep and retry (p99 ×4).
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        json_serializer=json_dumps,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
        # then writes can fail with SQLITE_BUSY at once instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
