"""Shepherd: every developer is the release owner of their own change."""

__version__ = "0.1.0"
