import pytest

from shepherd.domain.config import any_file_matches, compile_glob, matches_any


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("services/api/**", "services/api/a.py", True),
        ("services/api/**", "services/api/deep/er/a.py", True),
        ("services/api/**", "services/apix/a.py", False),
        ("services/*/main.go", "services/api/main.go", True),
        ("services/*/main.go", "services/api/sub/main.go", False),
        ("**/*.sql", "db/migrations/001.sql", True),
        ("**/*.sql", "001.sql", True),
        ("libs/", "libs/common/http.py", True),
        ("libs/", "libsx/a.py", False),
        ("a?.txt", "ab.txt", True),
        ("a?.txt", "a/.txt", False),
        ("docs/[x].md", "docs/[x].md", True),
    ],
)
def test_glob(pattern: str, path: str, expected: bool) -> None:
    assert bool(compile_glob(pattern).match(path)) is expected


def test_leading_slash_is_ignored_and_any_file_matches() -> None:
    assert matches_any("services/api/a.py", ["/services/api/**"])
    assert any_file_matches(["README.md", "services/api/a.py"], ["services/api/**"])
    assert not any_file_matches([], ["**"])


def test_padded_glob_is_refused() -> None:
    with pytest.raises(ValueError):
        compile_glob(" services/**")
