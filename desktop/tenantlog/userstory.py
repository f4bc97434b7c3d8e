"""One user's recent events: the store's, topped up from Auth0's Management API where the store has too few.

The store holds what the log stream delivered since the server (or its retention window) began; Auth0 keeps a
user's logs longer (``GET /api/v2/users/{id}/logs``). The window's user look-up wants "the last N things that
happened to this person", so the two are merged here: pure, no IO (the records are fetched by the caller).
Auth0's records are normalised exactly like streamed ones, carry no ``cursor`` (they are not part of the
catch-up stream) and are never stored, so they cannot reach ``/events`` or Pusher twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from desktop.tenantlog.body import read_records
from desktop.tenantlog.enrich import Locator, no_location
from desktop.tenantlog.normalize import normalize

__all__ = ["UserLogs", "merge_user_events"]

UserLogs = Callable[[str, int], list[dict[str, Any]]]
"""``(user_id, limit) -> log-stream records`` (``{log_id, data}``), newest first: the Management API's user logs."""


def merge_user_events(stored: Sequence[Mapping[str, Any]], fetched: Sequence[Mapping[str, Any]], limit: int,
                      received_at: float, *, locate: Locator = no_location) -> list[dict[str, Any]]:
    """The newest ``limit`` events of ``stored`` (v2 events) and ``fetched`` (raw records), oldest first, one per
    ``log_id`` (the stored copy wins: it has a cursor). A fetched record that cannot be read is left out."""
    by_id: dict[str, dict[str, Any]] = {}
    for record in read_records(fetched).records:
        event = normalize(record, received_at, locate=locate)
        by_id[str(event.get("log_id"))] = event
    for event in stored:
        by_id[str(event.get("log_id"))] = dict(event)
    ordered = sorted(by_id.values(), key=lambda e: (str(e.get("at") or ""), str(e.get("log_id") or "")))
    return ordered[-limit:] if limit > 0 else []
