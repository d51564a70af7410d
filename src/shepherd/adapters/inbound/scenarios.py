"""Exported metric data for `shepherd judge`: CSV series and JSONL scenarios. Pure parsers.

CSV: a header `timestamp,value[,weight]`, then one point per line; timestamps are ISO-8601 or
epoch seconds. JSONL: one scenario per line, `{"id", "kind", "direction", "tolerance"?,
"baseline": [[t, v, w?], …], "candidate": [[t, v, w?], …]}`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shepherd.adapters.inbound.github import PayloadError
from shepherd.domain.watch import CheckKind, CheckResult, CheckSpec, Direction, Point

HEADER = ("timestamp", "value", "weight")


@dataclass(frozen=True)
class Scenario:
    id: Any
    spec: CheckSpec
    baseline: list[Point]
    candidate: list[Point]


def parse_csv(text: str, *, where: str) -> list[Point]:
    """Points from CSV text; `where` (a file name) starts every error message."""
    rows = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(rows, [])]
    if header not in (list(HEADER[:2]), list(HEADER)):
        raise PayloadError(f"{where}:1: the header must be 'timestamp,value' or 'timestamp,value,weight'")
    points = []
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise PayloadError(f"{where}:{line}: expected {len(header)} columns, got {len(row)}")
        points.append(_point(row, f"{where}:{line}"))
    return sorted(points, key=lambda p: p.t)


def _point(cells: list[Any], where: str) -> Point:
    t = timestamp(cells[0], where=where)
    v = _number(cells[1], f"{where}: value")
    w = _number(cells[2], f"{where}: weight") if len(cells) > 2 and cells[2] not in ("", None) else None
    if w is not None and w < 0:
        raise PayloadError(f"{where}: weight {w:g} is negative")
    return Point(t, v, w)


def timestamp(raw: Any, *, where: str) -> float:
    """Epoch seconds from a number or an ISO-8601 string (naive times are UTC)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _finite(float(raw), f"{where}: timestamp")
    text = str(raw).strip()
    try:
        return _finite(float(text), f"{where}: timestamp")
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{where}: timestamp {text!r} is neither ISO-8601 nor epoch seconds") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool):
        raise PayloadError(f"{where} {raw!r} is not a number")
    try:
        return _finite(float(raw), where)
    except (TypeError, ValueError):
        raise PayloadError(f"{where} {raw!r} is not a number") from None


def _finite(x: float, where: str) -> float:
    if not math.isfinite(x):
        raise PayloadError(f"{where} must be a finite number")
    return x


def spec_from(
    kind: str, direction: str, tolerance: float | None, *, where: str, name: str = "check"
) -> CheckSpec:
    try:
        check_kind = CheckKind(kind)
    except ValueError:
        raise PayloadError(f"{where}: kind {kind!r} is not one of {', '.join(CheckKind)}") from None
    try:
        check_direction = Direction(direction)
    except ValueError:
        raise PayloadError(f"{where}: direction {direction!r} is not one of {', '.join(Direction)}") from None
    if tolerance is not None and not 0 <= tolerance <= 100:
        raise PayloadError(f"{where}: tolerance {tolerance!r} must be between 0 and 100")
    return CheckSpec(name, check_kind, check_direction, 0.1 if tolerance is None else tolerance)


def parse_scenario(line: str, *, where: str) -> Scenario:
    """One JSONL line; errors name the line and the field."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise PayloadError(f"{where}: a scenario must be a JSON object")
    missing = [k for k in ("id", "kind", "direction", "baseline", "candidate") if k not in raw]
    if missing:
        raise PayloadError(f"{where}: missing {', '.join(missing)}", details={"id": raw.get("id")})
    tolerance = raw.get("tolerance")
    if tolerance is not None:
        tolerance = _number(tolerance, f"{where}: tolerance")
    spec = spec_from(str(raw["kind"]), str(raw["direction"]), tolerance, where=where, name=str(raw["id"]))
    return Scenario(
        raw["id"],
        spec,
        _side(raw["baseline"], f"{where}: baseline"),
        _side(raw["candidate"], f"{where}: candidate"),
    )


def _side(raw: Any, where: str) -> list[Point]:
    if not isinstance(raw, list):
        raise PayloadError(f"{where} must be a list of [t, v] or [t, v, w]")
    points = []
    for i, item in enumerate(raw):
        if not isinstance(item, list) or len(item) not in (2, 3):
            raise PayloadError(f"{where}[{i}] must be [t, v] or [t, v, w]")
        points.append(_point(item, f"{where}[{i}]"))
    return sorted(points, key=lambda p: p.t)


def verdict_json(result: CheckResult, *, scenario_id: Any = None) -> dict[str, Any]:
    """A check result as `shepherd judge` prints it."""
    body: dict[str, Any] = {} if scenario_id is None else {"id": scenario_id}
    body.update(
        verdict=result.outcome.value,
        reason=result.reason,
        baseline=result.baseline,
        candidate=result.candidate,
        ratio=result.ratio,
        p_value=result.p_value,
        test=result.test,
        details=dict(result.details),
    )
    return body
