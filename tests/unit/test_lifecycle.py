from shepherd.domain.deploys import DeployState, advance
from shepherd.domain.deploys import DeployStatus as S


def st(status: S, percent: int | None = None, stage: str | None = None) -> DeployState:
    return DeployState(status, percent, stage)


def test_moves_forward_through_the_lifecycle() -> None:
    state = st(S.STARTED)
    state = advance(state, st(S.PROGRESSING, 10, "canary")) or state
    assert state == st(S.PROGRESSING, 10, "canary")
    state = advance(state, st(S.PROGRESSING, 50)) or state
    assert state == st(S.PROGRESSING, 50, "canary")
    state = advance(state, st(S.SUCCEEDED)) or state
    assert state == st(S.SUCCEEDED, 100, None)  # a finished rollout has no stage


def test_late_and_duplicate_events_change_nothing() -> None:
    assert advance(st(S.SUCCEEDED, 100), st(S.PROGRESSING, 50)) is None
    assert advance(st(S.SUCCEEDED, 100), st(S.STARTED)) is None
    assert advance(st(S.PROGRESSING, 50), st(S.PROGRESSING, 50)) is None
    assert advance(st(S.PROGRESSING, 50), st(S.PROGRESSING, 10)) is None
    assert advance(st(S.STARTED), st(S.STARTED)) is None


def test_success_before_start_is_kept() -> None:
    assert advance(st(S.STARTED), st(S.SUCCEEDED)) == st(S.SUCCEEDED, 100)


def test_first_terminal_state_stands_but_rollback_follows_either() -> None:
    assert advance(st(S.FAILED), st(S.SUCCEEDED)) is None
    assert advance(st(S.SUCCEEDED, 100), st(S.FAILED)) is None
    assert advance(st(S.FAILED), st(S.ROLLED_BACK)) == st(S.ROLLED_BACK)
    assert advance(st(S.SUCCEEDED, 100), st(S.ROLLED_BACK)) == st(S.ROLLED_BACK)
    assert advance(st(S.ROLLED_BACK), st(S.FAILED)) is None


def test_stage_change_without_percent_moves_progress() -> None:
    assert advance(st(S.PROGRESSING, 10, "canary"), st(S.PROGRESSING, None, "full")) == st(
        S.PROGRESSING, 10, "full"
    )
