"""Reads for pages and read APIs: plain view models, no writes.

Each query reads in one unit of work and hands back values (frozen dataclasses, or the JSON
dicts the API returns), so the API and the pages show the same data without calling each other.
"""
