"""FeedStats: last hour, today (local midnight in an injected zone), per minute, and bounded memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from desktop.feed.events import FeedEvent, format_utc
from desktop.feed.stats import KEEP_MINUTES, Counts, FeedStats, event_time, parse_utc

TZ = timezone(timedelta(hours=2), "UTC+2")
# 2026-11-21 15:30:20 in UTC+2 (13:30:20 UTC)
NOW = datetime(2026, 11, 21, 15, 30, 20, tzinfo=TZ).timestamp()


def ev(kind: str, at: float | None, received: float | None = None) -> FeedEvent:
    received = received if received is not None else (at if at is not None else NOW)
    return FeedEvent(event="user-loggedIn", channel="c", type=kind, user_id="u", at=format_utc(at) if at else None,
                     received_at=format_utc(received), data={})


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_counts_last_hour_and_today() -> None:
    stats = FeedStats(Clock(), tz=TZ)
    stats.add([
        ev("signup", NOW - 10),  # this minute
        ev("signup", NOW - 50 * 60),  # within the hour
        ev("login", NOW - 30 * 60),
        ev("login", NOW - 59 * 60 - 20),  # 14:31:00, the oldest minute of the hour
        ev("login", NOW - 2 * 3600),  # today, not the last hour
        ev("signup", NOW - 15.5 * 3600),  # 00:00:20 today
        ev("signup", NOW - 15.6 * 3600),  # 23:54 yesterday: neither
        ev("unrecognised", NOW - 5),  # never counted
    ])
    assert stats.counts() == Counts(signups_hour=2, logins_hour=2, signups_today=3, logins_today=3)
    assert stats.counts(NOW + 3600) == Counts(0, 0, 3, 3)


def test_today_restarts_at_local_midnight() -> None:
    stats = FeedStats(Clock(), tz=TZ)
    stats.add([ev("login", NOW - 60)])
    midnight = datetime(2026, 11, 22, 0, 0, tzinfo=TZ).timestamp()
    assert stats.counts(midnight - 1).logins_today == 1
    assert stats.counts(midnight).logins_today == 0


def test_time_falls_back_to_received_at_and_never_runs_ahead_of_it() -> None:
    no_time = ev("login", None, received=NOW - 90)
    ahead = ev("login", NOW + 600, received=NOW - 30)  # the producer's clock runs 10 min fast
    assert event_time(no_time) == parse_utc(no_time.received_at)
    assert event_time(ahead) == parse_utc(ahead.received_at)
    stats = FeedStats(Clock(), tz=TZ)
    stats.add([no_time, ahead])
    assert stats.counts().logins_hour == 2


def test_per_minute_buckets_oldest_first() -> None:
    stats = FeedStats(Clock(), tz=TZ)
    stats.add([ev("signup", NOW - 5), ev("login", NOW - 5), ev("login", NOW - 5), ev("login", NOW - 61),
               ev("signup", NOW - 3 * 3600)])
    buckets = stats.per_minute(NOW, minutes=60)
    assert len(buckets) == 60
    assert buckets[-1].minute_start == datetime(2026, 11, 21, 15, 30, tzinfo=TZ)
    assert buckets[0].minute_start == datetime(2026, 11, 21, 14, 31, tzinfo=TZ)
    assert (buckets[-1].signups, buckets[-1].logins) == (1, 2)
    assert (buckets[-2].signups, buckets[-2].logins) == (0, 1)
    assert sum(b.signups + b.logins for b in buckets) == 4
    _minute, signups, logins, failures = buckets[-1]  # a plain tuple too
    assert (signups, logins, failures) == (1, 2, 0)


def test_memory_is_bounded_over_days() -> None:
    clock = Clock(NOW - 3 * 86_400)
    stats = FeedStats(clock, tz=TZ)
    while clock.now < NOW:
        stats.add([ev("login", clock.now), ev("signup", clock.now)])
        clock.now += 60
    assert len(stats) <= KEEP_MINUTES
    assert len(stats._days) <= 2
    assert stats.counts(clock.now - 60).logins_hour == 60  # one per minute, the last added a minute ago


def test_garbage_timestamps_do_not_raise() -> None:
    weird = FeedEvent(event="x", channel="c", type="login", at="not a time", received_at="also not", data=None)
    stats = FeedStats(Clock(), tz=TZ)
    stats.add([weird])
    assert parse_utc("2026-11-21T13:30:20Z") == datetime(2026, 11, 21, 13, 30, 20, tzinfo=UTC).timestamp()
    assert parse_utc("2026-11-21T13:30:20") == parse_utc("2026-11-21T13:30:20Z")  # naive means UTC
    assert stats.counts().logins_hour == 0


def test_local_time_zone_by_default() -> None:
    stats = FeedStats(Clock())
    stats.add([ev("signup", NOW - 1)])
    assert stats.counts() == Counts(1, 0, 1, 0)
    assert stats.per_minute(NOW, minutes=1)[0].minute_start.tzinfo is not None


def test_failures_are_counted_and_successful_v2_logins_are_logins() -> None:
    from dataclasses import replace

    stats = FeedStats(Clock(), tz=TZ)
    failed = replace(ev("login", NOW - 5), type="login_failed", outcome="failure", log_id="a")
    blocked = replace(ev("login", NOW - 5), type="blocked", outcome="failure", log_id="b")
    v2_login = replace(ev("login", NOW - 5), outcome="success", log_id="c")
    mfa_ok = replace(ev("login", NOW - 5), type="mfa", outcome="success", log_id="d")
    stats.add([failed, blocked, v2_login, mfa_ok])
    counts = stats.counts(NOW)
    assert (counts.logins_hour, counts.failures_hour, counts.failures_today) == (1, 2, 2)
    assert stats.per_minute(NOW, minutes=1)[-1].failures == 2
