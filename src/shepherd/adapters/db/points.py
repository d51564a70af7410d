"""Check points packed as little-endian doubles: what `check_results` stores for charts.

Every look of every watch rewrites its checks' points (up to 120 a series, three numbers a
point); as JSON, printing those floats cost more than all the look's SQL. Packed, they
round-trip exactly and take a fraction of the time. The first byte says how many numbers
each point takes: 2 (time, value), 3 (with its weight) or 4 (weight, then 1.0 if it has one:
some points of a weighted series may lack their weight).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

from shepherd.domain.watch import Point

_SWAP = sys.byteorder == "big"  # the stored order is little-endian, whatever the machine


def pack(points: Sequence[Point]) -> bytes:
    weighted = sum(p.w is not None for p in points)
    numbers: list[float]
    if not weighted:
        width, numbers = 2, [x for p in points for x in (p.t, p.v)]
    elif weighted == len(points):
        width, numbers = 3, [x for p in points for x in (p.t, p.v, p.w or 0.0)]
    else:
        width = 4
        numbers = [x for p in points for x in (p.t, p.v, p.w or 0.0, 0.0 if p.w is None else 1.0)]
    data = array("d", numbers)
    if _SWAP:
        data.byteswap()
    return bytes((width,)) + data.tobytes()


def unpack(blob: bytes) -> tuple[Point, ...]:
    width, data = blob[0], array("d")
    data.frombytes(blob[1:])
    if _SWAP:
        data.byteswap()
    times, values = data[0::width], data[1::width]
    if width == 2:
        return tuple(map(Point, times, values))
    weights: Sequence[float | None] = data[2::width]
    if width == 4:
        weights = [w if has else None for w, has in zip(weights, data[3::width], strict=True)]
    return tuple(map(Point, times, values, weights))
