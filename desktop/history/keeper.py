"""The writer thread's hold on the history file: open it, commit batches with retries, and say how it goes.

Split from :mod:`.writer` (which owns the queue, the counters and the thread) so that the failure policy reads
in one place:

- a failing write (disk full, file locked) is retried after each of ``retry_delays``, then *given up* (the
  events stay in the window but not in the history). Until a write works again the keeper only *probes*: one
  attempt per batch, and the writer hands it everything queued at once every last retry delay, so a broken
  disk cannot grow the queue;
- a file SQLite calls corrupt while in use is closed, moved aside (:func:`.store.move_aside`) and replaced by
  a new one, once per batch or read; at open, :func:`.store.open_store` does the same;
- retention: old events are deleted a chunk at a time (:meth:`StoreKeeper.prune_step`), between batches;
- the listener gets a :class:`HistoryNotice` when writing starts failing, when events are given up, when it
  works again, and when a file was replaced. It is called on the writer thread; a listener that raises is
  logged and ignored.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from desktop.feed.events import FeedEvent
from desktop.history.files import move_aside
from desktop.history.store import PRUNE_CHUNK_ROWS, HistoryStore, is_unreadable

log = logging.getLogger(__name__)

T = TypeVar("T")
NoticeKind = Literal["failing", "recovered", "replaced"]


@dataclass(frozen=True, slots=True)
class HistoryNotice:
    """What the person using the app should be told about the history (the window's status bar shows it)."""

    kind: NoticeKind
    message: str

    @property
    def lasting(self) -> bool:
        """True while the problem lasts (show it until the next notice); False for news shown for a while."""
        return self.kind == "failing"


class StoreKeeper:
    """Holds the :class:`HistoryStore` on the writer thread (only that thread calls it)."""

    def __init__(
        self,
        factory: Callable[[], HistoryStore],
        *,
        path: Path | None,
        retry_delays: Sequence[float],
        wake: threading.Event,
        closing: Callable[[], bool],
        on_written: Callable[[int], None],
        on_dropped: Callable[[int], int],
        on_notice: Callable[[HistoryNotice], None] | None,
    ) -> None:
        self._factory = factory
        self._path = path  # known: a file found corrupt while in use can be moved aside and replaced
        self.retry_delays = tuple(retry_delays)
        self._wake = wake  # set when closing: cuts a retry delay short
        self._closing = closing
        self._on_written = on_written
        self._on_dropped = on_dropped  # returns the total dropped so far, for the notice
        self._on_notice = on_notice
        self.store: HistoryStore | None = None
        self.last_error: str | None = None
        self.given_up = False
        """A batch was given up and no write has worked since: probe, do not retry."""

    def open(self) -> bool:
        try:
            self.store = self._factory()
        except Exception as exc:
            self._failed(f"cannot open the history: {exc}")
            return False
        moved = getattr(self.store, "moved_aside", None)
        if moved is not None:
            self._notify("replaced", f"The history file could not be read ({moved[1]}): it was moved to "
                                     f"{moved[0].name} and a new history started")
        return True

    def run(self, call: Callable[[HistoryStore], T]) -> T:
        """``call(store)`` (a read), on a new file if SQLite finds the current one corrupt."""
        if self.store is None and not self.open():
            raise RuntimeError(f"the history cannot be opened: {self.last_error}")
        assert self.store is not None
        try:
            return call(self.store)
        except Exception as exc:
            if not self._replace_unreadable(exc):
                raise
        assert self.store is not None
        return call(self.store)

    def write(self, batch: list[FeedEvent], *, stopping: bool) -> None:
        """Commit ``batch``, retrying with growing delays (one attempt when probing); else give it up."""
        if not batch:
            return
        attempt = 0
        delays = () if self.given_up else self.retry_delays
        replaced = False
        while True:
            if self.store is not None or self.open():
                assert self.store is not None
                try:
                    self.store.add_many(batch)
                except Exception as exc:
                    if not replaced and self._replace_unreadable(exc):
                        replaced = True
                        continue
                    self._failed(f"cannot write to the history: {exc}")
                else:
                    self._succeeded(len(batch))
                    return
            if attempt >= len(delays) or ((stopping or self._closing()) and attempt >= 1):
                break
            self._wake.wait(delays[attempt])
            attempt += 1
        log.error("history: giving up on %d events after %d attempts: %s", len(batch), attempt + 1,
                  self.last_error)
        self.given_up = True
        dropped = self._on_dropped(len(batch))
        self._notify("failing", f"{dropped:,} events are shown but not stored in the history "
                                f"({self.last_error}); retrying")

    def prune_step(self, keep_days: float | None, keep_rows: int | None, now: float) -> bool:
        """Prune one chunk of old events; True when there is more to delete."""
        if self.store is None:
            return False
        try:
            deleted = self.store.prune(keep_days, keep_rows, now, max_rows=PRUNE_CHUNK_ROWS)
        except Exception as exc:
            log.warning("history: pruning old events failed: %s", exc)
            return False
        if deleted:
            log.info("history: pruned %d old events", deleted)
        return deleted >= PRUNE_CHUNK_ROWS

    def close(self) -> None:
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.close()
            self.store = None

    def _replace_unreadable(self, exc: BaseException) -> bool:
        """SQLite found the open file corrupt: move it aside and open a new one; True when that worked."""
        if self._path is None or self.store is None or not is_unreadable(exc):
            return False
        self.close()
        try:
            aside = move_aside(self._path)
        except OSError as move_error:
            self._failed(f"cannot move the unreadable history aside: {move_error}")
            return False
        log.error("history: %s; moved it to %s and started a new one", exc, aside.name)
        self._notify("replaced", f"The history file could not be read ({exc}): it was moved to {aside.name} "
                                 "and a new history started")
        return self.open()

    def _succeeded(self, count: int) -> None:
        recovered = self.last_error is not None
        self.last_error = None  # before the count: once flush() returns, stats show no error
        self.given_up = False
        if recovered:
            log.warning("history: writing works again")
            self._notify("recovered", "The history is being written again")
        self._on_written(count)

    def _failed(self, message: str) -> None:
        first = self.last_error is None
        self.last_error = message
        if first:  # once per failure streak, not once per retry
            log.warning("history: %s; will retry", message)
            self._notify("failing", f"{message[:1].upper()}{message[1:]}. New events are shown but not stored "
                                    "until this is fixed; retrying")
        else:
            log.debug("history: %s", message)

    def _notify(self, kind: NoticeKind, message: str) -> None:
        if self._on_notice is None:
            return
        try:
            self._on_notice(HistoryNotice(kind, message))
        except Exception:  # the listener's bug must not stop the writer
            log.exception("history: the notice listener failed")
