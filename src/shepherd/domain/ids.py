"""Row ids: positive 63-bit integers, as SQLite's and PostgreSQL's BIGINT hold them.

A larger number cannot name a row; passed to the database it is an overflow error, not a miss.
"""

MAX_ID = 2**63 - 1


def valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


def parse_id(text: str) -> int | None:
    """The id in `text` ("42"), or None when it is not one (signs, spaces, other digits, too big)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    value = int(text)
    return value if valid_id(value) else None
