"""A world for integration tests: a real git repository, a config, Shepherd and its API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shepherd.adapters.config_file import parse_config
from shepherd.bootstrap import Shepherd
from shepherd.domain.config import ShepherdConfig
from shepherd.entrypoints.demo_repo import DemoShas, build_demo_repo
from shepherd.entrypoints.web.app import create_app
from shepherd.services.worker import Worker
from tests.support import FakeClock

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def world_config(repo: Path) -> ShepherdConfig:
    return parse_config(
        f"""
people:
  - {{name: Ana Lima, emails: [ana@example.com], github_login: ana-lima}}
  - {{name: Bruno Costa, emails: [bruno@example.com]}}
  - {{name: Chen Wei, emails: [chen@example.com, chen.wei@oldmail.example]}}
services:
  - name: checkout
    repository: {repo}
    github_repository: acme/shop
    environments: [staging, production]
    paths: ["services/checkout/**", "libs/"]
    path_rules:
      - {{name: payments, paths: ["services/checkout/payments/**"]}}
  - name: search
    repository: {repo}
    github_repository: acme/search
    paths: ["services/search/**"]
"""
    )


@dataclass
class World:
    shepherd: Shepherd
    client: TestClient
    repo: Path
    shas: DemoShas
    clock: FakeClock

    def run_jobs(self) -> int:
        return Worker(self.shepherd.runner).run_until_idle()

    def start(self, sha: str, **body: Any) -> dict[str, Any]:
        payload = {"service": "checkout", "environment": "production", "sha": sha, **body}
        response = self.client.post("/api/v1/deploys", json=payload, headers=AUTH)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def event(self, deploy_id: int, status: str, **body: Any) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/deploys/{deploy_id}/events", json={"status": status, **body}, headers=AUTH
        )
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def detail(self, deploy_id: int) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/deploys/{deploy_id}")
        assert response.status_code == 200
        return dict(response.json())


@pytest.fixture
def demo_repo(tmp_path: Path) -> tuple[Path, DemoShas]:
    repo = tmp_path / "repo"
    return repo, build_demo_repo(repo)


@pytest.fixture
def make_world(
    make_shepherd: Callable[..., Shepherd], demo_repo: tuple[Path, DemoShas], clock: FakeClock
) -> Iterator[Callable[..., World]]:
    clients: list[TestClient] = []

    def make(config: ShepherdConfig | None = None, **settings: Any) -> World:
        repo, shas = demo_repo
        shepherd = make_shepherd(config or world_config(repo), **settings)
        client = TestClient(create_app(shepherd, embedded_worker=False), raise_server_exceptions=False)
        clients.append(client)
        return World(shepherd, client, repo, shas, clock)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
