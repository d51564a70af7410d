"""Showing results: a rich table on the terminal, and bench/RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import Section

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
# Sections of earlier runs, so `python -m bench api` alone keeps the others in RESULTS.md; committed
# beside it (not under .work/, which a fresh checkout lacks) so the two never disagree.
LAST_RUN = RESULTS_MD.with_name("results.json")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> list[tuple[str, str]]:
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return [
        ("nproc × cpu", f"{os.cpu_count()} × {_cpu_model()} ({platform.machine()})"),
        ("os", platform.platform(terse=True)),
        ("python", platform.python_version()),
        ("git", git.removeprefix("git version ")),
        ("sqlite", sqlite3.sqlite_version),
    ]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def print_section(console: Console, section: Section) -> None:
    table = Table(title=section.title, title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for what, value in section.rows:
        table.add_row(what, value)
    console.print(table)
    for note in section.notes:
        console.print(f"  [dim]{note}[/]")
    if section.cpu_reference:
        console.print(f"  [dim]Machine speed then{_speed(section).removeprefix('; machine speed then')}.[/]")


def merge_with_last(sections: dict[str, Section]) -> dict[str, Section]:
    """This run's sections, plus earlier runs' sections for benchmarks not run now."""
    merged: dict[str, Section] = {}
    if LAST_RUN.exists():
        for name, raw in json.loads(LAST_RUN.read_text()).items():
            rows = [(str(a), str(b)) for a, b in raw.pop("rows")]
            merged[name] = Section(rows=rows, **raw)
    merged.update(sections)
    LAST_RUN.parent.mkdir(parents=True, exist_ok=True)
    LAST_RUN.write_text(json.dumps({name: asdict(s) for name, s in merged.items()}, indent=1))
    return merged


def write_markdown(sections: dict[str, Section], order: list[str]) -> Path:
    lines = ["# Benchmark results", "", f"Written by `python -m bench` on {now()}.", ""]
    lines += ["| machine | |", "|---|---|", *[f"| {k} | {v} |" for k, v in machine()], ""]
    for name in order:
        if name in sections:
            lines += _markdown_section(sections[name])
    lines += [
        "Reproduce: `make bench`, or one benchmark with `.venv/bin/python -m bench NAME` (attribution, api,",
        "notify, judge, watch, storm; the others' last figures are kept from `bench/results.json`). The",
        "generated repository is cached in `bench/.work/` (delete it to regenerate). Timings are wall",
        "time on a shared machine: compare ratios, not absolute figures, across machines.",
        "",
    ]
    RESULTS_MD.write_text("\n".join(lines))
    return RESULTS_MD


def _markdown_section(section: Section) -> list[str]:
    lines = [f"## {section.title}", "", f"Measured {section.measured_at}{_speed(section)}.", ""]
    lines += ["| | |", "|---|---:|"]
    lines += [f"| {_indent(what)} | {value.replace('|', '/')} |" for what, value in section.rows]
    lines += ["", *[f"- {note}" for note in section.notes], ""]
    return lines


def _speed(section: Section) -> str:
    if not section.cpu_reference:
        return ""
    loop = f"{section.cpu_reference:.2f} s for a 10-million-step Python loop"
    return f"; machine speed then: {loop} (lower is faster)"


def _indent(what: str) -> str:
    """Leading spaces (sub-rows on the terminal) as non-breaking spaces in markdown."""
    stripped = what.lstrip(" ")
    return "&nbsp;" * (len(what) - len(stripped)) + stripped
