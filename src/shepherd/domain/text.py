"""Small wording helpers for messages people read."""


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """`1 change`, `3 changes`, with thousands separators."""
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"


def duration(minutes: float) -> str:
    """`3 seconds`, `10 minutes`, `1 h 30 min`: policy times as people say them."""
    seconds = round(minutes * 60)
    if seconds < 60:
        return plural(seconds, "second")
    if seconds < 3600:
        return plural(round(seconds / 60), "minute")
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h {rest} min" if rest else plural(hours, "hour")


def hours_words(hours: float | None) -> str:
    """`40 min`, `5.2 h`, `3.1 days`; `–` for nothing to say (an empty period)."""
    if hours is None:
        return "–"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def figure(x: float | None) -> str:
    """Two significant digits, `–` for none."""
    return "–" if x is None else f"{x:.2g}"
