"""Changes: which commits and pull requests ride in a deploy, and who wrote and merged them."""

from shepherd.domain.changes.attribution import (
    AttributionInput,
    build_changeset,
    pr_number_from_subject,
    prs_without_merger,
)
from shepherd.domain.changes.people import (
    PeopleDirectory,
    github_login_from_email,
    parse_coauthor,
    person_key,
)

__all__ = [
    "AttributionInput",
    "PeopleDirectory",
    "build_changeset",
    "github_login_from_email",
    "parse_coauthor",
    "person_key",
    "pr_number_from_subject",
    "prs_without_merger",
]
