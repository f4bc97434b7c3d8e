"""Counters for the feed: signups, logins and failures in the last hour, today, and per minute. Pure: no Qt, no IO.

A failure is any event the tenant log marks ``outcome: failure`` (failed logins and signups, blocks, MFA and
password failures ...); a successful v2 login or signup counts as a login or signup, like a v1 one.

Memory is bounded whatever the rate: one bucket per minute for the last 24 hours (at most 1,441) and
one total per local day for today and yesterday. An event counts at its own time (``at``), or at
``received_at`` when it has none; an ``at`` later than ``received_at`` (the producer's clock runs ahead
of ours) is counted at ``received_at``, so no event ever lands in a minute that has not started yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple

from desktop.feed.events import FeedEvent

MINUTE = 60
KEEP_MINUTES = 24 * 60 + 1
"""Minute buckets kept: a full day, plus the minute in progress."""


class Counts(NamedTuple):
    signups_hour: int
    logins_hour: int
    signups_today: int
    logins_today: int
    failures_hour: int = 0
    failures_today: int = 0


class MinuteCount(NamedTuple):
    minute_start: datetime  # aware, in the stats' time zone
    signups: int
    logins: int
    failures: int = 0


def _slot(ev: FeedEvent) -> int | None:
    """0 signups, 1 logins, 2 failures; None for what is not counted."""
    if ev.outcome == "failure":
        return 2
    kind = ev.type
    if kind == "signup":
        return 0
    if kind == "login":
        return 1
    return None


@lru_cache(maxsize=16_384)
def parse_utc(text: str) -> float | None:
    """Epoch seconds of an ISO-8601 timestamp (``...Z`` or with an offset; naive means UTC), else None."""
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def event_time(ev: FeedEvent) -> float:
    """When the event happened, as epoch seconds: ``at`` unless missing, unreadable or after ``received_at``."""
    received = parse_utc(ev.received_at)
    at = parse_utc(ev.at) if ev.at else None
    if received is None:
        return at if at is not None else 0.0
    if at is None or at > received:
        return received
    return at


class FeedStats:
    """Counts signups and logins. ``clock`` gives epoch seconds; ``tz`` defines "today" (None: local time)."""

    def __init__(self, clock: Callable[[], float] = time.time, tz: tzinfo | None = None) -> None:
        self._clock = clock
        self._tz = tz
        self._minutes: dict[int, list[int]] = {}  # minute number (epoch // 60) -> [signups, logins, failures]
        self._days: dict[date, list[int]] = {}  # local date -> [signups, logins, failures]
        self._day_cache: tuple[float, float, date] | None = None  # [start, end) of the last day looked up
        self._pruned_at = -1

    # -- input ------------------------------------------------------------------------------------------
    def add(self, events: Iterable[FeedEvent]) -> None:
        """Count ``events`` (any order); unrecognised events and other successes are not counted."""
        now = self._clock()
        oldest_minute = int(now // MINUTE) - KEEP_MINUTES + 1
        minutes, days = self._minutes, self._days
        for ev in events:
            slot = _slot(ev)
            if slot is None:
                continue
            when = event_time(ev)
            minute = int(when // MINUTE)
            if minute >= oldest_minute:
                bucket = minutes.get(minute)
                if bucket is None:
                    bucket = minutes[minute] = [0, 0, 0]
                bucket[slot] += 1
            day = self._day_of(when)
            totals = days.get(day)
            if totals is None:
                totals = days[day] = [0, 0, 0]
            totals[slot] += 1
        self._prune(now)

    def clear(self) -> None:
        self._minutes.clear()
        self._days.clear()

    # -- output -----------------------------------------------------------------------------------------
    def counts(self, now: float | None = None) -> Counts:
        """Last hour = the current minute and the 59 before it; today = since local midnight."""
        now = self._clock() if now is None else now
        current = int(now // MINUTE)
        signups = logins = failures = 0
        for minute in range(current - 59, current + 1):
            bucket = self._minutes.get(minute)
            if bucket is not None:
                signups += bucket[0]
                logins += bucket[1]
                failures += bucket[2]
        today = self._days.get(self._day_of(now), (0, 0, 0))
        return Counts(signups, logins, today[0], today[1], failures, today[2])

    def per_minute(self, now: float | None = None, minutes: int = 60) -> list[MinuteCount]:
        """``minutes`` buckets, oldest first, the last one being the minute in progress."""
        now = self._clock() if now is None else now
        current = int(now // MINUTE)
        tz = self._zone(now)
        result = []
        for minute in range(current - minutes + 1, current + 1):
            bucket = self._minutes.get(minute, (0, 0, 0))
            start = datetime.fromtimestamp(minute * MINUTE, tz)
            result.append(MinuteCount(start, bucket[0], bucket[1], bucket[2]))
        return result

    def __len__(self) -> int:
        """Minute buckets held (for tests of the memory bound)."""
        return len(self._minutes)

    # -- helpers ----------------------------------------------------------------------------------------
    def _zone(self, when: float) -> tzinfo:
        if self._tz is not None:
            return self._tz
        local = datetime.fromtimestamp(when).astimezone().tzinfo
        return local if local is not None else UTC

    def _day_of(self, when: float) -> date:
        cached = self._day_cache
        if cached is not None and cached[0] <= when < cached[1]:
            return cached[2]
        try:
            moment = datetime.fromtimestamp(when, self._tz) if self._tz else datetime.fromtimestamp(when).astimezone()
        except (OverflowError, OSError, ValueError):
            return date.min
        day = moment.date()
        start = datetime.combine(day, datetime.min.time(), moment.tzinfo)
        end = start + timedelta(days=1)
        if self._tz is None:  # local time: let the platform resolve DST at both ends
            start, end = start.replace(tzinfo=None).astimezone(), end.replace(tzinfo=None).astimezone()
        self._day_cache = (start.timestamp(), end.timestamp(), day)
        return day

    def _prune(self, now: float) -> None:
        current = int(now // MINUTE)
        if current != self._pruned_at:  # buckets are only ever added inside the window: prune as it moves
            self._pruned_at = current
            oldest = current - KEEP_MINUTES + 1
            for minute in [m for m in self._minutes if m < oldest]:
                del self._minutes[minute]
        if len(self._days) > 2:
            today = self._day_of(now)
            keep = (today, today - timedelta(days=1)) if today > date.min else (today,)
            for day in [d for d in self._days if d not in keep]:
                del self._days[day]
