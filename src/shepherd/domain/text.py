"""Small wording helpers for messages people read."""


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """`1 change`, `3 changes`, with thousands separators."""
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"
