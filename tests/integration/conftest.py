"""Fixtures for integration tests: the tests' git repository and worlds built on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shepherd.bootstrap import Shepherd
from shepherd.domain.config import ShepherdConfig
from shepherd.entrypoints.web.app import create_app
from tests.fakes.slack import TOKEN, FakeSlack, running_fake_slack
from tests.support import FakeClock
from tests.support.git_repo import ShopShas, build_shop_repo
from tests.support.slack_world import BRUNO, slack_config
from tests.support.world import AUTH, World, world_config


@pytest.fixture
def shop_repo(tmp_path: Path) -> tuple[Path, ShopShas]:
    """The tests' own git repository (tests/support/git_repo.py), not the demo's."""
    repo = tmp_path / "repo"
    return repo, build_shop_repo(repo)


def reads_with_token(request: httpx.Request) -> None:
    """Reads need a token now; tests that mean to read without one say so with an empty header."""
    reads = request.url.path.startswith("/api/v1/") or request.url.path == "/metrics"
    if request.method == "GET" and reads and "authorization" not in request.headers:
        request.headers["Authorization"] = AUTH["Authorization"]


@pytest.fixture
def make_world(
    make_shepherd: Callable[..., Shepherd], shop_repo: tuple[Path, ShopShas], clock: FakeClock
) -> Iterator[Callable[..., World]]:
    clients: list[TestClient] = []

    def make(config: ShepherdConfig | None = None, **settings: Any) -> World:
        repo, shas = shop_repo
        shepherd = make_shepherd(config or world_config(repo), **settings)
        client = TestClient(create_app(shepherd, embedded_worker=False), raise_server_exceptions=False)
        client.event_hooks = {"request": [reads_with_token]}
        clients.append(client)
        return World(shepherd, client, repo, shas, clock)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack Web API, knowing Bruno by email (Ana has her id in the config)."""
    with running_fake_slack() as fake:
        fake.users["bruno@example.com"] = BRUNO
        yield fake


@pytest.fixture
def sworld(make_world: Callable[..., World], slack: FakeSlack, shop_repo: Any) -> World:
    """A world whose notifications go to the fake Slack (slack_config: checkout, two channels)."""
    repo, _ = shop_repo
    return make_world(slack_config(repo), slack_token=TOKEN, slack_api_url=slack.url)
