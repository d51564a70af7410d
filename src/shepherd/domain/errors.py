"""Errors raised across layers."""


class DuplicateKey(Exception):
    """A unique key (e.g. an idempotency key) is already taken."""
