"""The `shepherd judge` examples in docs/watch.md give the verdicts the page says they give."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from shepherd.entrypoints.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "watch.md"


def block_after(text: str, label: str) -> str:
    """The fenced block that follows the line `label`."""
    found = re.search(re.escape(label) + r"\s*\n\s*```\w*\n(.*?)\n```", text, re.S)
    assert found, f"no code block after {label!r} in {DOC.name}"
    return found.group(1)


def test_the_one_comparison_example_fails_as_documented(tmp_path: Path) -> None:
    text = DOC.read_text()
    (tmp_path / "before.csv").write_text(block_after(text, "`before.csv`:") + "\n")
    (tmp_path / "after.csv").write_text(block_after(text, "`after.csv`:") + "\n")
    command = re.search(r"```sh\n(shepherd judge --baseline[^\n]*)\n```", text)
    assert command
    args = command.group(1).split()[1:]
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # 1: fail
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "fail"
    assert verdict["reason"] in text  # the page quotes the reason as printed


def test_the_batch_example_fails_both_as_documented(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios.jsonl"
    scenarios.write_text(block_after(DOC.read_text(), "`scenarios.jsonl`:") + "\n")
    result = CliRunner().invoke(app, ["judge", "--batch", str(scenarios)])
    assert result.exit_code == 0, result.output
    verdicts = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [(v["id"], v["verdict"]) for v in verdicts] == [
        ("sparse-errors", "fail"),
        ("latency-step", "fail"),
    ]
