"""Worker threads: lease due jobs, run them, keep their leases alive.

The job engine's threads, embedded in `shepherd serve` and standalone as `shepherd worker`.
A commit that enqueued jobs in this process calls `wake()`, so such a job starts within
milliseconds; jobs from other processes are found by polling every `poll_seconds`. The
transaction that settles a job also leases the next due one, so a busy loop spends one
transaction a job on the queue, not two.
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
        if self._runner.circuits is not None:
            probe = threading.Thread(target=self._probing, name="shepherd-probe", daemon=True)
            probe.start()
            self._threads.append(probe)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run due jobs in this thread until none is due (tests, `shepherd demo`).

        Destinations that are down and due a probe are probed first, as the probe thread would.
        """
        self.probe()
        count, job = 0, None
        while count < max_jobs and (job := job or self._lease()) is not None:
            count += 1
            job = self._run(job, lease_next=count < max_jobs)  # none left leased when it returns
        return count

    def _loop(self) -> None:
        job: Job | None = None  # leased by the transaction that settled the last one
        while job is not None or not self._stop.is_set():
            try:
                job = job or self._lease()
                worked = job is not None
                if job is not None:
                    job = self._run(job, lease_next=not self._stop.is_set())
            except Exception:  # the database went away: wait and try again
                log.exception("worker loop error; retrying")
                worked, job = False, None
                self._stop.wait(self._poll)
            if not worked:
                self._wake.wait(self._sleep_seconds())
                self._wake.clear()

    def _lease(self) -> Job | None:
        jobs = self._runner.lease(1)
        return jobs[0] if jobs else None

    def _run(self, job: Job, *, lease_next: bool) -> Job | None:
        """Run one leased job; the next one, if its settling transaction leased it."""
        with self._lock:
            self._inflight[job.id] = job
        leased = None
        try:
            if lease_next:
                outcome, leased = self._runner.run_then_lease(job)
            else:
                outcome = self._runner.run(job)
            log.debug("job %s (%s): %s", job.id, job.kind, outcome)
        finally:
            with self._lock:
                self._inflight.pop(job.id, None)
        self.processed += 1
        return leased

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

    def probe(self) -> bool:
        """Probe the destinations that are down and due; True when one answered (jobs released)."""
        circuits = self._runner.circuits
        if circuits is None or not circuits.probe_due():
            return False
        self._wake.set()
        return True

    def _probing(self) -> None:
        # Every second: a circuit is due every PROBE_SECONDS, and checking costs one small query.
        while not self._stop.wait(1.0):
            try:
                self.probe()
            except Exception:  # the database went away: the next round tries again
                log.exception("probe loop error; retrying")

    def _heartbeat(self) -> None:
        interval = max(0.2, self._runner.lease_seconds / 3)
        while not self._stop.wait(interval):
            with self._lock:
                jobs = list(self._inflight.values())
            for job in jobs:
                if not self._runner.extend(job):
                    log.warning("job %s: could not extend lease", job.id)
