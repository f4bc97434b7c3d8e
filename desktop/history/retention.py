"""The history's retention: which rows :meth:`.store.HistoryStore.prune` deletes, and how, in chunks.

Both rules go by when the event happened (:data:`.migrate.EVENT_TIME`), the order the feed shows and the window's
restore reads (:meth:`.store.HistoryStore.recent`), not by arrival: a catch-up or backfill stores old events last,
and a prune by arrival would delete newer events and keep those old ones. ``keep_rows`` keeps the N newest by event
time (of the same time, the later arrival, as ``recent`` orders them); ``keep_days`` deletes every event that
happened before the cutoff, even one that arrived today.

Each rule deletes a prefix of the ``events_time`` index's order (event time, then id), so together they delete the
longer prefix: one bound, found once (keep_rows: a walk of N index entries from the newest, about a millisecond per
40,000), and each chunk is a range search of that index from its oldest entry: no sort, no scan of the table
(``bench/history_prune.py``).
"""

from __future__ import annotations

import sqlite3

from desktop.feed.events import format_utc
from desktop.history.migrate import EVENT_TIME

__all__ = ["Bound", "delete_chunk", "prune_bound"]

Bound = tuple[str, int | None]
"""The last row to delete in the index's order: ``(event time, id)`` deletes up to and including that row;
``(event time, None)`` deletes every row that happened before that time and none at it."""

_NEWEST_FROM = f"SELECT {EVENT_TIME}, id FROM events ORDER BY {EVENT_TIME} DESC, id DESC LIMIT 1 OFFSET ?"  # noqa: S608
_DELETE_BEFORE = (f"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE {EVENT_TIME} < ? "  # noqa: S608
                  f"ORDER BY {EVENT_TIME}, id LIMIT ?)")
_DELETE_THROUGH = (f"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE {EVENT_TIME} < ? "  # noqa: S608
                   f"OR ({EVENT_TIME} = ? AND id <= ?) ORDER BY {EVENT_TIME}, id LIMIT ?)")


def cutoff_text(now: float, keep_days: float) -> str:
    """``keep_days`` before ``now`` in the stored time format; absurd settings give a time before or after all."""
    cutoff = now - keep_days * 86400
    try:
        return format_utc(cutoff)
    except (OverflowError, ValueError, OSError):
        return "0000" if cutoff < 0 else "9999"


def prune_bound(db: sqlite3.Connection, keep_days: float | None, keep_rows: int | None, now: float) -> Bound | None:
    """Where a prune by these rules stops (see :data:`Bound`); None when neither rule deletes anything."""
    by_age: Bound | None = None if keep_days is None else (cutoff_text(now, keep_days), None)
    by_count: Bound | None = None
    if keep_rows is not None:
        row = db.execute(_NEWEST_FROM, (max(keep_rows, 0),)).fetchone()
        by_count = None if row is None else (str(row[0]), int(row[1]))
    if by_age is None or by_count is None:
        return by_age or by_count
    # Rows before the cutoff are all at or before a row at or after it, and the other way round.
    return by_count if by_count[0] >= by_age[0] else by_age


def delete_chunk(db: sqlite3.Connection, bound: Bound, rows: int) -> int:
    """Delete up to ``rows`` of the oldest rows by event time at or before ``bound`` (inside the caller's
    transaction); returns how many went."""
    when, last_id = bound
    if last_id is None:
        return db.execute(_DELETE_BEFORE, (when, rows)).rowcount
    return db.execute(_DELETE_THROUGH, (when, when, last_id, rows)).rowcount
