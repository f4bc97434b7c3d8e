"""Where the tenant log is kept: one small interface, shared by its SQLite (:mod:`.sqlite_store`) and PostgreSQL
(:mod:`.pgstore`) implementations, with the types and rules both use.

The interface (:class:`EventStore`) is what the routes and the publisher use: add a batch (duplicates by
``log_id`` stored once), page through events by cursor, one user's recent events, the publishing outbox, retention
pruning, and the alerts (:meth:`EventStore.put_alerts`: one row per alert id, replaced by a version with more
updates).

**The cursor** is the store's own order of arrival, handed to clients as an opaque string; it never skips an event
that committed late (how each database keeps that promise is in its module).

**The outbox**: each row has a ``published`` flag. The publisher reads unpublished rows after they committed, sends
them and sets the flag, so an event acknowledged to Auth0 but not yet published survives a crash and goes out
after the restart (at least once: a crash between sending and flagging sends that batch twice; the desktop keeps
one row per ``log_id``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

__all__ = ["MAX_PAGE", "AddResult", "EventStore", "Page", "StoreError", "is_newer", "is_postgres_url",
           "newest_versions", "parse_cursor"]

MAX_PAGE = 1000


class StoreError(Exception):
    """The store cannot be opened or used; the message says which file and why."""


class AddResult(NamedTuple):
    stored: int
    duplicates: int


class Page(NamedTuple):
    events: list[dict[str, Any]]  #: oldest first, each with its ``cursor``
    next: str  #: the cursor of the last event, or the one asked for when there is none
    more: bool  #: whether later events exist


class EventStore(Protocol):
    """The tenant log's storage, as the routes and the publisher need it (thread-safe)."""

    def add(self, events: Sequence[Mapping[str, Any]], received_at: float, *, published: bool = False) -> AddResult:
        """Store v2 events (without cursor) in one transaction; ``log_id`` already stored counts as a duplicate.
        ``published=True`` keeps them out of the outbox (e.g. a backfill of old events nobody needs live)."""
        ...

    def put_alerts(self, alerts: Sequence[Mapping[str, Any]], received_at: float) -> int:
        """Store alert events (kind ``alert``, :mod:`desktop.alerts`): a new ``log_id`` is added; a stored one is
        replaced, under a *new* cursor and unpublished again, only by a version with more ``updates`` (so
        ``/events`` catch-up and the publisher see the update, and two replicas' detectors emitting the same
        alert store it once). One transaction; how many were added or replaced."""
        ...

    def cursor_received_before(self, when: float) -> str:
        """A cursor from which paging yields at least every event received at or after ``when`` ("0": all)."""
        ...

    def page(self, after: str | None, limit: int) -> Page:
        """Events after ``after`` (oldest first), or the newest ``limit`` when ``after`` is None.

        :raises ValueError: ``after`` is not a cursor of this store.
        """
        ...

    def for_user(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        """The user's newest ``limit`` events, oldest first."""
        ...

    def unpublished(self, limit: int) -> list[dict[str, Any]]:
        """The oldest events not yet published, with their cursors."""
        ...

    def mark_published(self, cursors: Sequence[str]) -> None: ...

    def claim(self, limit: int) -> contextlib.AbstractContextManager[list[dict[str, Any]]]:
        """``with store.claim(n) as events:`` up to ``n`` of the oldest unpublished events that no other
        publisher holds; flagged published when the block ends normally, left unpublished (and free) when it
        raises. What the publisher uses: on PostgreSQL several replicas' publishers never hold the same event."""
        ...

    def check(self) -> None:
        """Raise :class:`StoreError` when the store cannot be used right now (the health endpoint)."""
        ...

    def prune(self, now: float) -> int:
        """Delete events received more than the retention period before ``now``; how many went."""
        ...

    def newest_log_id(self) -> str | None: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def newest_versions(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Each alert ``log_id``'s version with the most ``updates`` (a batch may hold several)."""
    newest: dict[str, Mapping[str, Any]] = {}
    for alert in alerts:
        log_id = alert.get("log_id")
        if isinstance(log_id, str) and (log_id not in newest or is_newer(alert, newest[log_id])):
            newest[log_id] = alert
    return newest


def is_newer(alert: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether ``alert`` should replace the stored version of the same ``log_id`` (strictly more updates)."""
    def updates(event: Mapping[str, Any]) -> int:
        value = event.get("updates")
        return value if isinstance(value, int) and not isinstance(value, bool) else -1

    return updates(alert) > updates(stored)


def is_postgres_url(database: str | None) -> bool:
    """``[server] database`` names a PostgreSQL database (:mod:`desktop.tenantlog.pgstore`), not a SQLite file."""
    return bool(database) and str(database).startswith(("postgresql://", "postgres://"))


def parse_cursor(text: str) -> int:
    """A cursor of this store (the decimal row number, though clients must treat it as opaque)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        raise ValueError("'after' must be a cursor returned by this server")
    return int(text)
