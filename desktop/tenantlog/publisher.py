"""The outbox publisher: stored events that are not yet published go to the feed channel as ``log-event``.

One background thread. It runs after commits (the ingest calls :meth:`Publisher.wake`, which only sets an event,
so publishing can never block or fail the ingest), reads the oldest unpublished events from the store, sends them
in Pusher batches of at most 10 (one Pusher event per log event) and flags them published. Each batch is claimed
from the store (:meth:`~desktop.tenantlog.store.EventStore.claim`), so the publishers of several replicas on one
PostgreSQL never send the same event, and one that dies mid-batch releases it to the others; the same claims let
``workers`` batches be in flight at once while a backlog drains (the server uses 2: one request at a time caps a
replica near 2,000-3,000 events/s on loopback). At start it first
drains whatever a previous run left unpublished. When Pusher is down or refuses, it waits with exponential
backoff (0.5 s doubling to 30 s) and tries the same events again: nothing is skipped or dropped. Pusher's only
per-event refusal is the 10 KB size limit, which the normaliser's trimming keeps every event under, even
encrypted. Delivery is at least once: a crash between Pusher's 200 and the flag sends that batch again, and the
desktop keeps one row per ``log_id``.

The same thread prunes the store once an hour (retention), so the server has one maintenance loop, not two.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, ThreadPoolExecutor
from typing import Any

import orjson

from desktop.signing.pusher_http import MAX_BATCH_EVENTS, TriggerError
from desktop.tenantlog.store import EventStore
from desktop.util.backoff import doubling
from desktop.util.worker import Worker

__all__ = ["EVENT_NAME", "Publisher", "backoff_delay"]

log = logging.getLogger(__name__)

EVENT_NAME = "log-event"
_IDLE_CHECK = 30.0  # seconds between outbox checks without a wake-up (e.g. another process wrote the store)
_PRUNE_EVERY = 3600.0

SendBatch = Callable[[Sequence[tuple[str, str, str]]], None]


def backoff_delay(failures: int, first: float = 0.5, most: float = 30.0) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row (1, 2, ...)."""
    return doubling(first, failures - 1, most)


class Publisher(Worker):
    """Publishes the store's outbox on a daemon thread; :meth:`publish_pending` does one pass (tests, tools)."""

    def __init__(self, store: EventStore, send_batch: SendBatch, channel: str, *, event: str = EVENT_NAME,
                 clock: Callable[[], float] = time.time, backoff: Callable[[int], float] = backoff_delay,
                 idle_check: float = _IDLE_CHECK, prune_every: float = _PRUNE_EVERY, workers: int = 1) -> None:
        """``workers``: Pusher requests in flight at once while a backlog drains (each claims its own batch, so
        none is sent twice); 1 keeps the channel in exact order of arrival."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        super().__init__("tenant-log-publisher")
        self.store = store
        self._workers = workers
        self._helpers = ThreadPoolExecutor(workers - 1, "tenant-log-publisher") if workers > 1 else None
        self._count = threading.Lock()
        self.channel = channel
        self.event = event
        self._send = send_batch
        self._clock = clock
        self._backoff = backoff
        self._idle_check = idle_check
        self._prune_every = prune_every
        self.published = 0  #: events published since start (for logs and tests)
        self.failures = 0  #: failed attempts in the current streak

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current request (a Pusher request takes at most its timeout); unpublished events stay
        in the store for the next start."""
        super().stop(timeout)
        if self._helpers is not None:
            self._helpers.shutdown(wait=False, cancel_futures=True)

    def publish_pending(self) -> int:
        """Publish everything unpublished now; how many were sent. Raises :class:`TriggerError` on the first
        refused batch (that batch and the later ones stay unpublished). A backlog (a first batch that was full)
        drains with ``workers`` requests in flight."""
        if self._helpers is None:
            return self._drain()
        sent = self._drain(batches=1)
        if sent < MAX_BATCH_EVENTS:
            return sent
        helpers = [self._helpers.submit(self._drain) for _ in range(self._workers - 1)]
        errors: list[Exception] = []
        try:
            sent += self._drain()
        except Exception as exc:
            errors.append(exc)
        for helper in helpers:  # all finish (on an empty outbox or their own failure) before this pass ends
            try:
                sent += helper.result()
            except CancelledError:
                pass
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return sent

    def _drain(self, batches: int | None = None) -> int:
        sent = 0
        while not self._stopping and (batches is None or sent < batches * MAX_BATCH_EVENTS):
            with self.store.claim(MAX_BATCH_EVENTS) as events:  # flagged when the block ends without raising
                if events:
                    self._send([(self.channel, self.event, _encode(e)) for e in events])
            if not events:
                break
            sent += len(events)
            with self._count:
                self.published += len(events)
        return sent

    def _run(self) -> None:
        next_prune = self._clock()
        while not self._stopping:
            self._wake.clear()
            delay = self._idle_check
            try:
                sent = self.publish_pending()
            except TriggerError as exc:
                self.failures += 1
                delay = self._backoff(self.failures)
                if self.failures == 1 or self.failures % 20 == 0:
                    log.warning("cannot publish the tenant log to %s (%s); attempt %d, retrying in %.1f s",
                                self.channel, exc, self.failures, delay)
            except Exception:  # the store failed (disk full, locked): keep the thread alive and retry
                self.failures += 1
                delay = self._backoff(self.failures)
                log.exception("the tenant-log publisher failed; retrying in %.1f s", delay)
            else:
                if self.failures:
                    log.info("publishing the tenant log again after %d failed attempts (%d events sent)",
                             self.failures, sent)
                self.failures = 0
            if self._clock() >= next_prune:
                next_prune = self._clock() + self._prune_every
                self._prune()
            if self.failures:
                self._sleep(delay)  # a wake-up must not cut a backoff short
            else:
                self._wake.wait(delay)

    def _prune(self) -> None:
        try:
            removed = self.store.prune(self._clock())
        except Exception:
            log.exception("pruning the tenant log failed")
            return
        if removed:
            log.info("retention: removed %d tenant-log events", removed)


def _encode(event: dict[str, Any]) -> str:
    return orjson.dumps(event).decode("utf-8")
