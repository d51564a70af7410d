"""`shepherd judge`: the watch's judge on exported data, one check or a batch of scenarios."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from shepherd.adapters.inbound.github import PayloadError
from shepherd.adapters.inbound.scenarios import parse_csv, parse_scenario, spec_from, verdict_json
from shepherd.domain.watch import Outcome
from shepherd.domain.watch.judge import judge_check
from shepherd.entrypoints.cli_common import fail

EXIT = {Outcome.PASS: 0, Outcome.FAIL: 1, Outcome.INCONCLUSIVE: 2, Outcome.NODATA: 2}
BAD_INPUT = 3

FileOpt = Annotated[
    Path | None, typer.Option(dir_okay=False, help="CSV with header timestamp,value[,weight]")
]


def judge(
    baseline: FileOpt = None,
    candidate: FileOpt = None,
    kind: Annotated[str, typer.Option(help="ratio, latency, count or gauge")] = "gauge",
    direction: Annotated[
        str, typer.Option(help="increase_is_bad, decrease_is_bad or both")
    ] = "increase_is_bad",
    tolerance: Annotated[float | None, typer.Option(help="acceptable relative change (default 0.1)")] = None,
    name: Annotated[str, typer.Option(help="the check's name in the reason")] = "check",
    batch: Annotated[
        Path | None, typer.Option(dir_okay=False, help="scenarios.jsonl, one scenario per line ('-' = stdin)")
    ] = None,
) -> None:
    """Judge a candidate series against a baseline and print a JSON verdict.

    Exit 0 pass, 1 fail, 2 inconclusive or no data, 3 bad input. With --batch, one JSON verdict
    per line with the scenario's id (a bad line gets {"id", "error"}; exit 3 if any did).
    """
    if batch is not None:
        if baseline or candidate:
            fail("use either --batch or --baseline/--candidate, not both", BAD_INPUT)
        raise typer.Exit(_batch(batch))
    if baseline is None or candidate is None:
        fail("give --baseline BASE.csv and --candidate CAND.csv, or --batch scenarios.jsonl", BAD_INPUT)
    try:
        spec = spec_from(kind, direction, tolerance, where="options", name=name)
        old = parse_csv(_read(baseline), where=str(baseline))
        new = parse_csv(_read(candidate), where=str(candidate))
    except PayloadError as exc:
        fail(str(exc), BAD_INPUT)
    result = judge_check(spec, old, new)
    typer.echo(json.dumps(verdict_json(result), indent=2, ensure_ascii=False))
    raise typer.Exit(EXIT[result.outcome])


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}", BAD_INPUT)
    except UnicodeDecodeError:
        fail(f"{path}: not a text file", BAD_INPUT)


def _batch(path: Path) -> int:
    name = "stdin" if str(path) == "-" else str(path)
    try:
        lines = sys.stdin if str(path) == "-" else path.open()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}", BAD_INPUT)
    with lines:
        bad = _judge_lines(lines, name, sys.stdout)
    return BAD_INPUT if bad else 0


def _judge_lines(lines: TextIO, name: str, sink: TextIO) -> int:
    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            scenario = parse_scenario(line, where=f"{name}:{number}")
        except PayloadError as exc:
            bad += 1
            body: dict[str, Any] = {"id": _id_of(line), "line": number, "error": str(exc)}
        else:
            result = judge_check(scenario.spec, scenario.baseline, scenario.candidate)
            body = verdict_json(result, scenario_id=scenario.id)
        sink.write(json.dumps(body, ensure_ascii=False) + "\n")
    return bad


def _id_of(line: str) -> Any:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    return raw.get("id") if isinstance(raw, dict) else None


def register(app: typer.Typer) -> None:
    app.command("judge")(judge)
