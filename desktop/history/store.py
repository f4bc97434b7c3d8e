"""The history database: every received :class:`FeedEvent` in one SQLite file in the data directory.

No Qt here, and no threads: a :class:`HistoryStore` is one SQLite connection and, like every SQLite object
in Python, belongs to the thread that opened it. The app writes through :class:`desktop.history.writer.
HistoryWriter`, which owns a store on its own thread; ``login-feed export`` opens one of its own.

What is stored is exactly what a :class:`FeedEvent` holds: the flat fields and the decoded payload
(``data``) as JSON. There is no token, secret or signature in a FeedEvent (producers publish user profile
fields only, and the Pusher envelope's auth never reaches it), so none can end up in this file; keep it
that way if fields are ever added.

Durability: the database runs in WAL mode with ``synchronous=NORMAL``. A commit then appends to the
``-wal`` file with an ordinary ``write()`` and returns without ``fsync``; the data sits in the operating
system's page cache, which belongs to the kernel, not to our process. Killing the process (``kill -9``, a
crash) therefore loses nothing that was committed: the next open replays the WAL. Only an OS crash or a
power cut can lose the last few commits (never corrupt the file; WAL is still atomic). ``FULL`` would add an
fsync per commit for that case, which a feed viewer does not need and a 20,000 events/s burst cannot afford.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from desktop.feed.events import FeedEvent
from desktop.history.migrate import EVENT_TIME, V2_INDEXES, V3_INDEXES, migrate_1_to_2
from desktop.history.retention import delete_chunk, prune_bound
from desktop.history.rows import SELECT, from_row, insert_rows, to_row, update_alerts

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
"""Stored in SQLite's ``user_version``; a file from a newer Login Feed is refused rather than guessed at.
Version 2 added the tenant log's columns (``log_id`` unique, ``cursor``, ``kind`` ...), version 3 the index on the
event's time that :meth:`HistoryStore.recent` reads; see :mod:`.migrate`."""
PRUNE_CHUNK_ROWS = 10_000
"""Rows deleted per transaction by :meth:`HistoryStore.prune`, so a large prune never blocks writes for long."""
_WAL_SIZE_LIMIT = 64 * 1024 * 1024  # truncate the -wal file back to this after a checkpoint
_FETCH_ROWS = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,          -- insertion order = receive order
    received_at TEXT NOT NULL,       -- format_utc(): 2026-11-21T05:01:02.123Z, so text order is time order
    at TEXT,
    type TEXT NOT NULL,              -- signup | login | unrecognised
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    user_id TEXT,
    email TEXT,
    name TEXT,
    nickname TEXT,
    picture TEXT,
    connection TEXT,
    client_name TEXT,
    country TEXT,
    city TEXT,
    ip TEXT,
    logins_count INTEGER,
    data TEXT,                       -- the decoded payload as JSON
    reason TEXT,
    log_id TEXT,                     -- event v2 only (the tenant log): one row per log_id
    cursor TEXT,
    kind TEXT,
    outcome TEXT,
    label TEXT,
    code TEXT,
    device TEXT
);
CREATE INDEX IF NOT EXISTS events_received_at ON events(received_at);
"""

class HistoryError(Exception):
    """The history file cannot be used (written by a newer version, not a database, unreadable).

    ``unreadable`` is true when SQLite says the file is not a database or is corrupt (not for a busy or
    locked file, which is worth waiting for rather than replacing).
    """

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


def parse_since(text: str) -> str:
    """An ISO-8601 date or date-time as the stored ``received_at`` format (UTC, milliseconds).

    ``2026-11-21`` means midnight UTC; ``2026-11-21T05:00Z``, ``2026-11-21T06:00+01:00`` and
    ``2026-11-21 05:00`` work too; a time without an offset is taken as UTC (like every time in the feed).
    Raises :class:`ValueError` with a message fit for the person who typed it.
    """
    value = text.strip()
    parsed: datetime | None = None
    try:
        if len(value) == 10:  # a plain date: fromisoformat would accept it too, but be explicit
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        elif value:
            parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "zZ" else value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(
            f"expected an ISO date or time such as 2026-11-21 or 2026-11-21T05:00Z, got {text!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    except (OverflowError, ValueError):  # 0001-01-01T00:00+01:00 is before the calendar starts
        return "0000"  # before every stored time


class HistoryStore:
    """One connection to the history database; use it from the thread that created it.

    Opening creates the file (owner-only) and the schema when needed. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, path: Path | str, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.moved_aside: tuple[Path, str] | None = None
        """Set by :func:`open_store` when it had to move an unreadable file aside: (where to, why)."""
        if not self.path.exists():
            # An empty file is an empty database; creating it ourselves sets the mode, and SQLite gives
            # the -wal and -shm files the same permissions as the database.
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
        # Autocommit mode (isolation_level=None): every transaction is an explicit BEGIN ... COMMIT below.
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout)
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise HistoryError(f"cannot use the history file {self.path}: {exc}",
                               unreadable=is_unreadable(exc)) from exc
        except BaseException:
            self._db.close()
            raise

    def _setup(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"the history file {self.path} was written by a newer Login Feed (schema {version}, "
                f"this version reads {SCHEMA_VERSION})")
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a file system without shared memory: still works, less well
            log.warning("history: SQLite journal mode is %s, not WAL", mode)
        # Safe against a killed process (see the module docstring); only an OS crash can lose the last commits.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'events_type'").fetchone():
            # Made by the first versions; no query uses it, and it cost about a tenth of every insert.
            db.execute("DROP INDEX events_type")
        if version >= 3:  # cheap probes of the time index's and rowid b-trees' newest pages (what restore reads)
            db.execute(f"SELECT max({EVENT_TIME}) FROM events").fetchone()  # noqa: S608 - fixed text
            db.execute("SELECT max(id) FROM events").fetchone()  # one max() each: SQLite's min/max optimisation
        if version < SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            try:
                if version == 1:
                    migrate_1_to_2(db)
                for statement in (*_SCHEMA.split(";"), *V2_INDEXES, *V3_INDEXES):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # ---- writing -------------------------------------------------------------------------------------------

    def add_many(self, events: Sequence[FeedEvent]) -> int:
        """Append ``events`` in one transaction (all or nothing); return how many were written."""
        if not events:
            return 0
        rows = [to_row(ev) for ev in events]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            insert_rows(db, rows)
            update_alerts(db, events, rows)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return len(rows)

    def prune(self, keep_days: float | None = None, keep_rows: int | None = None, now: float | None = None,
              *, max_rows: int | None = None) -> int:
        """Delete events that happened more than ``keep_days`` before ``now`` (epoch seconds, default: the clock)
        and all but the ``keep_rows`` newest, both by event time as the feed orders them (not by arrival; see
        :mod:`.retention`); ``None`` keeps everything by that rule. Returns the rows deleted.

        Deletes the oldest first, in chunks of :data:`PRUNE_CHUNK_ROWS` rows, one transaction each; with
        ``max_rows`` it stops after about that many (the writer thread prunes a little at a time between batches).
        """
        bound = prune_bound(self._db, keep_days, keep_rows, time.time() if now is None else now)
        deleted = 0
        while bound is not None and (max_rows is None or deleted < max_rows):
            chunk = PRUNE_CHUNK_ROWS if max_rows is None else min(PRUNE_CHUNK_ROWS, max_rows - deleted)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                count = delete_chunk(self._db, bound, chunk)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            deleted += count
            if count < chunk:
                break
        return deleted

    # ---- reading -------------------------------------------------------------------------------------------

    def recent(self, limit: int) -> list[FeedEvent]:
        """The ``limit`` newest events by when they happened, **newest first** (the order the feed shows them in;
        of the same time, the later arrival first), read through the time index. Not the last to arrive: a
        catch-up or backfill stores old events last, and they must not push newer ones out of the window."""
        if limit <= 0:
            return []
        rows = self._db.execute(f"{SELECT} ORDER BY {EVENT_TIME} DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [from_row(row) for row in rows]

    def iter_since(self, since_iso: str | None = None) -> Iterator[FeedEvent]:
        """Every event received at or after ``since_iso`` (any form :func:`parse_since` reads; ``None``:
        all of them), **oldest first**, streamed from a cursor so memory stays flat for any history size.

        Consume it on the store's thread and before :meth:`close`.
        """
        if since_iso is None:
            cursor = self._db.execute(f"{SELECT} ORDER BY id")
        else:
            cursor = self._db.execute(
                f"{SELECT} WHERE received_at >= ? ORDER BY id", (parse_since(since_iso),))
        try:
            while rows := cursor.fetchmany(_FETCH_ROWS):
                for row in rows:
                    yield from_row(row)
        finally:
            with contextlib.suppress(sqlite3.ProgrammingError):  # the store was closed first
                cursor.close()

    def newest_cursor(self) -> str | None:
        """The newest tenant-log cursor stored (where catch-up starts), or None when there is none.

        Cursors are opaque to clients, but this server's are decimal numbers: the longest, then the largest text.
        """
        row = self._db.execute("SELECT cursor FROM events WHERE cursor IS NOT NULL "
                               "ORDER BY length(cursor) DESC, cursor DESC LIMIT 1").fetchone()
        return None if row is None else str(row[0])

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    # ---- lifetime ------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent). The last connection to close also checkpoints the WAL."""
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def is_unreadable(exc: BaseException) -> bool:
    """True for SQLite's "not a database" and "malformed" errors (not for busy, locked or full)."""
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or (
        isinstance(exc, HistoryError) and exc.unreadable)
