"""No configured secret in any log line: uvicorn's access log and Shepherd's own, on a real server."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn

from shepherd.entrypoints.web.app import create_app
from shepherd.entrypoints.web.redact import redact
from tests.support.world import TOKEN, World

ALERT_SECRET = "alert-secret-in-the-path-42"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + (record.exc_text or ""))


@pytest.fixture
def served(make_world: Callable[..., World]) -> Iterator[tuple[str, Lines]]:
    world = make_world(alert_webhook_secret=ALERT_SECRET)
    app = create_app(world.shepherd, embedded_worker=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    lines = Lines()
    for name in ("uvicorn.access", "uvicorn.error", "shepherd"):
        logging.getLogger(name).addHandler(lines)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", lines
    finally:
        for name in ("uvicorn.access", "uvicorn.error", "shepherd"):
            logging.getLogger(name).removeHandler(lines)
        server.should_exit = True
        thread.join(10)


def test_query_tokens_and_path_secrets_are_blanked_in_every_log_line(served: tuple[str, Lines]) -> None:
    url, lines = served
    with httpx.Client(base_url=url) as client:
        client.post(f"/webhooks/flagger/event?token={TOKEN}", json={"name": "x", "namespace": "y"})
        client.post(f"/webhooks/generic/{ALERT_SECRET}", json={"alerts": []})
        client.post(f"/webhooks/generic/{TOKEN}", json={"alerts": []})  # refused: not in a path
        client.post(f"/webhooks/flagger/rollout?token={TOKEN}&x=1", json={})
    time.sleep(0.2)
    logged = "\n".join(lines.lines)
    assert "/webhooks/generic/***" in logged and "token=***" in logged  # the lines are there
    assert TOKEN not in logged and ALERT_SECRET not in logged


def test_the_api_token_is_no_path_secret(served: tuple[str, Lines]) -> None:
    url, _ = served
    with httpx.Client(base_url=url) as client:
        assert client.post(f"/webhooks/generic/{TOKEN}", json={"alerts": []}).status_code == 401
        assert client.post(f"/webhooks/generic/{ALERT_SECRET}", json={"alerts": []}).status_code == 200


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/webhooks/flagger/event?token=abc", "/webhooks/flagger/event?token=***"),
        ("/webhooks/alertmanager/s3cr3t", "/webhooks/alertmanager/***"),
        ("/webhooks/grafana/s3cr3t?x=1&API_KEY=k", "/webhooks/grafana/***?x=1&API_KEY=***"),
        ("/api/v1/deploys?limit=5", "/api/v1/deploys?limit=5"),
        ("/webhooks/github", "/webhooks/github"),
    ],
)
def test_redact(path: str, shown: str) -> None:
    assert redact(path) == shown
