"""The tenant log in one SQLite file: :class:`~desktop.tenantlog.store.EventStore` for a single server process.

**The cursor** is the ``INTEGER PRIMARY KEY AUTOINCREMENT`` of the ``events`` table, and it never skips an event
that committed late: SQLite has exactly one writer at a time, and :meth:`SqliteEventStore.add` takes the write lock
(``BEGIN IMMEDIATE``) *before* any cursor is assigned and holds it until ``COMMIT``. So every cursor a transaction
assigns is larger than every cursor already committed, and no other transaction can assign (let alone commit) a
larger one until it has committed: a reader that has seen cursor N will never later find a newly committed event
below N. (That holds across processes too: the lock is on the file.) ``AUTOINCREMENT`` also guarantees that a
cursor is never reused after retention deleted the newest rows. A PostgreSQL store cannot use a plain sequence
this way (sequence values are handed out outside commit order): :mod:`desktop.tenantlog.pgstore` serialises its
writers at the point where the cursor is taken.

**Durability**: WAL with ``synchronous=FULL``: the log stream is acknowledged only after ``COMMIT`` returns, and
Auth0 will not send an acknowledged event again, so a commit must survive a power cut, not only a ``kill -9``.
One fsync per delivery (Auth0 batches records) is cheap. The "published" flags commit without
one (:meth:`SqliteEventStore.mark_published`): losing a flag only publishes an event again.

**Migrations**: ``schema_migrations`` lists the versions applied; each migration runs in the same transaction as
its row, so a crash mid-migration leaves the previous version intact. A file from a newer version is refused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from desktop.tenantlog.store import MAX_PAGE, AddResult, Page, StoreError, is_newer, newest_versions, parse_cursor

__all__ = ["DATABASE_FILE_NAME", "MIGRATIONS", "SqliteEventStore"]

log = logging.getLogger(__name__)

DATABASE_FILE_NAME = "tenant-log.sqlite3"
_PRUNE_CHUNK = 5000
_DAY = 86_400.0

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
        CREATE TABLE events (
            cursor INTEGER PRIMARY KEY AUTOINCREMENT,
            log_id TEXT NOT NULL UNIQUE,
            user_id TEXT,
            received_at REAL NOT NULL,
            published INTEGER NOT NULL DEFAULT 0,
            body BLOB NOT NULL
        );
        CREATE INDEX events_unpublished ON events (cursor) WHERE published = 0;
        CREATE INDEX events_user ON events (user_id, cursor) WHERE user_id IS NOT NULL;
        CREATE INDEX events_received ON events (received_at);
    """),
)


