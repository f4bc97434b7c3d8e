"""Filling the tenant log from Auth0's Management API: the gap since the newest stored event, or a new store.

- :func:`catch_up` (at server start): checkpoint paging from the newest stored ``log_id`` until an empty page.
- :func:`backfill_since` (``login-feed server --backfill-since DATE``): checkpoint paging cannot start at a date,
  only after a ``log_id``. So one search-mode request first (``q=date:[DATE TO *]``, ``sort=date:1``,
  ``per_page=100``) finds the earliest events on or after DATE; the one with the smallest ``log_id`` of that page
  is stored and becomes the checkpoint, and paging goes on from it. (Log ids follow time only roughly, so an event
  of DATE whose id is below all of the 100 earliest would be missed; taking the smallest id of 100 makes that
  unlikely. This anchoring is our own approach: Auth0 documents no date start for checkpoints.)

Records go to ``sink(records)`` in the log stream's ``{"log_id", "data"}`` shape (what the stream route ingests),
in ascending ``log_id`` order, and ``sink`` must have committed them when it returns: only then is the checkpoint
moved on. So a backfill (or catch-up) that is interrupted (Ctrl-C, a crash, :meth:`ManagementClient.stop`) resumes
after the last page stored; at worst a page is fetched twice, and the store keeps one row per ``log_id``.

A backfill can take hours under Auth0's rate limits, so ``progress`` is told after every page and before every
wait: events fetched, the date reached, rate-limit waits, and an estimate of the time left (from how fast the log's
own time is being covered, which assumes events spread evenly over time).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from desktop.tenantlog.management import ManagementClient
from desktop.tenantlog.paging import TAKE, log_key
from desktop.util.files import write_atomically

__all__ = ["Checkpoint", "FileCheckpoint", "Progress", "backfill_since", "catch_up", "estimate_remaining",
           "format_progress", "lucene_date"]

log = logging.getLogger(__name__)

Sink = Callable[[list[dict[str, Any]]], object]
"""Takes each page of records as the API decoded them: ``TenantLog.ingest_records`` (no JSON round trip)."""


@dataclass(frozen=True, slots=True)
class Progress:
    fetched: int = 0  #: events handed to the sink
    pages: int = 0
    reached: str | None = None  #: the latest event ``date`` seen (Auth0's ISO text)
    waiting: float = 0.0  #: a rate-limit wait of this many seconds starts now (0: not waiting)
    waits: int = 0  #: rate-limit waits so far
    waited: float = 0.0  #: seconds spent in them
    remaining: float | None = None  #: estimated seconds left; None until there is something to go by
    done: bool = False


ProgressFn = Callable[[Progress], object]


class Checkpoint(Protocol):
    """Where an unfinished run stands: the last ``log_id`` whose page the sink committed."""

    def load(self) -> str | None: ...

    def save(self, log_id: str) -> None: ...

    def clear(self) -> None: ...


class FileCheckpoint:
    """A checkpoint in a small JSON file, replaced atomically. ``key`` names the run (e.g. the backfill's date):
    a file left by a different run is not resumed."""

    def __init__(self, path: Path, key: str) -> None:
        self.path, self.key = Path(path), key

    def load(self) -> str | None:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring the unreadable catch-up checkpoint %s (%s)", self.path, type(exc).__name__)
            return None
        if not isinstance(saved, dict) or saved.get("key") != self.key or not isinstance(saved.get("log_id"), str):
            return None
        return saved["log_id"] or None

    def save(self, log_id: str) -> None:
        write_atomically(self.path, json.dumps({"key": self.key, "log_id": log_id}))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def lucene_date(since: date | datetime) -> str:
    """``since`` as Auth0's log search compares it: ``2026-08-01``, or ``2026-08-01T12:00:00.000Z``."""
    if isinstance(since, datetime):
        moment = since if since.tzinfo else since.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return since.isoformat()


def catch_up(client: ManagementClient, newest_log_id: str | None, sink: Sink, progress: ProgressFn, *,
             checkpoint: Checkpoint | None = None) -> Progress:
    """Fill the gap after ``newest_log_id`` (read from the store *before* the log stream is served), or after an
    unfinished earlier catch-up's checkpoint; the checkpoint is cleared once caught up. Nothing to do without a
    stored event: a new store is seeded with :func:`backfill_since`.

    :raises ManagementError: the API cannot be used; :class:`Stopped` after ``client.stop()``.
    """
    start = (checkpoint.load() if checkpoint is not None else None) or newest_log_id
    if start is None:
        log.info("catch-up from Auth0: the store is empty, nothing to catch up (use --backfill-since DATE)")
        done = Progress(done=True)
        progress(done)
        return done
    result = _follow(client, start, sink, progress, checkpoint, since=None, state=Progress())
    if checkpoint is not None:
        checkpoint.clear()
    return result


def backfill_since(client: ManagementClient, since: date | datetime, sink: Sink, progress: ProgressFn,
                   checkpoint: Checkpoint) -> Progress:
    """Fetch every event from ``since`` until now (Auth0 keeps 1 to 30 days, by plan), resuming from
    ``checkpoint`` when an earlier run for the same date was interrupted; the checkpoint is cleared when done."""
    start = checkpoint.load()
    if start is None:
        first = client.search(f"date:[{lucene_date(since)} TO *]", sort="date:1", per_page=TAKE)
        if not first:
            log.info("backfill: Auth0 has no events since %s", lucene_date(since))
            done = Progress(done=True)
            progress(done)
            return done
        anchor = min(first, key=lambda r: log_key(r["log_id"]))
        sink([anchor])
        checkpoint.save(anchor["log_id"])
        start, state = anchor["log_id"], Progress(fetched=1, reached=anchor["data"].get("date"))
    else:
        log.info("backfill: resuming after %s", start)
        state = Progress()
    result = _follow(client, start, sink, progress, checkpoint, since=since, state=state)
    checkpoint.clear()
    return result


def _follow(client: ManagementClient, start: str, sink: Sink, progress: ProgressFn, checkpoint: Checkpoint | None,
            *, since: date | datetime | None, state: Progress) -> Progress:
    pager = client.pager(start)
    began = client.clock()
    first_date = _parse_date(lucene_date(since)) if since is not None else None
    while True:
        step = client.fetch(pager)
        if step.records:
            sink(step.records)
            if checkpoint is not None:
                checkpoint.save(pager.last_log_id)
            reached = _latest(step.records, state.reached)
            first_date = first_date or _parse_date(_earliest(step.records))
            now = client.clock()
            state = replace(state, fetched=state.fetched + len(step.records), pages=state.pages + 1, reached=reached,
                            waiting=0.0, remaining=estimate_remaining(first_date, _parse_date(reached),
                                                                      _from_epoch(now), now - began))
        if step.done:
            state = replace(state, waiting=0.0, remaining=0.0, done=True)
            progress(state)
            return state
        if step.throttled:
            state = replace(state, waiting=step.wait, waits=state.waits + 1, waited=state.waited + step.wait)
        progress(state)
        client.wait(step.wait)
        state = replace(state, waiting=0.0)


def estimate_remaining(first: datetime | None, reached: datetime | None, now: datetime,
                       elapsed: float) -> float | None:
    """Seconds left to reach ``now``, if the log's time keeps being covered as fast as from ``first`` to
    ``reached`` took ``elapsed`` seconds; None while that says nothing yet."""
    if first is None or reached is None or elapsed <= 0:
        return None
    covered = (reached - first).total_seconds()
    if covered <= 0:
        return None
    return max(0.0, (now - reached).total_seconds()) * elapsed / covered


def format_progress(state: Progress) -> str:
    """One line for a person: ``12,300 events, reached 2026-08-03 14:02 UTC, 3 rate-limit waits (42 s), about
    1 h 12 min left``."""
    parts = [f"{state.fetched:,} event{'s' if state.fetched != 1 else ''}"]
    if state.reached:
        moment = _parse_date(state.reached)
        parts.append(f"reached {moment:%Y-%m-%d %H:%M} UTC" if moment else f"reached {state.reached[:40]}")
    if state.waits:
        parts.append(f"{state.waits} rate-limit wait{'s' if state.waits != 1 else ''} ({_duration(state.waited)})")
    if state.waiting:
        parts.append(f"waiting {_duration(state.waiting)} for the rate limit")
    if state.done:
        parts.append("done")
    elif state.remaining is not None:
        parts.append(f"about {_duration(state.remaining)} left")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _dated(records: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, str]]:
    found = ((_parse_date(r["data"].get("date")), r["data"].get("date")) for r in records)
    return [(moment, text) for moment, text in found if moment is not None and isinstance(text, str)]


def _latest(records: Sequence[Mapping[str, Any]], before: str | None) -> str | None:
    earlier = [(moment, before)] if before and (moment := _parse_date(before)) else []
    return max([*_dated(records), *earlier], default=(None, None))[1]


def _earliest(records: Sequence[Mapping[str, Any]]) -> str | None:
    return min(_dated(records), default=(None, None))[1]


def _parse_date(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
