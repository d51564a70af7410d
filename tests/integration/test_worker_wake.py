"""A job enqueued by a request runs at once in the same process, without waiting for a poll."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from shepherd.entrypoints.web.app import create_app
from tests.support import wait_for
from tests.support.world import AUTH


def test_request_wakes_the_embedded_worker(make_world: Any) -> None:
    world = make_world(job_poll_seconds=60)  # a poll would take a minute
    with TestClient(create_app(world.shepherd)) as client:  # lifespan starts the worker
        wait_for(lambda: client.get("/healthz").status_code == 200)
        response = client.post(
            "/api/v1/deploys",
            json={"service": "checkout", "environment": "production", "sha": world.shas.second},
            headers=AUTH,
        )
        deploy_id = response.json()["id"]

        def attributed() -> bool:
            state = client.get(f"/api/v1/deploys/{deploy_id}", headers=AUTH).json()["attribution"]["state"]
            return bool(state == "done")

        wait_for(attributed, timeout=20)