class SqliteEventStore:
    """:class:`EventStore` in one SQLite file (WAL). One connection, shared by threads under a lock."""

    def __init__(self, path: Path, retention_days: int = 30) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.path = Path(path)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._claimed: set[int] = set()  # cursors a publisher thread holds (claim)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the tenant-log database: {exc}") from None
        try:
            if os.name == "posix":
                self.path.chmod(0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            self._db.close()
            raise StoreError(f"{self.path}: cannot use the tenant-log database: {exc}") from None
        except StoreError:
            self._db.close()
            raise

    # ---- schema -------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                         "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        applied = {row[0] for row in self._db.execute("SELECT version FROM schema_migrations")}
        newest = MIGRATIONS[-1][0]
        if applied and max(applied) > newest:
            raise StoreError(f"{self.path}: the database has schema version {max(applied)}, newer than this "
                             f"Login Feed understands ({newest}): upgrade Login Feed or use another database")
        for version, script in MIGRATIONS:
            if version in applied:
                continue
            # one script, one transaction: the schema change and its row commit together (constants only)
            self._db.executescript(f"BEGIN IMMEDIATE; {script}; INSERT INTO schema_migrations VALUES "  # noqa: S608
                                   f"({version:d}, {time.time():f}); COMMIT;")
            log.info("tenant-log database %s: schema version %d applied", self.path, version)

    def schema_versions(self) -> list[int]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT version FROM schema_migrations ORDER BY version")]

    # ---- EventStore ---------------------------------------------------------------------------------------

    def add(self, events: Sequence[Mapping[str, Any]], received_at: float, *, published: bool = False) -> AddResult:
        flag = int(published)
        rows = [(e["log_id"], e.get("user_id"), received_at, flag, orjson.dumps(e)) for e in events]
        if not rows:
            return AddResult(0, 0)
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT INTO events (log_id, user_id, received_at, published, body) "
                                     "VALUES (?, ?, ?, ?, ?) ON CONFLICT (log_id) DO NOTHING", rows)
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            stored = self._db.total_changes - before
        return AddResult(stored, len(rows) - stored)

    def put_alerts(self, alerts: Sequence[Mapping[str, Any]], received_at: float) -> int:
        """The single writer (``BEGIN IMMEDIATE``) makes read-compare-replace safe; delete and insert gives the
        replacement the next ``AUTOINCREMENT`` cursor."""
        newest = newest_versions(alerts)
        if not newest:
            return 0
        changed = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for log_id, alert in newest.items():
                    row = self._db.execute("SELECT body FROM events WHERE log_id = ?", (log_id,)).fetchone()
                    if row is not None:
                        if not is_newer(alert, orjson.loads(row[0])):
                            continue
                        self._db.execute("DELETE FROM events WHERE log_id = ?", (log_id,))
                    self._db.execute("INSERT INTO events (log_id, user_id, received_at, published, body) "
                                     "VALUES (?, ?, ?, 0, ?)",
                                     (log_id, alert.get("user_id"), received_at, orjson.dumps(alert)))
                    changed += 1
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
        return changed

    def cursor_received_before(self, when: float) -> str:
        with self._lock:
            row = self._db.execute("SELECT cursor FROM events WHERE received_at < ? ORDER BY received_at DESC "
                                   "LIMIT 1", (when,)).fetchone()
        return str(row[0]) if row else "0"

    def page(self, after: str | None, limit: int) -> Page:
        limit = max(1, min(limit, MAX_PAGE))
        if after is None:
            with self._lock:
                rows = self._db.execute("SELECT cursor, body FROM events ORDER BY cursor DESC LIMIT ?",
                                        (limit,)).fetchall()
            events = [_event(row) for row in reversed(rows)]
            return Page(events, events[-1]["cursor"] if events else "0", False)
        start = parse_cursor(after)
        with self._lock:
            rows = self._db.execute("SELECT cursor, body FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?",
                                    (start, limit + 1)).fetchall()
        events = [_event(row) for row in rows[:limit]]
        return Page(events, events[-1]["cursor"] if events else after, len(rows) > limit)

    def for_user(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        limit = max(1, min(limit, MAX_PAGE))
        with self._lock:
            rows = self._db.execute("SELECT cursor, body FROM events WHERE user_id = ? ORDER BY cursor DESC "
                                    "LIMIT ?", (user_id, limit)).fetchall()
        return [_event(row) for row in reversed(rows)]

    def unpublished(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT cursor, body FROM events WHERE published = 0 ORDER BY cursor LIMIT ?",
                                    (limit,)).fetchall()
        return [_event(row) for row in rows]

    def mark_published(self, cursors: Sequence[str]) -> None:
        """Flag events published, without waiting for the disk (``synchronous=NORMAL`` for this commit): a flag
        lost in a power cut only publishes those events once more, which at-least-once delivery allows, and an
        fsync per Pusher batch would put the disk's latency between every batch and the next."""
        numbers = [(parse_cursor(c),) for c in cursors]
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("UPDATE events SET published = 1 WHERE cursor = ?", numbers)
                    self._db.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                    raise
            finally:
                self._db.execute("PRAGMA synchronous=FULL")

    @contextlib.contextmanager
    def claim(self, limit: int) -> Iterator[list[dict[str, Any]]]:
        """One process publishes from a SQLite file, so the claims are kept in memory: the publisher's threads
        never hold the same event (two processes on one file would both publish it: not supported)."""
        with self._lock:
            rows = self._db.execute("SELECT cursor, body FROM events WHERE published = 0 ORDER BY cursor LIMIT ?",
                                    (limit + len(self._claimed),)).fetchall()
            rows = [row for row in rows if row[0] not in self._claimed][:limit]
            self._claimed.update(row[0] for row in rows)
        try:
            events = [_event(row) for row in rows]
            yield events
            if events:
                self.mark_published([e["cursor"] for e in events])
        finally:
            with self._lock:
                self._claimed.difference_update(row[0] for row in rows)

    def check(self) -> None:
        try:
            with self._lock:
                self._db.execute("SELECT 1 FROM events LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    def prune(self, now: float) -> int:
        """Delete in chunks, so a large prune never holds the write lock (and the ingest) for long."""
        cutoff = now - self.retention_days * _DAY
        total = 0
        while True:
            with self._lock:
                cursor = self._db.execute(
                    "DELETE FROM events WHERE cursor IN (SELECT cursor FROM events WHERE received_at < ? "
                    "ORDER BY received_at LIMIT ?)", (cutoff, _PRUNE_CHUNK))
                deleted = cursor.rowcount
            total += deleted
            if deleted < _PRUNE_CHUNK:
                return total

    def newest_log_id(self) -> str | None:
        """The largest ``log_id`` stored (Auth0's ids grow over time, and have one length): where a catch-up
        from the Management API starts."""
        with self._lock:
            row = self._db.execute("SELECT log_id FROM events ORDER BY length(log_id) DESC, log_id DESC "
                                   "LIMIT 1").fetchone()
        return row[0] if row else None

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _event(row: tuple[int, bytes]) -> dict[str, Any]:
    event: dict[str, Any] = orjson.loads(row[1])
    event["cursor"] = str(row[0])
    return event
