"""Catch-up for ``login-feed tail`` (remote mode): after every re-subscription to the feed, print what the
server's tenant log holds that this run missed while it was disconnected, so headless users miss nothing either.

No history here, so the first subscription only learns the server's newest cursor (one event asked, nothing
printed: a tail starts from now); every later one pages ``GET /events?after=`` from the newest cursor this run
knows, on a thread of its own, and puts the events into the same queue as live batches. An event v2 received live
and caught up is printed once (by ``log_id``). Live events move the cursor only while the run is in sync (its last
catch-up finished and no re-subscription has happened since): events between a disconnect and the
re-subscription are exactly the ones the next catch-up fetches. ``--no-catch-up`` turns it off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from desktop.auth.signin import SignInManager
from desktop.config_schema import Config
from desktop.feed.catchup import PAGE_LIMIT, CatchUpPager, SeenLogIds, events_url, newer_cursor, seen_key
from desktop.feed.catchup_io import Headers, auth_headers, fetch_missed, tenant_log_client
from desktop.feed.events import LOG_EVENT_NAME
from desktop.pusher.types import ChannelEvent
from desktop.util.http import HttpClient, HttpError

Put = Callable[[list[ChannelEvent]], None]


def _v2_id(event: ChannelEvent, key: str) -> str | None:
    data = event.data
    if event.event != LOG_EVENT_NAME or not isinstance(data, Mapping):
        return None
    value = data.get(key)
    return value if isinstance(value, str) else None


class TailCatchUp:
    """Sees every batch of the feed channel (:meth:`filter`, on the engine thread) and catches up after each
    re-subscription; ``say`` prints a status line (stderr)."""

    def __init__(self, url: str, channel: str, headers: Headers, say: Callable[[str], None], *,
                 renew: Callable[[], None] | None = None, http: HttpClient | None = None) -> None:
        self.url, self.channel, self._headers, self._say, self._renew = url, channel, headers, say, renew
        self._http = http or tenant_log_client()
        self._seen = SeenLogIds()
        self._lock = threading.Lock()
        self.cursor: str | None = None
        self._in_sync = False
        self._running = False
        self._again: Put | None = None
        self.finished = threading.Event()
        """Set after each catch-up ends (tests wait on it)."""

    def filter(self, events: list[ChannelEvent], put: Put) -> list[ChannelEvent]:
        """``events`` without tenant-log events already printed; a subscription to the feed starts a catch-up."""
        kept = []
        for event in events:
            if event.event == "pusher:subscription_succeeded" and event.channel == self.channel:
                self._begin(put)
            log_id = _v2_id(event, "log_id")
            if log_id is not None:
                key = seen_key(log_id, event.data.get("kind"), event.data)  # type: ignore[union-attr]  # a v2 dict
                if key in self._seen:  # an alert's update has its own key: printed once each
                    continue
                self._seen.add([key])
                with self._lock:
                    if self._in_sync:
                        self.cursor = newer_cursor(self.cursor, _v2_id(event, "cursor"))
            kept.append(event)
        return kept

    def _begin(self, put: Put) -> None:
        with self._lock:
            self._in_sync = False
            if self._running:
                self._again = put
                return
            self._running = True
        threading.Thread(target=self._run, args=(put,), name="login-feed-catch-up", daemon=True).start()

    def _run(self, put: Put) -> None:
        with self._lock:
            start = self.cursor
        learn_only = start is None
        pager = CatchUpPager(start, limit=1 if learn_only else PAGE_LIMIT)
        printed = [0]

        def on_page(page: list[dict[str, Any]]) -> None:
            if learn_only:
                return
            now = time.time()
            fresh = self.filter([ChannelEvent(self.channel, LOG_EVENT_NAME, data, None, now) for data in page], put)
            printed[0] += len(fresh)
            if fresh:
                put(fresh)

        ok = False
        try:
            fetch_missed(self._http, self.url, pager, self._headers, on_page, renew=self._renew)
            ok = True
        except HttpError as exc:
            self._say(f"catch-up failed: {exc}; events missed while disconnected may be missing")
        if ok and not learn_only:
            self._say(f"caught up {printed[0]:,} event{'s' if printed[0] != 1 else ''} missed while offline")
        with self._lock:
            self.cursor = newer_cursor(self.cursor, pager.cursor)
            self._in_sync = ok and not pager.truncated
            self._running = False
            again, self._again = self._again, None
        self.finished.set()
        if again is not None:
            self._begin(again)


def tail_catch_up(config: Config, channel: str, signin: SignInManager | None,
                  say: Callable[[str], None]) -> TailCatchUp | None:
    """The catch-up for ``config``'s server, or None in local mode (there is no server to ask)."""
    url = events_url(config)
    if url is None:
        return None
    headers, renew = auth_headers(config, signin)
    return TailCatchUp(url, channel, headers, say, renew=renew)
