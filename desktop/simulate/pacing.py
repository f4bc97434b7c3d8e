"""Pacing ``login-feed simulate``: how many events per request, when to send them, how many in flight.

:func:`run` paces batches with a :class:`TokenBucket`, keeps a few requests in flight on a small thread pool
(each through :class:`~desktop.simulate.publisher.Publisher`), reports progress about once a second
(:class:`Progress`) and always waits for what is in flight before it returns. Pure apart from the pool and
the clock, which are passed in.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import TextIO

from desktop.signing.pusher_http import scrubbed
from desktop.simulate.people import Event
from desktop.simulate.publisher import MAX_BATCH, Publisher, PublishFailed, PublishRefused, encode_batch

__all__ = ["DEFAULT_CONCURRENCY", "Outcome", "Progress", "TokenBucket", "batch_size_for", "run"]

DEFAULT_CONCURRENCY = 4
_SLICE = 0.25  # longest uninterrupted wait of the main loop: signals and progress stay responsive


def batch_size_for(rate: float) -> int:
    """Events per request: full batches when fast (or unlimited); at low rates fewer, so a demo trickles
    evenly instead of arriving in bursts of ten (at most ~10 requests/s below 100 events/s)."""
    if rate <= 0:
        return MAX_BATCH
    return max(1, min(MAX_BATCH, int(rate // 10)))


class TokenBucket:
    """Paces events to ``rate`` per second on a monotonic ``clock``; bursts up to ``capacity`` events.

    :meth:`reserve` takes the tokens at once (the bucket may go into debt) and says how long to wait
    before using them, so waits add up exactly to the rate however they are sliced.
    """

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError("rate must be a positive number of events per second")
        if capacity < 1:
            raise ValueError("capacity must be at least one event")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self._tokens = self.capacity
        self._last = clock()

    def reserve(self, events: int) -> float:
        """Take ``events`` tokens; return the seconds to wait before sending them (0 when available now)."""
        if events > self.capacity:
            raise ValueError("cannot reserve more events than the bucket holds")
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= events
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


@dataclass(frozen=True)
class Outcome:
    """How a run ended: counts, duration, and why it stopped early (if it did)."""

    sent: int
    failed: int
    elapsed: float
    stopped: bool  # asked to stop (a signal) before the count was reached
    error: str | None  # a refusal or "gave up": the run could not go on

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


class Progress:
    """About once a second: sent, failed and the rate achieved, on one line (rewritten in place on a TTY)."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, live: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval
        self._clock = clock
        self._live = self._stream.isatty() if live is None else live
        self._start = self._last = clock()
        self._last_sent = 0
        self._dirty = False

    def start(self) -> None:
        self._start = self._last = self._clock()

    def tick(self, sent: int, failed: int, last_failure: str = "") -> None:
        now = self._clock()
        if now - self._last < self._interval:
            return
        recent = (sent - self._last_sent) / (now - self._last)
        overall = sent / (now - self._start) if now > self._start else 0.0
        self._last, self._last_sent = now, sent
        text = f"simulate: {sent} sent, {failed} failed, {recent:.0f} events/s now, {overall:.0f} events/s overall"
        if failed and last_failure:
            text += f" (last failure: {last_failure})"
        if self._live:
            self._stream.write(f"\r\x1b[K{text}")
            self._dirty = True
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def line(self, text: str) -> None:
        """A line of its own (e.g. the summary), after any in-place progress line."""
        if self._dirty:
            self._stream.write("\n")
            self._dirty = False
        self._stream.write(text + "\n")
        self._stream.flush()


