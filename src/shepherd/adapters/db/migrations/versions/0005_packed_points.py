"""check points packed as doubles

Every look of every watch rewrites its checks' points; as JSON, printing those floats was
the largest part of storing a look. Packed little-endian doubles round-trip exactly (the
format: adapters/db/points.py). Existing rows are converted both ways.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:30:00.000000
"""

from __future__ import annotations

import json
import struct
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SIDES = ("baseline", "candidate")
_CHECKS = sa.table(
    "check_results",
    sa.column("id", sa.Integer()),
    *(sa.column(f"{side}_points", sa.JSON()) for side in _SIDES),
    *(sa.column(f"{side}_packed", sa.LargeBinary()) for side in _SIDES),
)


def upgrade() -> None:
    _add(sa.Column(f"{side}_packed", sa.LargeBinary(), nullable=True) for side in _SIDES)
    _convert("points", "packed", lambda raw: _pack(json.loads(raw) if isinstance(raw, str) else raw))
    _drop_and_require(drop="points", keep="packed", kind=sa.LargeBinary())


def downgrade() -> None:
    _add(sa.Column(f"{side}_points", sa.JSON(), nullable=True) for side in _SIDES)
    _convert("packed", "points", _unpack)
    _drop_and_require(drop="packed", keep="points", kind=sa.JSON())


def _add(columns: Any) -> None:
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        for column in columns:
            batch_op.add_column(column)


def _convert(source: str, target: str, convert: Any) -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(_CHECKS)).mappings().all():
        values = {f"{side}_{target}": convert(row[f"{side}_{source}"]) for side in _SIDES}
        connection.execute(sa.update(_CHECKS).where(_CHECKS.c.id == row["id"]).values(values))


def _drop_and_require(*, drop: str, keep: str, kind: Any) -> None:
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        for side in _SIDES:
            batch_op.drop_column(f"{side}_{drop}")
            batch_op.alter_column(f"{side}_{keep}", existing_type=kind, nullable=False)


# The format, copied here rather than imported: a migration must not change when the adapter does.
def _pack(points: list[list[float]] | None) -> bytes:
    points = points or []
    weighted = sum(len(p) > 2 and p[2] is not None for p in points)
    if not weighted:
        width, numbers = 2, [x for p in points for x in p[:2]]
    elif weighted == len(points):
        width, numbers = 3, [x for p in points for x in p[:3]]
    else:
        width = 4
        numbers = [x for p in points for x in _with_flag(p)]
    return bytes((width,)) + struct.pack(f"<{len(numbers)}d", *numbers)


def _with_flag(point: list[float]) -> list[float]:
    has = len(point) > 2 and point[2] is not None
    return [point[0], point[1], point[2] if has else 0.0, 1.0 if has else 0.0]


def _unpack(blob: bytes) -> list[list[float]]:
    width = blob[0]
    numbers = struct.unpack(f"<{(len(blob) - 1) // 8}d", blob[1:])
    rows = [list(numbers[i : i + width]) for i in range(0, len(numbers), width)]
    if width == 4:
        return [row[:3] if row[3] else row[:2] for row in rows]
    return rows
