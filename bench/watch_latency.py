"""A watch look against a metrics backend that takes time to answer: queries together vs in turn.

The watch-scale benchmark's fake answers at once, which measures Shepherd's own cost. A real
Prometheus takes milliseconds a query and a look makes twelve, so what a worker thread sustains
is then set by waiting. This runs the same world (3 checks, 12 queries a look, SQLite, one worker
thread) with each query sleeping `LATENCY`, once with a look's queries sent together (as
production does) and once one after the other.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Section, millis
from bench.watch_scale import drain
from bench.watch_world import INTERVAL, build_world

WATCHES = 300
LATENCY = 0.010  # seconds a query: a nearby Prometheus on an easy query


def one_round(tmp: Path, *, together: bool) -> tuple[float, int]:
    """Wall seconds per watch tick over one round, and the ticks run."""
    world = build_world(f"sqlite:///{tmp}/w.db", tmp, WATCHES, latency=LATENCY, together=together)
    try:
        world.clock.advance(INTERVAL)
        measured = drain(world, None)
    finally:
        world.shepherd.close()
    return measured.wall / max(1, measured.ticks), measured.ticks


def run() -> Section:
    section = Section(
        f"Watch against a metrics backend answering in {LATENCY * 1000:.0f} ms: {WATCHES} watches, "
        f"3 checks (12 queries a look), SQLite, one worker thread"
    )
    rows = {}
    with tempfile.TemporaryDirectory(prefix="shepherd-bench-") as tmp:
        for together in (False, True):
            per_tick, ticks = one_round(
                Path(tmp) / ("together" if together else "in-turn"), together=together
            )
            rows[together] = per_tick
            name = "queries together (production)" if together else "queries one after the other"
            section.add(
                f"{name}: wall a tick",
                f"{millis(per_tick)} ({ticks} ticks): "
                f"~{INTERVAL / per_tick:,.0f} watches a thread at {INTERVAL} s",
            )
    section.add("speed-up from sending a look's queries together", f"{rows[False] / rows[True]:.1f}×")
    section.notes.append(
        "Each query of the fake sleeps (no CPU) and then answers as the watch-scale fake does; "
        "SHEPHERD_METRIC_QUERY_CONCURRENCY is the default 16, so a look's 12 queries go out in one "
        "wave. The floor without any waiting is the watch-scale benchmark's wall a tick."
    )
    return section
