"""Catch-up: what the window (or ``tail``) missed while it was not connected, from the server's tenant log.

Pusher keeps no history, so after every (re)subscription to the feed the client asks the server's
``GET /events?after=CURSOR&limit=N`` for what came after the newest cursor it has, page after page until
``more`` is false (``shared/product.md``, "The tenant log"). This module is the pure part: where to ask, the
order of pages and what a page must look like (:class:`CatchUpPager`), which cursor is newer
(:func:`newer_cursor`), and which events are new (:class:`SeenLogIds`). The asking is :func:`fetch_missed`
(:mod:`desktop.feed.catchup_io`), on the one HTTP boundary.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from desktop.config_schema import Config

__all__ = ["MAX_CATCH_UP_EVENTS", "PAGE_LIMIT", "CatchUpPager", "PageError", "SeenLogIds", "events_url",
           "newer_cursor", "seen_key"]

PAGE_LIMIT = 1000
"""Events per page: the server's most."""
MAX_CATCH_UP_EVENTS = 200_000
"""One catch-up stops after this many events (a week of a busy tenant); the rest waits for the next one."""
_AUTH_SUFFIX = "/pusher/auth"


class PageError(ValueError):
    """The server's answer is not a page of events."""


def events_url(config: Config) -> str | None:
    """Where the tenant log is served: ``[feed] events_endpoint``, else the reference server's ``/events`` next to
    its ``/pusher/auth``; None in local mode (no server to ask) or for an endpoint of another shape."""
    authz = config.authorization
    if authz.mode != "remote":
        return None
    if config.feed.events_endpoint:
        return config.feed.events_endpoint
    if not authz.endpoint:
        return None
    parts = urlsplit(authz.endpoint)
    if not parts.path.endswith(_AUTH_SUFFIX):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path[: -len(_AUTH_SUFFIX)] + "/events", "", ""))


def user_events_url(events: str, user_id: str) -> str:
    """``.../users/{user_id}/events`` next to ``.../events`` (the id percent-encoded, slashes too)."""
    from urllib.parse import quote  # noqa: PLC0415

    return events[: -len("/events")] + f"/users/{quote(user_id, safe='')}/events"


def _cursor_key(cursor: str) -> tuple[int, str]:
    return (len(cursor), cursor) if cursor.isascii() and cursor.isdigit() else (-1, cursor)


def newer_cursor(a: str | None, b: str | None) -> str | None:
    """The newer of two cursors: the larger number for this server's decimal cursors; otherwise ``b`` (the one
    seen last), since an opaque cursor has no order a client may rely on."""
    if a is None:
        return b
    if b is None:
        return a
    key_a, key_b = _cursor_key(a), _cursor_key(b)
    if key_a[0] >= 0 and key_b[0] >= 0:
        return a if key_a > key_b else b
    return b


@dataclass
class CatchUpPager:
    """The pages of one catch-up, from ``after`` (None: the newest page only, for a client with no cursor yet).

    Call :meth:`params` for the next request, then :meth:`take` with the decoded answer; :attr:`done` says when
    to stop. ``cursor`` is where the next catch-up should start once this one is done.
    """

    after: str | None
    limit: int = PAGE_LIMIT
    max_events: int = MAX_CATCH_UP_EVENTS
    cursor: str | None = None
    fetched: int = 0
    pages: int = 0
    done: bool = False
    truncated: bool = False
    _next: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.cursor = self.after
        self._next = self.after

    def params(self) -> dict[str, str]:
        params = {"limit": str(self.limit)}
        if self._next is not None:
            params["after"] = self._next
        return params

    def take(self, answer: Any) -> list[dict[str, Any]]:
        """The events of one answer (oldest first), after checking its shape; advances the cursor.

        :raises PageError: not ``{"events": [...], "next": str, "more": bool}``.
        """
        if not isinstance(answer, Mapping):
            raise PageError("the answer is not a JSON object")
        events, next_cursor, more = answer.get("events"), answer.get("next"), answer.get("more")
        if not isinstance(events, list) or not isinstance(more, bool):
            raise PageError("the answer has no 'events' list or no 'more' flag")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise PageError("the answer's 'next' is not a string")
        if more and (next_cursor is None or next_cursor == self._next):
            raise PageError("the server says there is more but gives no new cursor")
        page = [event for event in events if isinstance(event, Mapping)]
        self.pages += 1
        self.fetched += len(page)
        if next_cursor is not None:
            self._next = next_cursor
            self.cursor = newer_cursor(self.cursor, next_cursor)
        if self.after is None:  # no cursor yet: the newest page is all we want; later ones go on from it
            more = False
        if more and self.fetched >= self.max_events:
            self.truncated = True
            more = False
        self.done = not more
        return page


def _dedupe_key(ev: Any) -> str | None:
    return seen_key(getattr(ev, "log_id", None), getattr(ev, "kind", None), getattr(ev, "data", None))


def seen_key(log_id: str | None, kind: object, data: object) -> str | None:
    """An event's ``log_id``; for an alert, which keeps its ``log_id`` while the server updates it (issue 15),
    the ``log_id`` and the ``updates`` counter: each update is new, a repeat of one is not."""
    if log_id is None or kind != "alert":
        return log_id
    updates = data.get("updates") if isinstance(data, Mapping) else None
    return f"{log_id}\x1f{updates}" if isinstance(updates, int) and updates else log_id


class SeenLogIds:
    """The ``log_id`` of every event v2 already listed (the newest ``capacity``), so an event caught up after it
    was received live, or received twice, is listed once. Thread-safe: the engine thread and a catch-up thread
    both ask."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, log_ids: Iterable[str | None]) -> None:
        with self._lock:
            for log_id in log_ids:
                if log_id is not None:
                    self._remember(log_id)

    def fresh(self, events: list[Any]) -> list[Any]:
        """The events (anything with a ``log_id``) not seen before, in order; marks them seen. An event without
        ``log_id`` (v1) is always fresh."""
        if all(getattr(ev, "log_id", None) is None for ev in events):
            return events
        kept = []
        with self._lock:
            for ev in events:
                log_id = _dedupe_key(ev)
                if log_id is None:
                    kept.append(ev)
                elif log_id not in self._seen:
                    self._remember(log_id)
                    kept.append(ev)
        return kept

    def _remember(self, log_id: str) -> None:
        self._seen[log_id] = None
        self._seen.move_to_end(log_id)
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def __contains__(self, log_id: object) -> bool:
        with self._lock:
            return log_id in self._seen

    def __len__(self) -> int:
        return len(self._seen)
