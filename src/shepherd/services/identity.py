"""Who is who on Slack: shepherd.yaml first, then users.lookupByEmail, cached in the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shepherd.domain.changes import PeopleDirectory
from shepherd.domain.config import ShepherdConfig
from shepherd.domain.deploys import DeployPerson
from shepherd.domain.errors import NotifierRejected
from shepherd.domain.notify import Owner, Recipient
from shepherd.services.ports import UnitOfWork, UnitOfWorkFactory, UserLookup

log = logging.getLogger("shepherd.identity")
FOUND_TTL = timedelta(hours=24)
MISSING_TTL = timedelta(hours=1)  # a new hire shows up within the hour


@dataclass
class SlackDirectory:
    config: ShepherdConfig
    users: UserLookup
    uow_factory: UnitOfWorkFactory
    now: datetime

    def recipients(self, people: list[DeployPerson]) -> tuple[Recipient, ...]:
        return tuple(Recipient(p, self._slack_id(p.ref.person, [p.ref.email])) for p in people)

    def owners(self, names: list[str]) -> tuple[Owner, ...]:
        directory = PeopleDirectory(self.config.people)
        out = []
        for name in names:
            found = directory.by_name(name)
            if found is not None:
                out.append(Owner(found.name, self._slack_id(found.name, [])))
            else:  # an email
                out.append(Owner(name, self._slack_id(None, [name])))
        return tuple(out)

    def _slack_id(self, person_name: str | None, emails: list[str]) -> str | None:
        person = PeopleDirectory(self.config.people).by_name(person_name) if person_name else None
        if person is not None:
            if person.slack_user_id:
                return person.slack_user_id
            emails = [*person.emails, *emails]
        for email in dict.fromkeys(e.lower() for e in emails if e):
            found = self._lookup(email)
            if found:
                return found
        return None

    def _lookup(self, email: str) -> str | None:
        with self.uow_factory() as uow:
            cached = uow.notifications.cached_slack_user(email)
        if cached is not None:
            user_id, at = cached
            if self.now - at < (FOUND_TTL if user_id else MISSING_TTL):
                return user_id
        # A rate limit propagates: it is a RetryLater, and the job runner waits it out.
        try:
            user_id = self.users.user_id(email)
        except NotifierRejected as exc:
            # missing_scope / invalid_auth: a setup problem, not an answer; do not cache it.
            level = logging.DEBUG if exc.code == "no_slack" else logging.WARNING
            log.log(level, "users.lookupByEmail refused (%s): treating %s as not on Slack", exc.code, email)
            return None
        with self.uow_factory() as uow:
            uow.notifications.cache_slack_user(email, user_id, now=self.now)
        return user_id


def display_name(uow: UnitOfWork, *, config: ShepherdConfig, slack_user: str, fallback: str) -> str:
    """The configured name of a Slack user (by id, or by a cached email), else Slack's own name."""
    for person in config.people:
        if person.slack_user_id == slack_user:
            return person.name
    email = uow.notifications.email_of_slack_user(slack_user)
    found = PeopleDirectory(config.people).find(email=email) if email else None
    return found.name if found else fallback
