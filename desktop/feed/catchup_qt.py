"""The window's catch-up: after every subscription to the feed (the first and each reconnect), ask the tenant
log for what was missed, on a worker thread (``run_task``, the window's one task relay), and say what
came of it in the status bar.

The cursor: the ``next`` of the last page of each finished catch-up, and, while the feed is in sync (a catch-up
finished and the connection has not dropped since), the newest cursor of the live events. It is kept in the
window's preferences with the server's URL (``catch_up/cursor``, ``catch_up/url``), so the next start goes on from
the last point up to which nothing was missed; without one (the first start, another server) from the newest
cursor in the history (:meth:`~desktop.history.store.HistoryStore.newest_cursor`). The history's newest cursor alone
would skip a gap when the window was closed during a catch-up while live events kept arriving. Events received
live while a catch-up runs are not trusted to be contiguous, so they never move the cursor; duplicates are dropped
by ``log_id`` in the pipe. A catch-up asked for while one runs starts again when it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from desktop.auth.signin import SignInManager
from desktop.config_schema import Config
from desktop.feed.catchup import CatchUpPager, events_url, newer_cursor, user_events_url
from desktop.feed.catchup_io import Headers, auth_headers, fetch_missed, fetch_user_events, tenant_log_client
from desktop.feed.events import FeedEvent
from desktop.pusher.types import State, StateChanged
from desktop.util.tasks import run_task

log = logging.getLogger("desktop.feed")


def caught_up_text(count: int, truncated: bool = False) -> str:
    """The status bar's sentence after a catch-up that worked."""
    if count == 0:
        return "Caught up: nothing was missed while offline"
    text = f"Caught up {count:,} event{'s' if count != 1 else ''} missed while offline"
    return text + " (more remain: the next reconnect fetches them)" if truncated else text


class CatchUpController(QObject):
    """One per window; :meth:`configure` with the server's ``/events`` URL (None: local mode, nothing to ask)."""

    #: the sentence to show when a catch-up ended (how many events, or why it failed)
    finished = Signal(str)

    def __init__(self, parent: QObject | None = None, *, prefs: QSettings | None = None) -> None:
        super().__init__(parent)
        self.url: str | None = None
        self.cursor: str | None = None
        self._prefs = prefs
        self._history_cursor: str | None = None
        self._headers: Headers = dict
        self._renew: Callable[[], None] | None = None
        self._http = tenant_log_client()
        self._running = False
        self._again: object | None = None  # a Live that subscribed while a catch-up ran
        self._in_sync = False
        self.completed = 0
        """Catch-ups finished (successfully or not), for tests and the log."""

    def configure(self, url: str | None, headers: Headers = dict, renew: Callable[[], None] | None = None) -> None:
        changed = url != self.url
        self.url, self._headers, self._renew = url, headers, renew
        self._in_sync = False
        if changed:
            self._load()

    def configure_for(self, config: Config, signin: SignInManager | None) -> None:
        """The server of ``config`` (remote mode), asked with the signed-in user's bearer token and the
        ``[authorization] headers``, as channel authorization is."""
        headers, renew = auth_headers(config, signin)
        self.configure(events_url(config), headers, renew)

    def user_events(self, user_id: str) -> Callable[[], list[dict[str, Any]]] | None:
        """A blocking fetch of one user's recent events from the same server, or None (local mode)."""
        if self.url is None:
            return None
        url, headers, renew, http = user_events_url(self.url, user_id), self._headers, self._renew, self._http
        return lambda: fetch_user_events(http, url, headers, renew=renew)

    def on_state(self, change: StateChanged) -> None:
        """Connected no more: live events may be missing from now on, until the next catch-up."""
        if change.current is not State.CONNECTED:
            self.connection_lost()

    def set_start_cursor(self, cursor: str | None) -> None:
        """The newest cursor in the history, read at start: where to begin when no cursor was kept."""
        self._history_cursor = cursor
        self._load()

    def _load(self) -> None:
        saved = None
        if self._prefs is not None and self.url and self._prefs.value("catch_up/url") == self.url:
            value = self._prefs.value("catch_up/cursor")
            saved = value if isinstance(value, str) and value else None
        self.cursor = saved if saved is not None else self._history_cursor

    def _advance(self, cursor: str | None) -> None:
        self.cursor = newer_cursor(self.cursor, cursor)
        if self._prefs is not None and self.url and self.cursor:
            self._prefs.setValue("catch_up/url", self.url)
            self._prefs.setValue("catch_up/cursor", self.cursor)

    def connection_lost(self) -> None:
        self._in_sync = False

    def note_live(self, rows: Sequence[FeedEvent]) -> None:
        """Rows the window listed; while in sync their cursors move the start of the next catch-up."""
        if not self._in_sync:
            return
        newest = None
        for ev in rows:
            if ev.cursor is not None:
                newest = newer_cursor(newest, ev.cursor)
        if newest is not None:
            self._advance(newest)

    def start(self, live: object) -> None:
        """The feed of ``live`` (a :class:`desktop.connection.Live`) is subscribed: catch up."""
        if self.url is None:
            return
        self._in_sync = False
        if self._running:
            self._again = live
            return
        self._running = True
        pipe = live.pipe  # type: ignore[attr-defined]
        url, headers, renew, http = self.url, self._headers, self._renew, self._http
        pager = CatchUpPager(self.cursor)
        counted = [0]

        def on_page(page: list) -> None:
            counted[0] += pipe.on_caught_up(page)

        def work() -> CatchUpPager:
            return fetch_missed(http, url, pager, headers, on_page, stop=lambda: pipe.closed, renew=renew)

        run_task(work, lambda done: self._done(live, done, counted[0]),
                 lambda exc: self._failed(live, exc, counted[0]), name="catch-up", owner=self)

    def _done(self, live: object, pager: CatchUpPager, count: int) -> None:
        self._advance(pager.cursor)
        stale = live.pipe.closed  # type: ignore[attr-defined]
        log.info("catch-up: %d new of %d events in %d pages; cursor %s", count, pager.fetched, pager.pages,
                 self.cursor)
        if not stale:
            self._in_sync = not pager.truncated
            self.finished.emit(caught_up_text(count, pager.truncated))
        self._end()

    def _failed(self, live: object, exc: BaseException, count: int) -> None:
        log.warning("catch-up failed after %d new events: %s", count, exc)
        if not live.pipe.closed:  # type: ignore[attr-defined]
            extra = f" ({count:,} caught up before that)" if count else ""
            self.finished.emit(f"Catch-up failed: {exc}{extra}. Events missed while offline may be missing; "
                               "Reconnect tries again")
        self._end()

    def _end(self) -> None:
        self._running = False
        self.completed += 1
        again, self._again = self._again, None
        if again is not None and not again.pipe.closed:  # type: ignore[attr-defined]
            self.start(again)

    def close(self) -> None:
        self._http.close()
