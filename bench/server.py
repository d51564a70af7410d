"""A `shepherd serve` subprocess for the API benchmark, and a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT = 60.0


def shepherd_command() -> str:
    beside = Path(sys.executable).parent / "shepherd"
    found = str(beside) if beside.exists() else shutil.which("shepherd")
    if found is None:
        raise RuntimeError("the `shepherd` command is not installed (run `make venv`)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_repo(path: Path, commits: int = 3) -> list[str]:
    """A tiny local git repository; returns its commit shas, oldest first."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env |= {"GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(path)], check=True, env=env)
    shas = []
    for i in range(commits):
        (path / "app.txt").write_text(f"version {i}\n")
        subprocess.run(["git", "add", "app.txt"], cwd=path, check=True, env=env)
        subprocess.run(["git", "commit", "--quiet", "-m", f"change {i}"], cwd=path, check=True, env=env)
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, env=env, capture_output=True, text=True)
        shas.append(head.stdout.strip())
    return shas


def write_config(path: Path, service: str, repository: Path) -> Path:
    path.write_text(
        f"services:\n  - name: {service}\n    repository: {repository}\n    environments: [production]\n"
    )
    return path


def server_env(config: Path, database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEPHERD_")}
    env |= {"SHEPHERD_CONFIG": str(config), "SHEPHERD_DATABASE_URL": database_url}
    env |= {"SHEPHERD_DATA_DIR": str(data_dir)}
    return env


@contextmanager
def running_server(env: dict[str, str], log_file: Path) -> Iterator[str]:
    """`shepherd serve --insecure-dev` on a free loopback port; yields its base URL."""
    port = free_port()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    argv = [shepherd_command(), "serve", "--insecure-dev", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_file, "w") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_healthy(proc, base_url, log_file)
            yield base_url
        finally:
            _stop(proc)


def _wait_healthy(proc: subprocess.Popen[bytes], base_url: str, log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_file.read_text()[-2000:]
            raise RuntimeError(f"shepherd serve exited with {proc.returncode}:\n{tail}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"shepherd serve did not answer /healthz within {START_TIMEOUT:.0f}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# -- PostgreSQL ---------------------------------------------------------------------------


def postgres_admin_url() -> str | None:
    """SHEPHERD_TEST_POSTGRES_URL, else the local default server if it answers."""
    url = os.environ.get("SHEPHERD_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        with _connect(url):
            return url
    except Exception:
        return None


def _connect(url: str) -> psycopg.Connection[Any]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new empty database for the run, dropped afterwards; yields its SQLAlchemy URL."""
    name = f"shepherd_bench_{os.getpid()}"
    with _connect(admin_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with _connect(admin_url) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def upgrade_database(env: dict[str, str]) -> None:
    result = subprocess.run([shepherd_command(), "db", "upgrade"], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"shepherd db upgrade failed: {result.stderr.strip()[-2000:]}")
