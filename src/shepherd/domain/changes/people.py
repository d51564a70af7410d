"""Matching git and GitHub identities to the people declared in config."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shepherd.domain.config import Person
from shepherd.domain.deploys import Identity, PersonRef

# GitHub writes web merges and squashes as committer "GitHub <noreply@github.com>": a machine.
MACHINE_EMAILS = frozenset({"noreply@github.com"})
_NOREPLY_RE = re.compile(r"^(?:\d+\+)?(?P<login>[A-Za-z0-9-]+(?:\[bot\])?)@users\.noreply\.github\.com$")
_TRAILER_RE = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>\s*$")


def is_person(identity: Identity) -> bool:
    return bool(identity.email) and identity.email.lower() not in MACHINE_EMAILS


def github_login_from_email(email: str) -> str | None:
    """`12345+ana@users.noreply.github.com` → `ana` (GitHub's private commit emails)."""
    match = _NOREPLY_RE.match(email.strip().lower())
    return match.group("login") if match else None


def parse_coauthor(value: str) -> Identity | None:
    """`Ana Lima <ana@example.com>` from a Co-authored-by trailer; None when malformed."""
    match = _TRAILER_RE.match(value)
    if not match:
        return None
    return Identity(name=match.group("name") or match.group("email"), email=match.group("email"))


class PeopleDirectory:
    """Config people by email (case-insensitive, every alias) and GitHub login."""

    def __init__(self, people: Iterable[Person]) -> None:
        self._by_email: dict[str, Person] = {}
        self._by_login: dict[str, Person] = {}
        self._by_name: dict[str, Person] = {}
        for person in people:
            self._by_name[person.name] = person
            for email in person.emails:
                self._by_email.setdefault(email.lower(), person)
            if person.github_login:
                self._by_login.setdefault(person.github_login.lower(), person)

    def find(self, *, email: str | None = None, login: str | None = None) -> Person | None:
        if email:
            found = self._by_email.get(email.lower())
            if found:
                return found
            login = login or github_login_from_email(email)
        return self._by_login.get(login.lower()) if login else None

    def by_name(self, name: str) -> Person | None:
        return self._by_name.get(name)

    def resolve(self, identity: Identity, *, login: str | None = None) -> PersonRef:
        person = self.find(email=identity.email, login=login)
        login = login or github_login_from_email(identity.email)
        if person is None:
            return PersonRef(name=identity.name, email=identity.email, github_login=login)
        return PersonRef(
            name=person.name,
            email=identity.email,
            person=person.name,
            github_login=person.github_login or login,
        )


def person_key(ref: PersonRef) -> str:
    """One key per human: the configured person, else the email."""
    return f"person:{ref.person}" if ref.person else f"email:{ref.email.lower()}"
