"""The tenant log on PostgreSQL, so that several server replicas behind a load balancer share one store.

The same interface (:class:`~desktop.tenantlog.store.EventStore`) and schema version numbers as the SQLite store;
``[server] database = "postgresql://..."`` selects it. psycopg 3 with a connection pool (the server's request
threads and its publisher share it). Three things differ from one process on one file:

**The cursor** must never let a reader skip an event that commits late. A sequence alone does not give that:
transaction A takes cursor 5, transaction B takes 6 and commits first, a reader pages past 6, then A commits 5
behind the reader's back. So :meth:`PostgresEventStore.add` takes a transaction-scoped advisory lock
(``pg_advisory_xact_lock``, one key for every replica) *before* it draws any cursor from the sequence, and
PostgreSQL holds it until the commit is visible. Every cursor drawn is then larger than every cursor already
committed, and nobody can draw a larger one until this transaction has committed: the SQLite store's
single-writer argument, across processes and machines. The lock covers one INSERT and the commit (about a
millisecond and an fsync per delivery, Auth0 batches records); parsing and enrichment happen before it.

**Duplicates across replicas**: ``log_id`` is UNIQUE and rows are inserted ``ON CONFLICT DO NOTHING``, so the
same retried batch delivered to two replicas is stored once (the second sees only duplicates).

**Publishing after commit, by several replicas**: :meth:`PostgresEventStore.claim` locks the oldest unpublished
rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` in a transaction that stays open while the publisher sends them,
and flags them published in that same transaction. Two replicas' publishers therefore never hold the same row
(no double publishing from a race), and a replica that dies between commit and publish (or while publishing)
loses its connection, PostgreSQL rolls its claim back and the rows are free for the next publisher at once, no
lease to wait out. A replica that hangs instead is cut off by ``idle_in_transaction_session_timeout``. Delivery
stays at least once: a death between Pusher's 200 and the flag's commit sends that one batch again.

**Migrations** run under another advisory lock, so replicas starting together apply each version once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from desktop.tenantlog.store import (
    MAX_PAGE,
    AddResult,
    Page,
    StoreError,
    is_newer,
    newest_versions,
    parse_cursor,
)

__all__ = ["CURSOR_LOCK", "MIGRATIONS", "PostgresEventStore", "describe_url", "insert_events"]

log = logging.getLogger(__name__)

CURSOR_LOCK = 0x4C46_6375_7273  # pg_advisory_xact_lock key serialising cursor assignment ("LFcurs")
MIGRATION_LOCK = 0x4C46_6D69_6772  # ... and migrations ("LFmigr")
CLAIM_IDLE_TIMEOUT_MS = 60_000  # a publisher that hangs mid-claim loses it after this long
_PRUNE_CHUNK = 5000
_DAY = 86_400.0

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
        CREATE SEQUENCE events_cursor AS bigint;
        CREATE TABLE events (
            cursor bigint PRIMARY KEY,
            log_id text NOT NULL UNIQUE,
            user_id text,
            received_at double precision NOT NULL,
            published boolean NOT NULL DEFAULT false,
            body bytea NOT NULL
        );
        CREATE INDEX events_unpublished ON events (cursor) WHERE NOT published;
        CREATE INDEX events_user ON events (user_id, cursor) WHERE user_id IS NOT NULL;
        CREATE INDEX events_received ON events (received_at);
        CREATE INDEX events_log_id_order ON events (length(log_id), log_id COLLATE "C");
    """),
)

_INSERT = """
    INSERT INTO events (cursor, log_id, user_id, received_at, published, body)
    SELECT nextval('events_cursor'), b.log_id, b.user_id, %(at)s, %(published)s, b.body
    FROM (SELECT * FROM unnest(%(log_ids)s::text[], %(user_ids)s::text[], %(bodies)s::bytea[])
          WITH ORDINALITY AS u(log_id, user_id, body, n) ORDER BY n) AS b
    ON CONFLICT (log_id) DO NOTHING
"""


def insert_events(db: psycopg.Connection[Any], events: Sequence[Mapping[str, Any]], received_at: float, *,
                  published: bool = False) -> int:
    """Inside the caller's transaction: take the cursor lock (held until that transaction ends), then insert the
    events in order with cursors from the sequence, skipping ``log_id`` already stored; how many were new."""
    db.execute("SELECT pg_advisory_xact_lock(%s)", (CURSOR_LOCK,))
    params = {"at": received_at, "published": published, "log_ids": [e["log_id"] for e in events],
              "user_ids": [e.get("user_id") for e in events], "bodies": [orjson.dumps(e) for e in events]}
    return db.execute(_INSERT, params).rowcount


