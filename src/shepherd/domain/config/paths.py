"""Globs over changed file paths, as path rules and monorepo service paths use them.

`*` matches within one path segment, `**` across segments, `?` one character; a pattern
ending in `/` matches everything below that directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    if not pattern or pattern.strip() != pattern:
        raise ValueError(f"empty or padded glob {pattern!r}")
    if pattern.endswith("/"):
        pattern += "**"
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def compile_globs(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    return [compile_glob(p.lstrip("/")) for p in patterns]


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    return any(rx.match(path) for rx in compile_globs(patterns))


def any_file_matches(files: Iterable[str], patterns: list[str]) -> bool:
    regexes = compile_globs(patterns)
    return any(rx.match(f) for f in files for rx in regexes)
