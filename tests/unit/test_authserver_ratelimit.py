"""The token buckets behind the per-user rate limit and the server's log-once-a-while (pure: the time is passed in)."""

from __future__ import annotations

import pytest

from desktop.authserver.listener import QuietLog
from desktop.authserver.ratelimit import TokenBuckets, retry_after_header


def test_a_burst_then_the_rate() -> None:
    buckets = TokenBuckets(rate=2.0, burst=3)
    assert [buckets.take("ada", 10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("ada", 10.0) == pytest.approx(0.5)  # one token every half second
    assert buckets.take("ada", 10.25) == pytest.approx(0.25)  # a refused request spends nothing
    assert buckets.take("ada", 10.5) == 0.0
    assert buckets.take("ada", 10.5) == pytest.approx(0.5)
    assert [buckets.take("ada", 100.0) for _ in range(4)][-1] > 0  # refills up to the burst, not beyond


def test_keys_are_independent() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1)
    assert buckets.take("ada", 0.0) == 0.0
    assert buckets.take("ada", 0.0) > 0
    assert buckets.take("grace", 0.0) == 0.0


def test_a_clock_going_back_adds_nothing_and_blocks_nothing_forever() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1)
    assert buckets.take("ada", 50.0) == 0.0
    assert buckets.take("ada", 40.0) == pytest.approx(1.0)
    assert buckets.take("ada", 51.0) == 0.0


def test_the_oldest_keys_are_dropped_past_max_keys() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, max_keys=2)
    for key in ("a", "b", "c"):
        buckets.take(key, 0.0)
    assert len(buckets) == 2
    assert buckets.take("a", 0.0) == 0.0  # forgotten, so full again: errs towards letting a user through
    assert buckets.take("c", 0.0) > 0


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (float("inf"), 1), (1.0, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBuckets(rate, burst)


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_is_whole_seconds_rounded_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header


def test_quiet_log_shows_one_message_a_minute_per_kind_and_counts_the_rest() -> None:
    quiet = QuietLog(interval=60.0)
    assert quiet.allow("accept", 0.0) == 0
    assert [quiet.allow("accept", t) for t in (0.1, 1.0, 30.0)] == [None, None, None]
    assert quiet.allow("headers", 30.0) == 0  # another kind is not held back
    assert quiet.allow("accept", 60.0) == 3  # shown again, with how many were left out
    assert quiet.allow("accept", 61.0) is None
