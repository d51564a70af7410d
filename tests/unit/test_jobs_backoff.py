import random

from shepherd.domain.jobs import backoff_seconds


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_seconds(n, rng=rng) for n in range(1, 12)]
    for attempt, delay in enumerate(delays, start=1):
        step = min(600.0, 2.0 * 2 ** (attempt - 1))
        assert 0.5 * step <= delay < 1.5 * step
    assert max(delays) < 900


def test_jitter_spreads_retries() -> None:
    rng = random.Random(1)
    assert len({round(backoff_seconds(3, rng=rng), 6) for _ in range(20)}) > 15
