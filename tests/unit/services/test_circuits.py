"""Circuits with the job runner, on the in-memory tables: park, probe, one trial, then the rest."""

from __future__ import annotations

from datetime import timedelta

from shepherd.domain.circuits import SLACK, CircuitState
from shepherd.domain.errors import NotifierRateLimited, NotifierRejected, NotifierUnavailable
from shepherd.domain.jobs import JobOutcome, JobState, NewJob
from shepherd.services.circuits import Circuits
from shepherd.services.jobs import HandlerRegistry, JobContext, JobRunner
from tests.support.builders import Store


class Slack:
    """A destination that is up or down, and a probe that says which."""

    def __init__(self) -> None:
        self.error: Exception | None = NotifierUnavailable("internal_error", "Slack answered 503")
        self.delivered: list[int] = []
        self.probes = 0

    def send(self, ctx: JobContext) -> None:
        if self.error is not None:
            raise self.error
        self.delivered.append(ctx.job.id)

    def probe(self, destination: str) -> str | None:
        self.probes += 1
        return "HTTP 503" if isinstance(self.error, NotifierUnavailable) else None


def world(store: Store, slack: Slack, jobs: int = 3) -> tuple[JobRunner, Circuits]:
    registry = HandlerRegistry()
    registry["send"] = slack.send
    circuits = Circuits(uow_factory=store.uow_factory, clock=store.clock, probes=slack)
    runner = JobRunner(
        uow_factory=store.uow_factory,
        handlers=registry,
        clock=store.clock,
        lease_seconds=30,
        circuits=circuits,
    )
    with store.uow_factory() as uow:
        for _ in range(jobs):
            uow.jobs.enqueue(NewJob(kind="send", destination=SLACK, max_attempts=2), now=store.clock())
    return runner, circuits


def drain(runner: JobRunner) -> list[JobOutcome]:
    outcomes = []
    while leased := runner.lease():
        outcomes.append(runner.run(leased[0]))
    return outcomes


def test_an_outage_parks_every_job_of_the_destination_without_spending_attempts() -> None:
    store, slack = Store(), Slack()
    runner, _ = world(store, slack)
    assert drain(runner) == [JobOutcome.PARKED] * 3
    assert {(j.state, j.attempts) for j in store.jobs()} == {(JobState.PARKED, 0)}
    circuit = store.uow_factory.tables.circuits[SLACK]
    assert circuit.state is CircuitState.OPEN and circuit.held == 3
    assert circuit.next_probe_at == store.clock() + timedelta(seconds=5)


def test_the_probe_lets_one_trial_through_then_releases_the_rest_oldest_first() -> None:
    store, slack = Store(), Slack()
    runner, circuits = world(store, slack)
    drain(runner)
    store.clock.advance(5)
    assert circuits.probe_due() == [] and slack.probes == 1  # still down
    slack.error = None
    assert circuits.probe_due() == []  # not due again yet
    store.clock.advance(5)
    assert circuits.probe_due() == [SLACK]
    assert [j.state for j in store.jobs()] == [JobState.PENDING, JobState.PARKED, JobState.PARKED]
    assert drain(runner) == [JobOutcome.DONE] * 3
    assert slack.delivered == [j.id for j in store.jobs()]  # the trial, then the rest in order
    assert store.uow_factory.tables.circuits[SLACK].state is CircuitState.CLOSED


def test_a_long_outage_kills_nothing() -> None:
    store, slack = Store(), Slack()
    runner, circuits = world(store, slack)
    for _ in range(8 * 60):  # eight hours, a probe a minute
        drain(runner)
        store.clock.advance(60)
        circuits.probe_due()
    assert not [j for j in store.jobs() if j.state is JobState.DEAD]
    slack.error = None
    store.clock.advance(60)
    circuits.probe_due()
    drain(runner)
    assert len(slack.delivered) == 3 and {j.state for j in store.jobs()} == {JobState.DONE}


def test_a_rate_limit_waits_exactly_retry_after() -> None:
    store, slack = Store(), Slack()
    slack.error = NotifierRateLimited(30)
    runner, _ = world(store, slack, jobs=1)
    assert drain(runner) == [JobOutcome.PARKED]
    circuit = store.uow_factory.tables.circuits[SLACK]
    assert circuit.next_probe_at == store.clock() + timedelta(seconds=30)


def test_the_message_s_own_fault_counts_attempts_and_closes_a_half_open_circuit() -> None:
    store, slack = Store(), Slack()
    runner, circuits = world(store, slack, jobs=2)
    drain(runner)
    slack.error = NotifierRejected("channel_not_found")
    store.clock.advance(5)
    circuits.probe_due()
    assert drain(runner) == [JobOutcome.RETRY, JobOutcome.RETRY]  # Slack answered: a no is a no
    assert store.uow_factory.tables.circuits[SLACK].state is CircuitState.CLOSED
    assert [j.attempts for j in store.jobs()] == [1, 1]


def test_jobs_without_a_destination_back_off_as_before() -> None:
    store, slack = Store(), Slack()
    runner, _ = world(store, slack, jobs=0)
    runner.handlers["git"] = slack.send
    with store.uow_factory() as uow:
        uow.jobs.enqueue(NewJob(kind="git"), now=store.clock())
    assert drain(runner) == [JobOutcome.RETRY]
    assert SLACK not in store.uow_factory.tables.circuits
