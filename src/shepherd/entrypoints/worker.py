"""Worker threads: lease due jobs, run them, keep their leases alive.

Embedded in `shepherd serve` and standalone as `shepherd worker`. A commit that enqueued
jobs in this process calls `wake()`, so such a job starts within milliseconds; jobs from
other processes are found by polling every `poll_seconds`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from shepherd.domain.jobs import Job
from shepherd.services.jobs import JobRunner

log = logging.getLogger("shepherd.worker")


class Worker:
    def __init__(
        self,
        runner: JobRunner,
        *,
        concurrency: int = 1,
        poll_seconds: float = 1.0,
        next_due: Callable[[], datetime | None] | None = None,
    ) -> None:
        self._runner = runner
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._next_due = next_due
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._inflight: dict[int, Job] = {}
        self._lock = threading.Lock()
        self.processed = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        for i in range(self._concurrency):
            thread = threading.Thread(target=self._loop, name=f"shepherd-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._heartbeat, name="shepherd-heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run due jobs in this thread until none is due (tests, `shepherd demo`)."""
        count = 0
        while count < max_jobs and self._run_one():
            count += 1
        return count

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self._run_one()
            except Exception:  # the database went away: wait and try again
                log.exception("worker loop error; retrying")
                worked = False
                self._stop.wait(self._poll)
            if not worked:
                self._wake.wait(self._sleep_seconds())
                self._wake.clear()

    def _run_one(self) -> bool:
        jobs = self._runner.lease(1)
        if not jobs:
            return False
        job = jobs[0]
        with self._lock:
            self._inflight[job.id] = job
        try:
            outcome = self._runner.run(job)
            log.debug("job %s (%s): %s", job.id, job.kind, outcome)
        finally:
            with self._lock:
                self._inflight.pop(job.id, None)
        self.processed += 1
        return True

    def _sleep_seconds(self) -> float:
        if self._next_due is None:
            return self._poll
        try:
            due = self._next_due()
        except Exception:
            return self._poll
        if due is None:
            return self._poll
        wait = (due - self._runner.clock()).total_seconds()
        return max(0.005, min(self._poll, wait))

    def _heartbeat(self) -> None:
        interval = max(0.2, self._runner.lease_seconds / 3)
        while not self._stop.wait(interval):
            with self._lock:
                jobs = list(self._inflight.values())
            for job in jobs:
                if not self._runner.extend(job):
                    log.warning("job %s: could not extend lease", job.id)
