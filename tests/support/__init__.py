"""Test helpers: a controllable clock, the skip-or-fail rule, settings for a database."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ALL = os.environ.get("SHEPHERD_REQUIRE_ALL") == "1"
SHARED = Path(__file__).resolve().parents[3] / "shared"
PAYLOADS = SHARED / "payloads"


def need(condition: object, reason: str) -> None:
    """Skip when a service or binary is missing; under SHEPHERD_REQUIRE_ALL=1, fail instead."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required for this run (SHEPHERD_REQUIRE_ALL=1): {reason}")
    pytest.skip(reason)


def payload_path(*parts: str) -> Path:
    path = PAYLOADS.joinpath(*parts)
    need(path.exists(), f"recorded payload {path} (../shared) is missing")
    return path


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
