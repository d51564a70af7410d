"""A small monorepo with the history shapes attribution must get right.

Dates are fixed, so the shas are the same on every machine and `make run` can be run
again without recording new deploys.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ANA = ("Ana Lima", "ana@example.com")
BRUNO = ("Bruno Costa", "bruno@example.com")
CHEN = ("Chen Wei", "chen@example.com")
CHEN_OLD = ("Chen Wei", "chen.wei@oldmail.example")  # an alias in shepherd.yaml
GITHUB = ("GitHub", "noreply@github.com")


@dataclass(frozen=True)
class DemoShas:
    first: str  # the first deploy: only this head commit
    second: str  # the next deploy: everything since `first`


class RepoBuilder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._tick = 0

    def git(
        self,
        *args: str,
        who: tuple[str, str] = ANA,
        committer: tuple[str, str] | None = None,
        at: datetime | None = None,
    ) -> str:
        self._tick += 1
        stamp = at.isoformat() if at else f"2026-11-02T09:{self._tick // 60:02d}:{self._tick % 60:02d}+00:00"
        committer = committer or who
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": who[0],
            "GIT_AUTHOR_EMAIL": who[1],
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_SYSTEM": os.devnull,
        }
        result = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")

    def commit(
        self,
        message: str,
        files: dict[str, str],
        *,
        who: tuple[str, str],
        committer: tuple[str, str] | None = None,
    ) -> str:
        for relative, text in files.items():
            self.write(relative, text)
        self.git("add", "-A", who=who)
        self.git("commit", "-q", "-m", message, who=who, committer=committer)
        return self.git("rev-parse", "HEAD")

    def commit_at(self, message: str, files: dict[str, str], *, who: tuple[str, str], at: datetime) -> str:
        """A commit authored and committed at `at` (the demo's history branch)."""
        for relative, text in files.items():
            self.write(relative, text)
        self.git("add", "-A", who=who, at=at)
        self.git("commit", "-q", "-m", message, who=who, at=at)
        return self.git("rev-parse", "HEAD")


def build_demo_repo(path: Path) -> DemoShas:
    """Create (or recreate) the demo repository at `path`; returns the shas to deploy."""
    if (path / ".git").exists():
        repo = RepoBuilder(path)
        first = repo.git("rev-parse", "demo-first")
        return DemoShas(first=first, second=repo.git("rev-parse", "main"))
    path.mkdir(parents=True, exist_ok=True)
    repo = RepoBuilder(path)
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
    repo.git("tag", "demo-first")
    _merged_pull_request(repo)
    second = _after_the_merge(repo)
    return DemoShas(first=first, second=second)


def _merged_pull_request(repo: RepoBuilder) -> None:
    # PR #12 by Bruno on a branch, merged on github.com by Ana: a merge commit whose
    # author is the merger and whose committer is GitHub.
    repo.git("checkout", "-q", "-b", "bruno/retry-payments")
    repo.commit(
        "Retry card charges once on gateway timeouts",
        {"services/checkout/payments/charge.py": "retry = 1"},
        who=BRUNO,
    )
    repo.commit(
        "Log the gateway's request id", {"services/checkout/payments/charge.py": "log_id = True"}, who=BRUNO
    )
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge",
        "--no-ff",
        "-q",
        "bruno/retry-payments",
        "-m",
        "Merge pull request #12 from acme/bruno/retry-payments\n\nRetry card charges",
        who=ANA,
        committer=GITHUB,
    )


def _after_the_merge(repo: RepoBuilder) -> str:
    # PR #14 by Chen, squash-merged: git alone cannot tell who merged it.
    repo.commit(
        "Cache shipping rates at checkout (#14)",
        {"services/checkout/shipping.py": "cache = True"},
        who=CHEN,
        committer=GITHUB,
    )
    # Outside the checkout service's paths: the monorepo filter leaves it out.
    repo.commit("Boost exact matches in search", {"services/search/rank.py": "exact = 2"}, who=CHEN)
    # Pair programming: Ana with Chen, who signs with an old address (an alias in config).
    repo.commit(
        f"Show delivery estimate at checkout\n\nCo-authored-by: {CHEN_OLD[0]} <{CHEN_OLD[1]}>",
        {"services/checkout/app.py": "estimate = True"},
        who=ANA,
    )
    return repo.commit(
        "Shorter timeouts in the shared HTTP client", {"libs/common/http.py": "timeout = 2"}, who=BRUNO
    )
