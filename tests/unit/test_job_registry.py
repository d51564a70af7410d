"""The handler registry: every job kind has exactly one handler, registered by its capability."""

from __future__ import annotations

from pathlib import Path

import pytest

from shepherd.adapters.config_file import parse_config
from shepherd.bootstrap import bootstrap
from shepherd.domain.jobs import JobKind, JobOutcome
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.settings import Settings


def _noop(ctx: JobContext, deps: object) -> None:
    pass


def test_a_kind_registered_twice_is_refused() -> None:
    registry = HandlerRegistry()
    registry.register(JobKind.WATCH, _noop, None)
    with pytest.raises(ValueError, match="watch"):
        registry.register(JobKind.WATCH, _noop, None)


def test_missing_lists_the_kinds_nobody_registered() -> None:
    registry = HandlerRegistry()
    registry.register(JobKind.WATCH, _noop, None)
    assert JobKind.WATCH not in registry.missing()
    assert JobKind.ATTRIBUTE in registry.missing()


def test_bootstrap_registers_a_handler_for_every_job_kind(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    config = parse_config(
        f"""
services:
  - name: checkout
    repository: {repo}
    slack_channel: "#checkout"
"""
    )
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/s.db",
            "data_dir": tmp_path / "data",
            "config": tmp_path / "x",
        }
    )
    shepherd = bootstrap(settings, config=config)
    try:
        assert shepherd.handlers.missing() == []
        assert shepherd.runner.handlers is shepherd.handlers
    finally:
        shepherd.close()


def test_outcomes_read_as_their_old_words() -> None:
    # Logs, benchmarks and the jobs table's history speak these words.
    assert [o.value for o in JobOutcome] == [
        "done",
        "rescheduled",
        "retry",
        "wait",
        "dead",
        "parked",
        "lease_lost",
    ]
