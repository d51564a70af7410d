"""Attribution over real git repositories, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from tests.support.git_repo import ANA, BRUNO, CHEN, GITHUB, GitRepo
from tests.support.world import World


def attributed(world: World, deploy_id: int) -> dict[str, Any]:
    world.run_jobs()
    return world.detail(deploy_id)


def test_first_deploy_lists_only_the_head_commit(world: World) -> None:
    detail = attributed(world, world.start(world.shas.first)["id"])
    assert detail["attribution"]["state"] == "done"
    assert [c["sha"] for c in detail["changes"]] == [world.shas.first]
    assert "First deploy of checkout to production" in detail["attribution"]["notes"][0]


def test_range_since_the_last_successful_deploy(world: World) -> None:
    first = world.start(world.shas.first)["id"]
    world.event(first, "succeeded")
    failed = world.start(world.shas.second)["id"]
    world.event(failed, "failed")  # a failed deploy is not a base
    detail = attributed(world, world.start(world.shas.second)["id"])
    assert detail["attribution"]["base_sha"] == world.shas.first
    changes = {c["subject"]: c for c in detail["changes"]}
    assert set(changes) == {
        "Shorter timeouts in the shared HTTP client",
        "Show delivery estimate at checkout",
        "Cache shipping rates at checkout (#14)",
        "Log the gateway's request id",
        "Retry card charges once on gateway timeouts",
    }
    merged = changes["Retry card charges once on gateway timeouts"]
    assert merged["pr_number"] == 12 and merged["merger"]["person"] == "Ana Lima"
    assert merged["path_rules"] == ["payments"] and merged["author"]["person"] == "Bruno Costa"
    squash = changes["Cache shipping rates at checkout (#14)"]
    assert squash["pr_number"] == 14 and squash["merger"] is None
    paired = changes["Show delivery estimate at checkout"]
    assert [c["person"] for c in paired["coauthors"]] == ["Chen Wei"]
    assert detail["attribution"]["skipped_changes"] == 1
    roles = {p["name"]: p["roles"] for p in detail["people"]}
    assert roles == {
        "Bruno Costa": ["author"],
        "Ana Lima": ["author", "merger"],
        "Chen Wei": ["author", "coauthor"],
    }
    assert all("noreply" not in p["email"] for p in detail["people"])


def test_redeploy_of_the_same_sha_and_rollback_to_an_older_one(world: World) -> None:
    detail = attributed(world, world.start(world.shas.second, previous_sha=world.shas.second)["id"])
    assert detail["changes"] == [] and "Redeploy" in detail["attribution"]["notes"][0]
    back = attributed(world, world.start(world.shas.first, previous_sha=world.shas.second)["id"])
    assert back["changes"] == [] and "already part of the previous deploy" in back["attribution"]["notes"][0]


def test_force_push_uses_the_merge_base(world: World) -> None:
    repo = GitRepo(world.repo)
    repo.git("checkout", "-q", "-b", "rewritten", world.shas.first)
    fresh = repo.commit("Rewritten history", {"services/checkout/app.py": "v2"}, who=BRUNO)
    repo.git("checkout", "-q", "main")
    detail = attributed(world, world.start(fresh, previous_sha=world.shas.second)["id"])
    assert [c["sha"] for c in detail["changes"]] == [fresh]
    assert detail["attribution"]["base_sha"] == world.shas.first
    assert "not an ancestor" in detail["attribution"]["notes"][0]


def test_new_commits_are_fetched_into_the_mirror(world: World) -> None:
    first = world.start(world.shas.first)["id"]
    world.event(first, "succeeded")
    attributed(world, first)  # creates the mirror
    newer = GitRepo(world.repo).commit("After the mirror", {"services/checkout/app.py": "x"}, who=CHEN)
    detail = attributed(world, world.start(newer)["id"])
    assert detail["attribution"]["state"] == "done"
    assert detail["changes"][0]["sha"] == newer and detail["attribution"]["total_changes"] == 6


def test_unknown_sha_fails_attribution_with_a_reason(world: World) -> None:
    detail = attributed(world, world.start("0" * 40)["id"])
    assert detail["attribution"]["state"] == "attribution_failed"
    assert "0000000000000000000000000000000000000000 is not in" in detail["attribution"]["error"]
    assert detail["jobs"][0]["state"] == "done"  # a clear outcome, not a retry loop


def test_very_large_range_lists_1000_and_counts_all(world: World) -> None:
    repo = GitRepo(world.repo)
    stream = "blob\nmark :1\ndata 2\nx\n\n"
    for i in range(1205):
        who = (ANA, BRUNO, CHEN)[i % 3]
        message = f"change {i}"
        stream += (
            f"commit refs/heads/main\nmark :{i + 2}\n"
            f"author {who[0]} <{who[1]}> {1_800_000_000 + i} +0000\n"
            f"committer {who[0]} <{who[1]}> {1_800_000_000 + i} +0000\n"
            f"data {len(message)}\n{message}\n"
            + (f"from {world.shas.second}\n" if i == 0 else "")
            + f"M 100644 :1 services/checkout/f{i}.py\n\n"
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=world.repo, input=stream, text=True, check=True)
    head = repo.git("rev-parse", "main")
    detail = attributed(world, world.start(head, previous_sha=world.shas.second)["id"])
    assert len(detail["changes"]) == 1000
    assert detail["attribution"]["total_changes"] == 1205
    assert sum(len(p["changes"]) for p in detail["people"]) == 1205
    assert any("first 1,000 are listed" in n for n in detail["attribution"]["notes"])


class _FakeGithub(BaseHTTPRequestHandler):
    calls: list[str] = []  # noqa: RUF012 - shared by the test on purpose

    def do_GET(self) -> None:
        _FakeGithub.calls.append(f"{self.path} {self.headers.get('Authorization')}")
        body: Any = None
        if self.path == "/repos/acme/shop/pulls/14":
            body = {"number": 14, "merged": True, "merged_by": {"login": "ana-lima", "id": 7}}
        elif self.path.startswith("/repos/acme/shop/pulls/14/commits"):
            # The branch's own commits, which the squash on main no longer shows (REST: pulls/{n}/commits).
            dates = ["2026-10-30T16:00:00Z", "2026-10-28T09:30:00Z"]
            body = [
                {"sha": f"{i:040x}", "commit": {"author": {"name": "Chen Wei", "date": d}}}
                for i, d in enumerate(dates)
            ]
        if body is not None:
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_github() -> Iterator[str]:
    _FakeGithub.calls = []
    server = HTTPServer(("127.0.0.1", 0), _FakeGithub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_squash_merger_from_the_github_api(make_world: Any, fake_github: str) -> None:
    world = make_world(github_token="ghp_testtoken", github_api_url=fake_github)
    detail = attributed(world, world.start(world.shas.second, previous_sha=world.shas.first)["id"])
    squash = next(c for c in detail["changes"] if c["pr_number"] == 14)
    assert squash["merger"]["person"] == "Ana Lima"
    assert _FakeGithub.calls == [
        "/repos/acme/shop/pulls/14 Bearer ghp_testtoken",
        "/repos/acme/shop/pulls/14/commits?per_page=100 Bearer ghp_testtoken",
    ]
    with world.shepherd.uow_factory() as uow:
        stored = next(c for c in uow.deploys.changes(detail["id"]) if c.pr_number == 14)
    # The squash commit carries the merge's time; its PR's first commit is two days older.
    assert stored.pr_first_authored_at == datetime(2026, 10, 28, 9, 30, tzinfo=UTC)


def test_github_api_down_leaves_merger_unknown(make_world: Any) -> None:
    world = make_world(github_token="ghp_testtoken", github_api_url="http://127.0.0.1:9")
    detail = attributed(world, world.start(world.shas.second, previous_sha=world.shas.first)["id"])
    assert detail["attribution"]["state"] == "done"
    assert any("GitHub did not answer" in n for n in detail["attribution"]["notes"])
    assert GITHUB[1] not in json.dumps(detail["people"])


def test_unreachable_remote_is_retried_then_reported(make_world: Any) -> None:
    from shepherd.adapters.config_file import parse_config

    config = parse_config("services:\n  - {name: checkout, repository: 'http://127.0.0.1:9/shop.git'}\n")
    world = make_world(config)
    deploy_id = world.start(world.shas.second)["id"]
    world.run_jobs()
    detail = world.detail(deploy_id)
    job = next(j for j in detail["jobs"] if j["kind"] == "attribute")
    assert detail["attribution"]["state"] == "pending" and job["state"] == "pending"
    assert "ChangeSourceUnavailable" in job["last_error"]
    for _ in range(10):
        world.clock.advance(1000)
        world.run_jobs()
    detail = world.detail(deploy_id)
    assert detail["attribution"]["state"] == "attribution_failed"
    assert (
        "git clone failed" in detail["attribution"]["error"] and "127.0.0.1" in detail["attribution"]["error"]
    )
