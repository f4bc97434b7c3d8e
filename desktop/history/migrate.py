"""The schema's upgrades, run inside the store's one upgrade transaction (all or nothing).

Version 1 -> 2: the tenant log's columns, one row per ``log_id``. Before version 2 the window did not know
``log-event``: such events were stored as ``unrecognised`` rows with the whole payload in ``data``. The migration
adds the columns, reads those rows again with today's normaliser (so they become the failed logins and blocks they
were), and keeps the first row of each ``log_id`` (the same event published twice was stored twice), so the unique
index can be made.

Version 2 -> 3: an index on the event's time (:data:`EVENT_TIME`), so the window's restore reads the newest events
by when they happened, as the feed orders them, not by arrival: a catch-up or backfill stores old events last.
Building it reads the table once (about a second per million rows).
"""

from __future__ import annotations

import sqlite3

from desktop.feed.events import FeedEvent, normalise
from desktop.feed.stats import parse_utc

__all__ = ["EVENT_TIME", "NEW_COLUMNS", "V2_INDEXES", "V3_INDEXES", "migrate_1_to_2"]

NEW_COLUMNS = ("log_id", "cursor", "kind", "outcome", "label", "code", "device")
V2_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS events_log_id ON events(log_id) WHERE log_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS events_cursor ON events(length(cursor), cursor) WHERE cursor IS NOT NULL",
)
EVENT_TIME = "CASE WHEN at < received_at THEN at ELSE received_at END"
"""When the event happened, in SQL: :func:`desktop.feed.stats.event_time` (``at``, unless missing or after
``received_at``) on the stored text, whose order is time order (both are ``format_utc`` text). A query must spell
it exactly so for SQLite to use the index."""
V3_INDEXES = (f"CREATE INDEX IF NOT EXISTS events_time ON events({EVENT_TIME})",)
_REREAD = ("type", "user_id", "email", "name", "connection", "client_name", "country", "city", "ip",
           "logins_count", "at", "reason", *NEW_COLUMNS)


def migrate_1_to_2(db: sqlite3.Connection) -> int:
    """Add the columns and re-read stored ``log-event`` rows (inside the caller's transaction); returns how
    many rows were re-read."""
    from desktop.history.rows import decode_data  # noqa: PLC0415 - rows imports the store's neighbours

    present = {row[1] for row in db.execute("PRAGMA table_info(events)")}
    for name in NEW_COLUMNS:
        if name not in present:
            db.execute(f"ALTER TABLE events ADD COLUMN {name} TEXT")  # fixed names, never input
    rows = db.execute("SELECT id, channel, received_at, data FROM events WHERE event = 'log-event'").fetchall()
    seen: set[str] = set()
    for row_id, channel, received_at, data in rows:
        ev = normalise("log-event", channel, decode_data(data), parse_utc(received_at) or 0.0)
        if ev.log_id is not None and ev.log_id in seen:
            db.execute("DELETE FROM events WHERE id = ?", (row_id,))
            continue
        if ev.log_id is not None:
            seen.add(ev.log_id)
        _update(db, row_id, ev)
    return len(rows)


def _update(db: sqlite3.Connection, row_id: int, ev: FeedEvent) -> None:
    assignments = ", ".join(f"{name} = ?" for name in _REREAD)
    db.execute(f"UPDATE events SET {assignments} WHERE id = ?",  # noqa: S608 - fixed names
               (*(getattr(ev, name) for name in _REREAD), row_id))
