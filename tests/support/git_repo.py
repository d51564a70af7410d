"""A git repository for tests: a small monorepo with the history shapes attribution must get right.

Tests own it, apart from the demo's: a test may depend on every commit here, and the demo
may change its story without breaking them. Times are fixed, so the shas are the same on
every machine.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

Who = tuple[str, str]

ANA: Who = ("Ana Lima", "ana@example.com")
BRUNO: Who = ("Bruno Costa", "bruno@example.com")
CHEN: Who = ("Chen Wei", "chen@example.com")
CHEN_OLD: Who = ("Chen Wei", "chen.wei@oldmail.example")  # an alias of Chen's in the tests' configs
GITHUB: Who = ("GitHub", "noreply@github.com")


@dataclass(frozen=True)
class ShopShas:
    first: str  # the first commit: a first deploy has only this
    second: str  # main's head: five changes to checkout since `first`, one to search


class GitRepo:
    """Runs git in one repository with a fixed identity and clock per commit, ignoring user config."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tick = 0

    def git(self, *args: str, who: Who = ANA, committer: Who | None = None) -> str:
        self._tick += 1  # one second per call: commits keep their order by time
        stamp = f"2026-11-02T09:{self._tick // 60:02d}:{self._tick % 60:02d}+00:00"
        by = committer or who
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": who[0],
            "GIT_AUTHOR_EMAIL": who[1],
            "GIT_COMMITTER_NAME": by[0],
            "GIT_COMMITTER_EMAIL": by[1],
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_SYSTEM": os.devnull,
        }
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def commit(self, message: str, files: dict[str, str], *, who: Who, committer: Who | None = None) -> str:
        """Append a line to each file and commit them; returns the new sha."""
        for relative, line in files.items():
            target = self.path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        self.git("add", "-A", who=who)
        self.git("commit", "-q", "-m", message, who=who, committer=committer)
        return self.git("rev-parse", "HEAD")


def build_shop_repo(path: Path) -> ShopShas:
    """A new repository at `path`: checkout and search in one repo, and shared libs.

    After `first`, newest last: PR #12 (Bruno's two commits, merged by Ana on GitHub, so a
    merge commit), PR #14 (Chen's, squash-merged: git cannot tell who merged it), a search
    change (outside checkout's paths), a pairing commit of Ana's with a Co-authored-by of
    Chen's old address, and Bruno's change to the shared HTTP client.
    """
    path.mkdir(parents=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", "main")
    first = repo.commit(
        "Initial layout of the shop monorepo",
        {
            "services/checkout/app.py": "# checkout service",
            "services/checkout/payments/charge.py": "# charge cards",
            "services/search/rank.py": "# search ranking",
            "libs/common/http.py": "# shared http helpers",
        },
        who=ANA,
    )
    _pull_request_12(repo)
    repo.commit(
        "Cache shipping rates at checkout (#14)",
        {"services/checkout/shipping.py": "cache = True"},
        who=CHEN,
        committer=GITHUB,
    )
    repo.commit("Boost exact matches in search", {"services/search/rank.py": "exact = 2"}, who=CHEN)
    repo.commit(
        f"Show delivery estimate at checkout\n\nCo-authored-by: {CHEN_OLD[0]} <{CHEN_OLD[1]}>",
        {"services/checkout/app.py": "estimate = True"},
        who=ANA,
    )
    second = repo.commit(
        "Shorter timeouts in the shared HTTP client", {"libs/common/http.py": "timeout = 2"}, who=BRUNO
    )
    return ShopShas(first=first, second=second)


def _pull_request_12(repo: GitRepo) -> None:
    """Bruno's branch, merged on github.com by Ana: the merge's author is the merger, GitHub commits."""
    repo.git("checkout", "-q", "-b", "bruno/retry-payments")
    charge = "services/checkout/payments/charge.py"
    repo.commit("Retry card charges once on gateway timeouts", {charge: "retry = 1"}, who=BRUNO)
    repo.commit("Log the gateway's request id", {charge: "log_id = True"}, who=BRUNO)
    repo.git("checkout", "-q", "main")
    message = "Merge pull request #12 from acme/bruno/retry-payments\n\nRetry card charges"
    repo.git("merge", "--no-ff", "-q", "bruno/retry-payments", "-m", message, who=ANA, committer=GITHUB)
