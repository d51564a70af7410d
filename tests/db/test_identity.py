"""Who is who on Slack: shepherd.yaml first, then the UserLookup, answers cached in the database."""

from __future__ import annotations

import pytest

from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.domain.config import Person, ShepherdConfig
from shepherd.domain.deploys import DeployPerson, PersonRef, Role
from shepherd.domain.errors import NotifierRateLimited, NotifierRejected
from shepherd.domain.jobs import RetryLater
from shepherd.services.identity import SlackDirectory
from tests.support import FakeClock


class FakeUserLookup:
    """Answers from a dict, or raises what it is told to; records every email asked."""

    def __init__(self, users: dict[str, str], *, error: Exception | None = None) -> None:
        self.users = users
        self.error = error
        self.asked: list[str] = []

    def user_id(self, email: str) -> str | None:
        self.asked.append(email)
        if self.error is not None:
            raise self.error
        return self.users.get(email)


CONFIG = ShepherdConfig(people=[Person(name="Ana Lima", emails=["ana@example.com"], slack_user_id="U01ANA")])


def author(name: str, email: str, person: str | None = None) -> DeployPerson:
    return DeployPerson(PersonRef(name, email, person), {Role.AUTHOR}, [])


def slack_ids(directory: SlackDirectory, *people: DeployPerson) -> list[str | None]:
    return [r.slack_user for r in directory.recipients(list(people))]


def test_configured_ids_win_and_answers_are_cached(uow_factory: SqlUnitOfWorkFactory) -> None:
    users = FakeUserLookup({"bruno@example.com": "U02BRUNO"})
    directory = SlackDirectory(CONFIG, users, uow_factory, FakeClock()())
    ana, bruno = author("Ana Lima", "ana@example.com", "Ana Lima"), author("Bruno", "Bruno@Example.com")
    nobody = author("Nobody", "nobody@example.com")
    assert slack_ids(directory, ana, bruno, nobody) == ["U01ANA", "U02BRUNO", None]
    assert slack_ids(directory, bruno, nobody) == ["U02BRUNO", None]
    assert users.asked == ["bruno@example.com", "nobody@example.com"]  # the second time: from the cache


def test_a_refusal_is_no_answer_and_is_not_cached(uow_factory: SqlUnitOfWorkFactory) -> None:
    users = FakeUserLookup({}, error=NotifierRejected("missing_scope"))
    directory = SlackDirectory(CONFIG, users, uow_factory, FakeClock()())
    bruno = author("Bruno", "bruno@example.com")
    assert slack_ids(directory, bruno) == [None]
    users.error, users.users = None, {"bruno@example.com": "U02BRUNO"}
    assert slack_ids(directory, bruno) == ["U02BRUNO"]


def test_a_rate_limit_reaches_the_job_runner(uow_factory: SqlUnitOfWorkFactory) -> None:
    users = FakeUserLookup({}, error=NotifierRateLimited(7.0))
    directory = SlackDirectory(CONFIG, users, uow_factory, FakeClock()())
    with pytest.raises(RetryLater) as raised:
        directory.recipients([author("Bruno", "bruno@example.com")])
    assert raised.value.seconds == 7.0  # the runner waits exactly Retry-After
