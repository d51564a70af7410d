"""Runs rollbacks for real: a shell command (own process group, killed on timeout) or an HTTP call.

Failures come back as results, never as exceptions: the job records what happened either way.
Header values are never logged (they carry tokens).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping

import httpx

from shepherd.adapters.http_errors import from_response
from shepherd.domain.incidents import WEBHOOK_OUTPUT_CHARS, RollbackResult

KILL_GRACE_SECONDS = 5.0  # after SIGTERM to the process group, before SIGKILL
OUTPUT_CHARS = 20_000  # of a command's output kept (the end, where the errors are)


class SubprocessRollbackRunner:
    def __init__(self, *, shell: str = "/bin/sh") -> None:
        self._shell = shell

    def run_command(self, command: str, *, env: Mapping[str, str], timeout: float) -> RollbackResult:
        """`sh -c command`, stdout and stderr merged; the whole process group dies on timeout."""
        try:
            process = subprocess.Popen(
                [self._shell, "-c", command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env},
                start_new_session=True,  # its own process group: a timeout kills its children too
            )
        except OSError as exc:
            return RollbackResult(False, None, f"could not start {self._shell}: {exc}")
        try:
            raw, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raw = _stop(process)
            output = _text(raw) + f"\n[shepherd] timed out after {timeout:g} s: stopped\n"
            return RollbackResult(False, None, _tail(output))
        code = process.returncode
        return RollbackResult(code == 0, code, _tail(_text(raw)))

    def call_webhook(
        self, *, method: str, url: str, headers: Mapping[str, str], body: str | None, timeout: float
    ) -> RollbackResult:
        """2xx is success; the status and the start of the response body are the output.

        A redirect is not followed (the headers carry tokens) and counts as a failure, as a
        4xx or 5xx does; nothing is retried: whoever asked sees the answer and decides.
        """
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.request(
                    method,
                    url,
                    headers={"User-Agent": "shepherd-rollback", **headers},
                    content=body.encode() if body is not None else None,
                )
        except httpx.TimeoutException:
            return RollbackResult(False, None, f"timed out after {timeout:g} s waiting for {_where(url)}")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return RollbackResult(False, None, f"could not call {_where(url)}: {type(exc).__name__}: {exc}")
        text = response.text[:WEBHOOK_OUTPUT_CHARS]
        output = f"HTTP {response.status_code} {response.reason_phrase}".rstrip() + (
            f"\n{text}" if text else ""
        )
        return RollbackResult(from_response(response) is None, response.status_code, output)


def _stop(process: subprocess.Popen[bytes]) -> bytes:
    """SIGTERM the group, then SIGKILL; whatever it printed so far."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, KILL_GRACE_SECONDS)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            raw, _ = process.communicate(timeout=wait)
            return raw or b""
        except subprocess.TimeoutExpired:
            continue
    # A grandchild left the group and holds the pipe open: stop reading.
    if process.stdout is not None:
        process.stdout.close()
    process.wait()
    return b""


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_CHARS else "…" + text[-OUTPUT_CHARS:]


def _where(url: str) -> str:
    """The URL without its query string (it may carry a token)."""
    return url.split("?", 1)[0]