def run(events: Iterator[Event], publisher: Publisher, channel: str, *, stop: threading.Event, rate: float = 0.0,
        count: int | None = None, concurrency: int = DEFAULT_CONCURRENCY,
        encrypt: Callable[[str], str] | None = None, progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic, max_failed_in_a_row: int = 5) -> Outcome:
    """Publish ``count`` events (None: until ``stop`` is set) at ``rate`` events/s (0: as fast as possible).

    Batches go out on a pool of ``concurrency`` threads. Setting ``stop`` ends the run after the requests in
    flight are done; a refusal, or ``max_failed_in_a_row`` batches failing one after the other, ends it with
    :attr:`Outcome.error` set.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if count is not None and count < 0:
        raise ValueError("count must not be negative")
    runner = _Runner(publisher, stop=stop, concurrency=concurrency, progress=progress, clock=clock,
                     max_failed_in_a_row=max_failed_in_a_row)
    return runner.run(events, channel, rate=rate, count=count, encrypt=encrypt)


class _Runner:
    """The state of one :func:`run`: counters shared with the pool's threads, under one lock."""

    def __init__(self, publisher: Publisher, *, stop: threading.Event, concurrency: int,
                 progress: Progress | None, clock: Callable[[], float], max_failed_in_a_row: int) -> None:
        self._publisher = publisher
        self._stop = stop
        self._concurrency = concurrency
        self._progress = progress
        self._clock = clock
        self._max_failed_in_a_row = max_failed_in_a_row
        self._slots = threading.Semaphore(concurrency)
        self._lock = threading.Lock()
        self._pending: set[Future[None]] = set()
        self._sent = 0
        self._failed = 0
        self._failed_in_a_row = 0
        self._last_failure = ""
        self._error: str | None = None

    def run(self, events: Iterator[Event], channel: str, *, rate: float, count: int | None,
            encrypt: Callable[[str], str] | None) -> Outcome:
        size = batch_size_for(rate)
        bucket = TokenBucket(rate, capacity=size, clock=self._clock) if rate > 0 else None
        produced = 0
        started = self._clock()
        if self._progress is not None:
            self._progress.start()
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="simulate") as pool:
            while not self._stop.is_set() and (count is None or produced < count):
                n = size if count is None else min(size, count - produced)
                if bucket is not None and not self._pause(bucket.reserve(n)):
                    break
                if not self._take_slot():
                    break
                body = encode_batch(channel, [next(events) for _ in range(n)], encrypt)
                produced += n
                future = pool.submit(self._publisher.send, body)
                with self._lock:
                    self._pending.add(future)
                future.add_done_callback(partial(self._finished, events_in_batch=n))
                self._tick()
            self._drain()
        with self._lock:
            return Outcome(sent=self._sent, failed=self._failed, elapsed=self._clock() - started,
                           stopped=self._stop.is_set() and self._error is None, error=self._error)

    def _tick(self) -> None:
        if self._progress is not None:
            with self._lock:
                sent, failed, last = self._sent, self._failed, self._last_failure
            self._progress.tick(sent, failed, last)

    def _pause(self, seconds: float) -> bool:
        """Wait (in slices, showing progress); False when stopped meanwhile."""
        deadline = self._clock() + seconds
        while (left := deadline - self._clock()) > 0:
            if self._stop.wait(min(left, _SLICE)):
                return False
            self._tick()
        return not self._stop.is_set()

    def _take_slot(self) -> bool:
        """Wait for room in flight; False when stopped meanwhile."""
        while not self._slots.acquire(timeout=_SLICE):
            self._tick()
            if self._stop.is_set():
                return False
        if self._stop.is_set():
            self._slots.release()
            return False
        return True

    def _drain(self) -> None:
        """Let what is in flight finish (the publisher's timeouts and retries bound this)."""
        while True:
            with self._lock:
                waiting = list(self._pending)
            if not waiting:
                return
            wait(waiting, timeout=_SLICE, return_when=FIRST_COMPLETED)
            self._tick()

    def _fail(self, message: str) -> None:
        """The run cannot go on (caller holds the lock): remember the first reason and stop."""
        self._error = self._error or message
        self._stop.set()

    def _finished(self, future: Future[None], events_in_batch: int) -> None:
        """Runs on a pool thread (or at once if already done): count the batch and free its slot."""
        try:
            future.result()
        except PublishRefused as exc:
            with self._lock:
                self._failed += events_in_batch
                self._fail(str(exc))
        except PublishFailed as exc:
            with self._lock:
                self._failed += events_in_batch
                self._failed_in_a_row += 1
                self._last_failure = str(exc)
                if self._failed_in_a_row >= self._max_failed_in_a_row:
                    self._fail(f"gave up after {self._failed_in_a_row} batches in a row failed (last: {exc}); "
                               f"is the Pusher HTTP API at {self._publisher.url} reachable?")
        except Exception as exc:  # a bug: stop rather than spin
            with self._lock:
                self._failed += events_in_batch
                self._fail(f"unexpected {type(exc).__name__} while publishing: {scrubbed(str(exc))}")
        else:
            with self._lock:
                self._sent += events_in_batch
                self._failed_in_a_row = 0
        finally:
            with self._lock:
                self._pending.discard(future)
            self._slots.release()
