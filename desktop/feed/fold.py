"""One login shown once: when the Action (v1 ``user-loggedIn``/``user-signedUp``) and the tenant log (v2 ``s``/``ss``)
both report the same login, the window keeps the v2 row and folds the v1 one into it. Pure: no Qt, no clock.

The rule: a v1 event and a successful v2 event of the same kind (login with login, signup with signup) for the same
``user_id`` whose times (``at``) are at most :data:`FOLD_SECONDS` apart are one login. Each event folds with at
most one other, so two real logins in a row stay two rows. Whichever arrives first is listed; when the v2 one comes
second it takes the v1 row's place (the v2 row carries the reason, device and ``log_id`` the tenant log adds).
Both are stored in the history as received (nothing received is dropped); the history restore folds them again.
Why a time window and not "prefer v2 whenever the tenant log is on": the log stream can pause or lag (Auth0
retries, a paused stream) and then the Action's v1 events are the only record of the login.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from desktop.feed.events import FeedEvent
from desktop.feed.stats import event_time

__all__ = ["FOLD_SECONDS", "LoginFolder"]

FOLD_SECONDS = 30.0
"""The Action runs during the login and Auth0 logs it at the same moment (both on Auth0's clock): seconds apart
at most; 30 s leaves room for a slow Action."""
_KEEP = 4096
"""Unmatched events remembered at most (the oldest are forgotten first)."""


@dataclass(slots=True)
class _Seen:
    ev: FeedEvent
    when: float
    matched: bool = field(default=False)


def _fold_key(ev: FeedEvent) -> tuple[str, str, bool] | None:
    """(user_id, kind, is_v2) for events that may fold, else None."""
    if ev.user_id is None or ev.type not in ("login", "signup"):
        return None
    if ev.log_id is None:
        return ev.user_id, ev.type, False
    if ev.outcome in (None, "success"):
        return ev.user_id, ev.type, True
    return None


class LoginFolder:
    """Remembers recent unmatched v1 and v2 logins and signups; :meth:`fold` decides for each new batch."""

    def __init__(self, window: float = FOLD_SECONDS, keep: int = _KEEP) -> None:
        self._window = window
        self._recent: dict[tuple[str, str, bool], deque[_Seen]] = {}
        self._order: deque[tuple[tuple[str, str, bool], _Seen]] = deque()
        self._keep = keep
        self.folded = 0
        """v1 events folded so far (for the log and tests)."""

    def fold(self, batch: Sequence[FeedEvent]) -> tuple[list[FeedEvent], list[tuple[FeedEvent, FeedEvent]]]:
        """The rows to add (in order) and the ``(shown v1 row, v2 row)`` replacements for rows listed before."""
        rows: list[FeedEvent] = []
        replaced: list[tuple[FeedEvent, FeedEvent]] = []
        for ev in batch:
            key = _fold_key(ev)
            if key is None:
                rows.append(ev)
                continue
            when = event_time(ev)
            partner = self._match((key[0], key[1], not key[2]), when)
            if partner is None:
                self._remember(key, _Seen(ev, when))
                rows.append(ev)
                continue
            self.folded += 1
            if key[2]:  # v2 second: it takes the v1 row's place (in this batch, or listed before)
                for i, row in enumerate(rows):
                    if row is partner.ev:
                        rows[i] = ev
                        break
                else:
                    replaced.append((partner.ev, ev))
            # v1 second: folded into the v2 row already listed
        return rows, replaced

    def _match(self, key: tuple[str, str, bool], when: float) -> _Seen | None:
        for seen in self._recent.get(key, ()):
            if not seen.matched and abs(seen.when - when) <= self._window:
                seen.matched = True
                return seen
        return None

    def _remember(self, key: tuple[str, str, bool], seen: _Seen) -> None:
        self._recent.setdefault(key, deque()).append(seen)
        self._order.append((key, seen))
        while len(self._order) > self._keep:
            old_key, old = self._order.popleft()
            bucket = self._recent.get(old_key)
            if bucket:
                bucket.remove(old)
                if not bucket:
                    del self._recent[old_key]
