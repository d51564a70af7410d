"""`shepherd judge`: CSV and JSONL in, JSON verdicts out, exit codes, located errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from shepherd.entrypoints.cli import app

runner = CliRunner()


def write_csv(path: Path, values: list[float], *, start: float = 1_795_000_000, iso: bool = False) -> Path:
    lines = ["timestamp,value"]
    for i, v in enumerate(values):
        t = start + 30 * i
        stamp = np.datetime_as_string(np.datetime64(int(t), "s")) + "Z" if iso else f"{t:.0f}"
        lines.append(f"{stamp},{v}")
    path.write_text("\n".join(lines) + "\n")
    return path


def series(seed: int, level: float, n: int = 40) -> list[float]:
    return [round(float(x), 5) for x in level * np.exp(np.random.default_rng(seed).normal(0, 0.08, n))]


def test_single_check_fail_prints_json_and_exits_1(tmp_path: Path) -> None:
    base = write_csv(tmp_path / "base.csv", series(1, 0.2), iso=True)
    cand = write_csv(tmp_path / "cand.csv", series(2, 0.5))
    result = runner.invoke(
        app,
        ["judge", "--baseline", str(base), "--candidate", str(cand), "--kind", "latency", "--name", "p95"],
    )
    assert result.exit_code == 1, result.output
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "fail"
    assert verdict["reason"].startswith("p95 median 2")
    assert 2.2 < verdict["ratio"] < 2.8


def test_single_check_pass_exits_0_and_tolerance_is_used(tmp_path: Path) -> None:
    base = write_csv(tmp_path / "base.csv", series(1, 0.2))
    cand = write_csv(tmp_path / "cand.csv", series(2, 0.26))
    args = ["judge", "--baseline", str(base), "--candidate", str(cand), "--kind", "latency"]
    assert runner.invoke(app, args).exit_code == 1
    relaxed = runner.invoke(app, [*args, "--tolerance", "0.6"])
    assert relaxed.exit_code == 0, relaxed.output
    assert json.loads(relaxed.stdout)["verdict"] == "pass"


def test_weights_are_read(tmp_path: Path) -> None:
    base, cand = tmp_path / "b.csv", tmp_path / "c.csv"
    base.write_text("timestamp,value,weight\n" + "".join(f"{i * 30},0.01,1000\n" for i in range(20)))
    cand.write_text("timestamp,value,weight\n" + "".join(f"{i * 30},0.05,1000\n" for i in range(20)))
    result = runner.invoke(
        app, ["judge", "--baseline", str(base), "--candidate", str(cand), "--kind", "ratio"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["details"]["n_new"] == 20


def test_bad_input_names_file_and_line_and_exits_3(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", series(1, 0.2))
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n1795000000,0.2\n1795000030,fast\n")
    result = runner.invoke(app, ["judge", "--baseline", str(good), "--candidate", str(bad)])
    assert result.exit_code == 3
    assert "bad.csv:3: value 'fast' is not a number" in result.stderr
    header = tmp_path / "header.csv"
    header.write_text("time,val\n1,2\n")
    result = runner.invoke(app, ["judge", "--baseline", str(header), "--candidate", str(good)])
    assert result.exit_code == 3 and "header.csv:1: the header must be" in result.stderr
    result = runner.invoke(app, ["judge", "--baseline", str(good), "--candidate", str(good), "--kind", "p99"])
    assert result.exit_code == 3 and "kind 'p99' is not one of" in result.stderr
    assert "Traceback" not in result.output


def test_batch_answers_every_line_with_its_id(tmp_path: Path) -> None:
    lines = []
    for i in range(300):
        level = 0.5 if i % 3 == 0 else 0.2
        lines.append(
            json.dumps(
                {
                    "id": f"s{i}",
                    "kind": "latency",
                    "direction": "increase_is_bad",
                    "baseline": [[30 * k, v] for k, v in enumerate(series(i, 0.2))],
                    "candidate": [[30 * k, v] for k, v in enumerate(series(10_000 + i, level))],
                }
            )
        )
    lines.insert(5, '{"id": "broken", "kind": "latency"}')
    lines.insert(7, "not json")
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["judge", "--batch", str(path)])
    assert result.exit_code == 3
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 302
    verdicts = {o["id"]: o["verdict"] for o in out if "verdict" in o}
    assert len(verdicts) == 300
    assert all(verdicts[f"s{i}"] == "fail" for i in range(0, 300, 3))
    clean = [verdicts[f"s{i}"] for i in range(300) if i % 3]
    assert "fail" not in clean and clean.count("pass") >= 195  # "inconclusive" is allowed, a page is not
    errors = [o for o in out if "error" in o]
    assert errors[0]["id"] == "broken" and "missing direction, baseline, candidate" in errors[0]["error"]
    assert errors[1] == {"id": None, "line": 8, "error": errors[1]["error"]}
    assert f"{path}:8: not JSON" in errors[1]["error"]
