"""A world for integration tests: a git repository, a config, Shepherd and its API client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shepherd.adapters.config_file import parse_config
from shepherd.bootstrap import Shepherd
from shepherd.domain.config import ShepherdConfig
from shepherd.services.worker import Worker
from tests.support import FakeClock
from tests.support.git_repo import ShopShas

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
READ_TOKEN = "test-read-token-456"
READ = {"Authorization": f"Bearer {READ_TOKEN}"}  # reads only


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
    shas: ShopShas
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
