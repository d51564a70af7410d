"""Commits from git: the `git` CLI over a bare mirror with commit-graph on.

One `git log --name-only` with field separators gives metadata and files in one pass:
measured against plain `git log --name-only` in bench/ (ratio in bench/RESULTS.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from shepherd.domain.changes import parse_coauthor
from shepherd.domain.deploys import Identity, RawCommit
from shepherd.domain.errors import ChangeSourceError, ChangeSourceUnavailable

_FIELDS = [
    "%H",
    "%P",
    "%an",
    "%ae",
    "%aI",
    "%cn",
    "%ce",
    "%cI",
    "%s",
    "%(trailers:key=Co-authored-by,valueonly,separator=%x1d)",
]
LOG_FORMAT = "%x1e" + "%x1f".join(_FIELDS) + "%x1f"
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
# git's words for a remote that will not start working by itself
_PERMANENT = re.compile(
    r"does not exist|not found|not a git repository|Authentication failed|Permission denied", re.I
)
_SECRET_IN_URL = re.compile(r"(://)[^/@\s]+@")


def redact(text: str) -> str:
    """Hide credentials embedded in remote URLs (https://token@host/...)."""
    return _SECRET_IN_URL.sub(r"\1***@", text)


class LogParser:
    """Parses `git log --name-only --format=LOG_FORMAT` output as it arrives. Pure.

    Fed while git is still writing, so parsing overlaps git's own work; identities are
    interned because a long range has thousands of commits and a few dozen people.
    """

    def __init__(self) -> None:
        self.commits: list[RawCommit] = []
        self._pending = ""
        self._identities: dict[tuple[str, str], Identity] = {}

    def feed(self, chunk: str) -> None:
        records = (self._pending + chunk).split("\x1e")
        self._pending = records.pop()
        for record in records:
            if record:
                self.commits.append(self._commit(record))

    def finish(self) -> list[RawCommit]:
        if self._pending:
            self.commits.append(self._commit(self._pending))
            self._pending = ""
        return self.commits

    def _identity(self, name: str, email: str) -> Identity:
        key = (name, email)
        found = self._identities.get(key)
        if found is None:
            found = self._identities[key] = Identity(name, email)
        return found

    def _commit(self, record: str) -> RawCommit:
        header, _, files_part = record.rpartition("\x1f")
        parts = header.split("\x1f")
        if len(parts) != len(_FIELDS):
            raise ValueError(f"unexpected git log record with {len(parts)} fields")
        sha, parents, an, ae, ai, cn, ce, ci, subject, trailers = parts
        coauthors: tuple[Identity, ...] = ()
        if trailers:
            found = (parse_coauthor(v) for v in trailers.split("\x1d") if v.strip())
            coauthors = tuple(c for c in found if c is not None)
        return RawCommit(
            sha=sha,
            parents=tuple(parents.split()),
            author=self._identity(an, ae),
            committer=self._identity(cn, ce),
            authored_at=datetime.fromisoformat(ai),
            committed_at=datetime.fromisoformat(ci),
            subject=subject,
            coauthors=coauthors,
            files=tuple(filter(None, files_part.split("\n"))),
        )


_REVERT_SUBJECT = re.compile(r'^(Revert|Reapply) "|^revert', re.I)
_REVERTS = re.compile(r"This reverts commit ([0-9a-fA-F]{7,40})")


def looks_like_revert(subject: str) -> bool:
    return bool(_REVERT_SUBJECT.match(subject))


def parse_reverts(output: str) -> dict[str, tuple[str, ...]]:
    """`git show -s --format=%x1e%H%x1f%B` output → the shas each commit's message says it reverts."""
    found: dict[str, tuple[str, ...]] = {}
    for record in output.split("\x1e"):
        sha, _, body = record.partition("\x1f")
        shas = tuple(dict.fromkeys(m.lower() for m in _REVERTS.findall(body)))
        if sha.strip() and shas:
            found[sha.strip()] = shas
    return found


def parse_log(output: str) -> list[RawCommit]:
    parser = LogParser()
    parser.feed(output)
    return parser.finish()


class GitRepository:
    """One service repository, read through its bare mirror."""

    def __init__(self, *, remote: str, mirror: Path, timeout: float) -> None:
        self.remote = remote
        self.mirror = mirror
        self.timeout = timeout
        self._fetched = False

    def ensure(self, sha: str) -> str:
        with self._locked():
            self._create_mirror()
            found = self._resolve(sha)
            if found is None and not self._fetched:
                self._fetch()
                found = self._resolve(sha)
            if found is None and len(sha) == 40:
                # A sha on no branch (e.g. a deleted one): GitHub serves reachable shas by id.
                self._git("fetch", "--quiet", "origin", sha, check=False)
                found = self._resolve(sha)
        if found is None:
            raise ChangeSourceError(f"commit {sha} is not in {redact(self.remote)}, even after a fetch")
        return found

    def is_ancestor(self, older: str, newer: str) -> bool:
        result = self._git("merge-base", "--is-ancestor", older, newer, check=False)
        if result.returncode not in (0, 1):
            raise ChangeSourceError(f"git merge-base failed: {result.stderr.strip()}")
        return result.returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        result = self._git("merge-base", a, b, check=False)
        return result.stdout.strip() or None if result.returncode == 0 else None

    def commits(self, *, base: str | None, head: str) -> list[RawCommit]:
        if base is None:
            parents = self._git("rev-parse", f"{head}^@").stdout.split()
            revs = [head, "--not", parents[0]] if parents else ["-1", head]
        else:
            revs = [f"{base}..{head}"]
        argv = [
            "git",
            "-c",
            "core.quotePath=false",
            "log",
            "--no-renames",
            "--name-only",
            f"--format={LOG_FORMAT}",
            *revs,
        ]
        return self._with_reverts(self._stream_log(argv))

    def _with_reverts(self, commits: list[RawCommit]) -> list[RawCommit]:
        """Which commits each revert names ("This reverts commit <sha>." in its message).

        Only the body says, and bodies are not in the log's format (they would double what git
        writes for every range): the few commits whose subject reads like a revert are asked again.
        """
        candidates = [c.sha for c in commits if looks_like_revert(c.subject)]
        if not candidates:
            return commits
        out = self._git("show", "-s", "--format=%x1e%H%x1f%B", *candidates).stdout
        reverts = parse_reverts(out)
        return [replace(c, reverts=reverts.get(c.sha, ())) if c.sha in reverts else c for c in commits]

    def _stream_log(self, argv: list[str]) -> list[RawCommit]:
        """Run git log and parse its output while it is being written."""
        parser = LogParser()
        with (
            tempfile.TemporaryFile() as errors,
            subprocess.Popen(
                argv,
                cwd=self.mirror,
                env=_git_env(),
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                errors="replace",
            ) as process,
        ):
            timer = threading.Timer(self.timeout, process.kill)
            timer.start()
            try:
                assert process.stdout is not None
                while chunk := process.stdout.read(1 << 16):
                    parser.feed(chunk)
                code = process.wait()
            finally:
                timer.cancel()
            if code != 0:
                errors.seek(0)
                stderr = redact(errors.read().decode(errors="replace").strip())[:500]
                if code < 0:
                    raise ChangeSourceUnavailable(f"git log took longer than {self.timeout:.0f}s")
                raise ChangeSourceError(f"git log failed: {stderr}")
        return parser.finish()

    # -- plumbing ------------------------------------------------------------------------

    def _resolve(self, sha: str) -> str | None:
        result = self._git("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", check=False)
        found = result.stdout.strip()
        return found if result.returncode == 0 and _SHA_RE.match(found) else None

    def _create_mirror(self) -> None:
        if (self.mirror / "HEAD").exists():
            return
        self.mirror.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.mirror.with_name(self.mirror.name + f".tmp{os.getpid()}")
        self._run(["git", "clone", "--quiet", "--mirror", self.remote, str(tmp)], cwd=None)
        for key, value in (
            ("core.commitGraph", "true"),
            ("fetch.writeCommitGraph", "true"),
            ("gc.writeCommitGraph", "true"),
        ):
            self._run(["git", "config", key, value], cwd=tmp)
        self._run(["git", "commit-graph", "write", "--reachable"], cwd=tmp)
        tmp.rename(self.mirror)
        self._fetched = True

    def _fetch(self) -> None:
        self._git("fetch", "--quiet", "--prune", "origin")
        self._fetched = True

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run(["git", *args], cwd=self.mirror, check=check)

    def _run(
        self, argv: list[str], *, cwd: Path | None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(
                argv,
                cwd=cwd,
                env=_git_env(),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ChangeSourceUnavailable(f"git {argv[1]} took longer than {self.timeout:.0f}s") from exc
        if check and result.returncode != 0:
            stderr = redact(result.stderr.strip())[:500]
            message = f"git {argv[1]} failed: {stderr}"
            if argv[1] in ("clone", "fetch") and not _PERMANENT.search(stderr):
                raise ChangeSourceUnavailable(message)  # network trouble: the job retries
            raise ChangeSourceError(message)
        return result

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Several workers (threads or processes) may fetch the same mirror.
        self.mirror.parent.mkdir(parents=True, exist_ok=True)
        with _lock_for(self.mirror), open(self.mirror.with_suffix(".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(mirror: Path) -> threading.Lock:
    """One lock per mirror for threads; flock covers other processes."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(mirror, threading.Lock())


class GitMirrors:
    """Mirrors of service repositories under `<data_dir>/mirrors`."""

    def __init__(self, *, data_dir: Path, config_dir: Path, timeout: float = 300.0) -> None:
        self._root = data_dir / "mirrors"
        self._config_dir = config_dir
        self._timeout = timeout

    def for_repository(self, repository: str) -> GitRepository:
        remote = repository
        if not is_remote(repository):
            remote = str((self._config_dir / Path(repository).expanduser()).resolve())
        digest = hashlib.sha256(remote.encode()).hexdigest()[:12]
        slug = re.sub(r"[^A-Za-z0-9]+", "-", remote.rstrip("/").rsplit("/", 1)[-1]).strip("-")[:40]
        return GitRepository(remote=remote, mirror=self._root / f"{slug}-{digest}.git", timeout=self._timeout)


_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:")


def is_remote(repository: str) -> bool:
    """A URL (https://, ssh://, file://) or scp-like `user@host:path`; else a local path."""
    return "://" in repository or bool(_SCP_LIKE.match(repository))
