"""The deploy lifecycle: started → progressing(percent, stage) → succeeded | failed | rolled_back.

Events arrive late, twice and out of order. The deploy keeps the furthest state it has
reached; every event is kept in its history whether or not it moved the state.
"""

from __future__ import annotations

from dataclasses import dataclass

from shepherd.domain.deploys.model import DeployStatus

_RANK = {
    DeployStatus.STARTED: 0,
    DeployStatus.PROGRESSING: 1,
    DeployStatus.SUCCEEDED: 2,
    DeployStatus.FAILED: 2,
    # A rollback can follow success or failure: it is the end of the line.
    DeployStatus.ROLLED_BACK: 3,
}


@dataclass(frozen=True)
class DeployState:
    status: DeployStatus
    percent: int | None = None
    stage: str | None = None


def advance(current: DeployState, event: DeployState) -> DeployState | None:
    """The state after `event`, or None when the event only goes into history."""
    now, new = _RANK[current.status], _RANK[event.status]
    if new > now:
        percent = event.percent
        if event.status is DeployStatus.SUCCEEDED and percent is None:
            percent = 100
        # A finished rollout has no stage left; a moving one keeps its last known stage.
        stage = event.stage if event.status.is_terminal else (event.stage or current.stage)
        return DeployState(event.status, percent, stage)
    if new < now or current.status is not event.status:
        # Late, or a second conflicting terminal state: the first one reached stands.
        return None
    if event.status is DeployStatus.PROGRESSING:
        return _progress(current, event)
    return None


def _progress(current: DeployState, event: DeployState) -> DeployState | None:
    if event.percent is not None and (current.percent is None or event.percent > current.percent):
        return DeployState(DeployStatus.PROGRESSING, event.percent, event.stage or current.stage)
    if event.percent is None and event.stage and event.stage != current.stage:
        return DeployState(DeployStatus.PROGRESSING, current.percent, event.stage)
    return None