def describe_url(url: str) -> str:
    """``user@host:port/dbname`` for logs and errors: never the password (in the URL or its query)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "a PostgreSQL URL that cannot be parsed"
    return (f"{parts.get('user', '')}{'@' if parts.get('user') else ''}{parts.get('host', 'localhost')}:"
            f"{parts.get('port', 5432)}/{parts.get('dbname', '')}")


class PostgresEventStore:
    """:class:`~desktop.tenantlog.store.EventStore` in a PostgreSQL database, safe for several processes at once."""

    def __init__(self, url: str, retention_days: int = 30, *, max_connections: int = 10,
                 connect_timeout: float = 10.0) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.retention_days = retention_days
        self.where = describe_url(url)
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False, timeout=connect_timeout,
                                    kwargs={"autocommit": True, "connect_timeout": max(1, round(connect_timeout))},
                                    name="tenant-log")
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            self._migrate()
        except (psycopg.Error, OSError) as exc:
            self._pool.close()
            raise StoreError(f"PostgreSQL {self.where}: cannot use the tenant-log database: {exc}") from None
        except StoreError:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresEventStore({self.where})"

    # ---- schema -------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        newest = MIGRATIONS[-1][0]
        with self._pool.connection() as db:
            for version, script in MIGRATIONS:
                with db.transaction():
                    db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                               "(version integer PRIMARY KEY, applied_at double precision NOT NULL)")
                    applied = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
                    if applied and max(applied) > newest:
                        raise StoreError(f"PostgreSQL {self.where}: the database has schema version {max(applied)}, "
                                         f"newer than this Login Feed understands ({newest}): upgrade Login Feed "
                                         "or use another database")
                    if version in applied:
                        continue
                    db.execute(script.encode())  # constants only; the change and its row commit together
                    db.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (version, time.time()))
                    log.info("tenant-log database %s: schema version %d applied", self.where, version)

    def schema_versions(self) -> list[int]:
        with self._pool.connection() as db:
            return [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]

    # ---- EventStore ---------------------------------------------------------------------------------------

    def add(self, events: Sequence[Mapping[str, Any]], received_at: float, *, published: bool = False) -> AddResult:
        if not events:
            return AddResult(0, 0)
        try:
            with self._pool.connection() as db, db.transaction():
                stored = insert_events(db, events, received_at, published=published)
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL {self.where}: the events could not be stored: {exc}") from None
        return AddResult(stored, len(events) - stored)

    def put_alerts(self, alerts: Sequence[Mapping[str, Any]], received_at: float) -> int:
        """Under the cursor lock (held to commit, so two replicas' detectors take turns): read the stored
        versions, delete those a newer version replaces, insert the new ones with fresh cursors. The stored rows
        are locked first, *before* the cursor lock: a publisher holding one (its claim lasts a Pusher request)
        then delays only this detector, never the ingest waiting for the cursor lock."""
        newest = newest_versions(alerts)
        if not newest:
            return 0
        select = "SELECT log_id, body FROM events WHERE log_id = ANY(%s) FOR UPDATE"
        try:
            with self._pool.connection() as db, db.transaction():
                db.execute(select, (list(newest),))
                db.execute("SELECT pg_advisory_xact_lock(%s)", (CURSOR_LOCK,))
                # again under the lock: what another replica committed meanwhile is visible now
                stored = {row[0]: orjson.loads(row[1]) for row in db.execute(select, (list(newest),))}
                chosen = [a for log_id, a in newest.items() if log_id not in stored or is_newer(a, stored[log_id])]
                replaced = [a["log_id"] for a in chosen if a["log_id"] in stored]
                if replaced:
                    db.execute("DELETE FROM events WHERE log_id = ANY(%s)", (replaced,))
                return insert_events(db, chosen, received_at) if chosen else 0
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL {self.where}: the alerts could not be stored: {exc}") from None

    def cursor_received_before(self, when: float) -> str:
        rows = self._rows("SELECT cursor FROM events WHERE received_at < %s ORDER BY received_at DESC LIMIT 1",
                          (when,))
        return str(rows[0][0]) if rows else "0"

    def page(self, after: str | None, limit: int) -> Page:
        limit = max(1, min(limit, MAX_PAGE))
        if after is None:
            rows = self._rows("SELECT cursor, body FROM events ORDER BY cursor DESC LIMIT %s", (limit,))
            found = [_event(row) for row in reversed(rows)]
            return Page(found, found[-1]["cursor"] if found else "0", False)
        start = parse_cursor(after)
        rows = self._rows("SELECT cursor, body FROM events WHERE cursor > %s ORDER BY cursor LIMIT %s",
                          (start, limit + 1))
        found = [_event(row) for row in rows[:limit]]
        return Page(found, found[-1]["cursor"] if found else after, len(rows) > limit)

    def for_user(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        limit = max(1, min(limit, MAX_PAGE))
        rows = self._rows("SELECT cursor, body FROM events WHERE user_id = %s ORDER BY cursor DESC LIMIT %s",
                          (user_id, limit))
        return [_event(row) for row in reversed(rows)]

    def unpublished(self, limit: int) -> list[dict[str, Any]]:
        """The oldest unpublished events (a look, not a claim: publishers use :meth:`claim`)."""
        rows = self._rows("SELECT cursor, body FROM events WHERE NOT published ORDER BY cursor LIMIT %s", (limit,))
        return [_event(row) for row in rows]

    def mark_published(self, cursors: Sequence[str]) -> None:
        numbers = [parse_cursor(c) for c in cursors]
        with self._pool.connection() as db, db.transaction():
            db.execute("SET LOCAL synchronous_commit = off")  # a lost flag only publishes again
            db.execute("UPDATE events SET published = true WHERE cursor = ANY(%s)", (numbers,))

    @contextlib.contextmanager
    def claim(self, limit: int) -> Iterator[list[dict[str, Any]]]:
        """Up to ``limit`` of the oldest unpublished events that no other publisher holds, held (row locks) for
        the block and flagged published when it ends normally; an exception (or this process dying) releases
        them unflagged. The flag's commit does not wait for the disk: a lost flag only publishes again."""
        with self._pool.connection() as db, db.transaction():
            db.execute("SET LOCAL synchronous_commit = off")
            db.execute(f"SET LOCAL idle_in_transaction_session_timeout = {CLAIM_IDLE_TIMEOUT_MS:d}".encode())
            rows = db.execute("SELECT cursor, body FROM events WHERE NOT published ORDER BY cursor LIMIT %s "
                              "FOR UPDATE SKIP LOCKED", (limit,)).fetchall()
            yield [_event(row) for row in rows]
            if rows:
                db.execute("UPDATE events SET published = true WHERE cursor = ANY(%s)", ([r[0] for r in rows],))

    def prune(self, now: float) -> int:
        """Delete in chunks, so a large prune never holds locks (and the publishers) for long."""
        cutoff = now - self.retention_days * _DAY
        total = 0
        while True:
            with self._pool.connection() as db:
                deleted = db.execute("DELETE FROM events WHERE cursor IN (SELECT cursor FROM events WHERE "
                                     "received_at < %s ORDER BY received_at LIMIT %s)",
                                     (cutoff, _PRUNE_CHUNK)).rowcount
            total += deleted
            if deleted < _PRUNE_CHUNK:
                return total

    def newest_log_id(self) -> str | None:
        """The largest ``log_id`` stored (Auth0's ids grow over time and have one length), compared bytewise."""
        rows = self._rows('SELECT log_id FROM events ORDER BY length(log_id) DESC, log_id COLLATE "C" DESC LIMIT 1',
                          ())
        return str(rows[0][0]) if rows else None

    def count(self) -> int:
        return int(self._rows("SELECT count(*) FROM events", ())[0][0])

    def check(self) -> None:
        """One round trip to the database (the health endpoint); :class:`StoreError` when it fails."""
        try:
            self._rows("SELECT 1", ())
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL {self.where}: {type(exc).__name__}") from None

    def close(self) -> None:
        self._pool.close()

    def _rows(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._pool.connection() as db:
            return db.execute(query.encode(), params).fetchall()


def _event(row: tuple[Any, ...]) -> dict[str, Any]:
    event: dict[str, Any] = orjson.loads(row[1])
    event["cursor"] = str(row[0])
    return event
