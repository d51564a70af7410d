"""A synthetic monorepo history, written with one `git fast-import` stream.

GitHub-shaped: a first-parent mainline of PR merge commits ("Merge pull request #N from
..." authored by the person who merged, committed by GitHub), squash merges "... (#N)" and
direct pushes; side branches fork a few mainline commits back; some commits carry
`Co-authored-by:` trailers. Deterministic (seeded), so the cached repository is stable.
`build_linear` makes a plain straight history instead (the notify benchmark's fixed-size ranges).
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVICES = [f"svc{i:02d}" for i in range(24)]
LIBS = ["auth", "http", "metrics", "storage"]
AREAS = ["api", "core", "db", "jobs", "web"]
WORDS = ["fix", "add", "tidy", "speed up", "log", "guard", "rename", "test", "retry", "cache"]
GITHUB = ("GitHub", "noreply@github.com")
START_EPOCH = 1_600_000_000


@dataclass(frozen=True)
class Person:
    name: str
    email: str


def people(count: int = 40) -> list[Person]:
    out = []
    for i in range(count):
        login = f"dev{i:02d}"
        email = f"{1000 + i}+{login}@users.noreply.github.com" if i % 4 == 0 else f"{login}@example.com"
        out.append(Person(f"Developer {i:02d}", email))
    return out


@dataclass
class _State:
    rng: random.Random
    people: list[Person]
    mark: int = 0
    pr: int = 0
    clock: int = START_EPOCH
    commits: int = 0


def _random_path(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return f"libs/{rng.choice(LIBS)}/src/mod{rng.randrange(30):02d}.py"
    svc, area = rng.choice(SERVICES), rng.choice(AREAS)
    return f"services/{svc}/{area}/file{rng.randrange(16):02d}.py"


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}"


def _commit(
    st: _State,
    ref: str,
    message: str,
    author: Person,
    committer: Person,
    parents: list[int],
    files: dict[str, str],
) -> tuple[int, str]:
    st.mark += 1
    st.clock += st.rng.randrange(30, 600)
    st.commits += 1
    lines = [
        f"commit {ref}",
        f"mark :{st.mark}",
        f"author {author.name} <{author.email}> {st.clock - st.rng.randrange(0, 3600)} +0000",
        f"committer {committer.name} <{committer.email}> {st.clock} +0000",
        _data(message),
    ]
    lines += [f"from :{parents[0]}"] if parents else []
    lines += [f"merge :{p}" for p in parents[1:]]
    lines += [f"M 100644 inline {path}\n{_data(body)}" for path, body in files.items()]
    return st.mark, "\n".join(lines) + "\n\n"


def _change_files(st: _State) -> dict[str, str]:
    count = st.rng.choice((1, 1, 1, 2, 2, 3))
    return {_random_path(st.rng): f"# change {st.mark + 1} {i}\n" for i in range(count)}


def _message(st: _State, subject: str) -> str:
    if st.rng.random() < 0.15:
        co = st.rng.choice(st.people)
        return f"{subject}\n\nPairing session.\n\nCo-authored-by: {co.name} <{co.email}>\n"
    return subject + "\n"


def _subject(st: _State, files: dict[str, str]) -> str:
    path = next(iter(files)).split("/")
    return f"{st.rng.choice(WORDS)} {path[1]} {path[2]}"


def _pr_merge(st: _State, mainline: list[int]) -> Iterator[str]:
    """A side branch of 1-4 commits forked a little back, then its merge commit."""
    st.pr += 1
    dev = st.rng.choice(st.people)
    fork = mainline[-min(len(mainline), st.rng.randint(1, 4))]
    tip, merged_files = fork, {}
    for _ in range(st.rng.randint(1, 4)):
        files = _change_files(st)
        merged_files.update(files)
        message = _message(st, _subject(st, files))
        tip, text = _commit(st, "refs/heads/topic", message, dev, dev, [tip], files)
        yield text
    merger, parents = st.rng.choice(st.people), [mainline[-1], tip]
    subject = f"Merge pull request #{st.pr} from acme/{dev.email.split('@')[0]}/topic-{st.pr}"
    message = f"{subject}\n\n{_subject(st, merged_files)}\n"
    mark, text = _commit(st, "refs/heads/main", message, merger, Person(*GITHUB), parents, merged_files)
    mainline.append(mark)
    yield text


def _single(st: _State, mainline: list[int]) -> str:
    dev, files = st.rng.choice(st.people), _change_files(st)
    if st.rng.random() < 0.6:
        st.pr += 1
        subject, committer = f"{_subject(st, files)} (#{st.pr})", Person(*GITHUB)
    else:
        subject, committer = _subject(st, files), dev
    mark, text = _commit(st, "refs/heads/main", _message(st, subject), dev, committer, mainline[-1:], files)
    mainline.append(mark)
    return text


def stream(commits: int, mainline: list[int], seed: int = 7) -> Iterator[str]:
    """fast-import commands for about `commits` commits; fills `mainline` with its marks."""
    st = _State(random.Random(seed), people())
    while st.commits < commits:
        if mainline and st.rng.random() < 0.45:
            yield from _pr_merge(st, mainline)
        else:
            yield _single(st, mainline)


def build(repo: Path, commits: int) -> list[str]:
    """Create a bare repository at `repo`; returns the mainline shas, oldest first."""
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(repo)], check=True)
    marks_file = repo / "bench-marks"
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done", f"--export-marks={marks_file}"],
        cwd=repo,
        stdin=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    mainline_marks: list[int] = []
    for text in stream(commits, mainline_marks):
        proc.stdin.write(text)
    proc.stdin.write("done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    subprocess.run(["git", "update-ref", "-d", "refs/heads/topic"], cwd=repo, check=True)
    marks = dict(line.split() for line in marks_file.read_text().splitlines())
    return [marks[f":{m}"] for m in mainline_marks]


def build_linear(repo: Path, commits: int, authors: list[Person]) -> list[tuple[str, Person]]:
    """A bare repository: a straight line of one-file direct pushes (committer = author), each
    by a seeded random choice of `authors`; returns (sha, author) per commit, oldest first."""
    rng = random.Random(11)
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(repo)], check=True)
    marks_file = repo / "bench-marks"
    argv = ["git", "fast-import", "--quiet", "--done", f"--export-marks={marks_file}"]
    proc = subprocess.Popen(argv, cwd=repo, stdin=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    st, chosen = _State(rng, authors), []
    for i in range(commits):
        dev, path = rng.choice(authors), _random_path(rng)
        chosen.append(dev)
        parents = [st.mark] if st.mark else []
        message = f"{rng.choice(WORDS)} {path.split('/')[-1]} ({i})\n"
        _, text = _commit(st, "refs/heads/main", message, dev, dev, parents, {path: f"# {i}\n"})
        proc.stdin.write(text)
    proc.stdin.write("done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    marks = dict(line.split() for line in marks_file.read_text().splitlines())
    return [(marks[f":{m}"], dev) for m, dev in enumerate(chosen, start=1)]
