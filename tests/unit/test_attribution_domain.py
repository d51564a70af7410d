"""Attribution rules on hand-built commit graphs (no git)."""

from datetime import UTC, datetime

from shepherd.domain.changes import (
    AttributionInput,
    PeopleDirectory,
    build_changeset,
    github_login_from_email,
    parse_coauthor,
    pr_number_from_subject,
    prs_without_merger,
)
from shepherd.domain.config import PathRule, Person, Service
from shepherd.domain.deploys import Identity, RawCommit, Role

T = datetime(2026, 11, 2, tzinfo=UTC)
ANA = Identity("Ana Lima", "Ana@Example.com")
BRUNO = Identity("Bruno Costa", "bruno@example.com")
CHEN = Identity("Chen Wei", "chen.wei@oldmail.example")
GITHUB = Identity("GitHub", "noreply@github.com")
PEOPLE = [
    Person(name="Ana Lima", emails=["ana@example.com"], github_login="ana-lima"),
    Person(name="Chen Wei", emails=["chen@example.com", "chen.wei@oldmail.example"]),
]


def commit(sha: str, parents: str, subject: str, author: Identity, **kw: object) -> RawCommit:
    values: dict[str, object] = {
        "sha": sha,
        "parents": tuple(parents.split()),
        "author": author,
        "committer": kw.pop("committer", author),
        "authored_at": T,
        "committed_at": T,
        "subject": subject,
        "files": ("services/api/a.py",),
    }
    values.update(kw)
    return RawCommit(**values)  # type: ignore[arg-type]


def changeset(commits: list[RawCommit], head: str, service: Service | None = None, **kw: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "commits": commits,
        "head_sha": head,
        "base_sha": "base",
        "service": service or Service(name="api", repository="."),
        "directory": PeopleDirectory(PEOPLE),
        "pr_mergers": {},
    }
    values.update(kw)
    return build_changeset(AttributionInput(**values))  # type: ignore[arg-type]


# history (newest first):  m2 = merge PR #7 (b1, b2 by Bruno) by Ana; s1 = squash (#8) by Chen
HISTORY = [
    commit("m2", "s1 b2", "Merge pull request #7 from acme/bruno/x", ANA, committer=GITHUB),
    commit("b2", "b1", "second bruno commit", BRUNO),
    commit("b1", "base", "first bruno commit", BRUNO),
    commit("s1", "base", "Faster search (#8)", CHEN, committer=GITHUB),
]


def test_pr_numbers_from_merge_and_squash_subjects() -> None:
    assert pr_number_from_subject("Merge pull request #123 from a/b") == 123
    assert pr_number_from_subject("Fix the thing (#45)") == 45
    assert pr_number_from_subject("Fix (#45) later") is None
    assert pr_number_from_subject("Merge branch 'main' into x") is None


def test_merge_commit_gives_pr_and_merger_but_is_no_change() -> None:
    result = changeset(HISTORY, "m2")
    assert [c.sha for c in result.changes] == ["b2", "b1", "s1"]
    assert result.total_commits == 4 and result.total_changes == 3
    b2 = result.changes[0]
    assert b2.pr_number == 7 and b2.merge_sha == "m2"
    assert b2.merger is not None and b2.merger.person == "Ana Lima"
    s1 = result.changes[2]
    assert s1.pr_number == 8 and s1.merger is None  # git cannot tell for squash merges


def test_people_roles_and_aliases() -> None:
    people = {p.ref.name: p for p in changeset(HISTORY, "m2").people}
    assert people["Bruno Costa"].roles == {Role.AUTHOR} and people["Bruno Costa"].ref.person is None
    assert people["Bruno Costa"].change_shas == ["b2", "b1"]
    assert people["Ana Lima"].roles == {Role.MERGER} and people["Ana Lima"].merged_prs == {7}
    assert people["Chen Wei"].ref.person == "Chen Wei"  # matched through the alias address
    assert "GitHub" not in people


def test_squash_merger_comes_from_github_lookup() -> None:
    assert prs_without_merger(HISTORY, "m2") == [8]
    result = changeset(
        HISTORY,
        "m2",
        pr_mergers={8: (Identity("ana-lima", "1+ana-lima@users.noreply.github.com"), "ana-lima")},
    )
    assert result.changes[2].merger is not None and result.changes[2].merger.person == "Ana Lima"


def test_coauthors_deduplicated_and_machines_dropped() -> None:
    trailers = (CHEN, Identity("Ana again", "ana@example.com"), GITHUB)
    result = changeset([commit("c1", "base", "pairing", ANA, coauthors=trailers)], "c1")
    change = result.changes[0]
    assert [c.person for c in change.coauthors] == ["Chen Wei"]
    roles = {p.ref.name: p.roles for p in result.people}
    assert roles == {"Ana Lima": {Role.AUTHOR}, "Chen Wei": {Role.COAUTHOR}}


def test_noreply_author_is_never_a_person() -> None:
    result = changeset([commit("c1", "base", "web edit", GITHUB)], "c1")
    assert result.total_changes == 1 and result.people == ()


def test_side_commit_belongs_to_the_oldest_merge_that_brings_it() -> None:
    # feature branch f1 merged in m1 (#1), then f2 built on f1 merged in m2 (#2)
    commits = [
        commit("m2", "m1 f2", "Merge pull request #2 from a/f2", ANA),
        commit("f2", "f1", "f2", BRUNO),
        commit("m1", "base f1", "Merge pull request #1 from a/f1", CHEN),
        commit("f1", "base", "f1", BRUNO),
    ]
    result = changeset(commits, "m2")
    by_sha = {c.sha: c for c in result.changes}
    assert by_sha["f1"].pr_number == 1 and by_sha["f1"].merger is not None
    assert by_sha["f1"].merger.name == "Chen Wei"
    assert by_sha["f2"].pr_number == 2


def test_path_rules_and_monorepo_paths() -> None:
    service = Service(
        name="api",
        repository=".",
        paths=["services/api/**"],
        path_rules=[PathRule(name="payments", paths=["services/api/payments/**"])],
    )
    commits = [
        commit("c3", "c2", "pay", ANA, files=("services/api/payments/x.py",)),
        commit("c2", "c1", "web only", ANA, files=("services/web/x.py",)),
        commit("c1", "base", "api", ANA, files=("services/api/a.py",)),
    ]
    result = changeset(commits, "c3", service)
    assert [(c.sha, c.path_rules) for c in result.changes] == [("c3", ("payments",)), ("c1", ())]
    assert result.skipped_outside_paths == 1


def test_listing_limit_keeps_full_counts() -> None:
    commits = [commit(f"c{i}", f"c{i - 1}" if i else "base", f"change {i}", ANA) for i in range(30)][::-1]
    result = changeset(commits, "c29", limit=10)
    assert len(result.changes) == 10 and result.total_changes == 30
    assert len(result.people[0].change_shas) == 30


def test_identity_helpers() -> None:
    assert github_login_from_email("12345+Ana-Lima@users.noreply.github.com") == "ana-lima"
    assert github_login_from_email("ana@example.com") is None
    assert parse_coauthor("Chen Wei <chen@example.com>") == Identity("Chen Wei", "chen@example.com")
    assert parse_coauthor("no email here") is None
    directory = PeopleDirectory(PEOPLE)
    found = directory.resolve(Identity("x", "9+ana-lima@users.noreply.github.com"))
    assert found.person == "Ana Lima"
