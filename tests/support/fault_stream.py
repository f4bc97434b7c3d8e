"""A numbered stream of events through a real server, and who received what when: for the fault suite.

A :class:`Publisher` thread triggers ``tick`` events numbered 0, 1, 2 ... through the server's HTTP API and
remembers which ones the server accepted. :class:`Arrivals` records, for one subscriber, each number and the
monotonic time it arrived; our engine feeds it from ``on_batch``, pusher-js (:class:`PusherJsSubscriber`,
``bench/pusherjs_subscriber.mjs`` under Node) from its stdout. :func:`restart_figures` then measures, around
one server restart, the gap in the stream, the time from "server ready" to the first event, and the events
the server accepted but the subscriber never got.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO

import pusher.errors
import requests

from desktop.pusher.core import ChannelEvent
from support.engine import close_sdk_client, sdk_client
from support.server_process import find_node
from support.soketi import REPO_ROOT, Soketi

PUSHERJS_SUBSCRIBER = REPO_ROOT / "bench" / "pusherjs_subscriber.mjs"
EVENT = "tick"


class Arrivals:
    """Event numbers in the order they arrived, with the monotonic time of arrival."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._numbers: list[int] = []
        self._times: list[float] = []

    def add(self, numbers: list[int], at: float) -> None:
        with self._lock:
            self._numbers += numbers
            self._times += [at] * len(numbers)

    def on_batch(self, events: list[ChannelEvent]) -> None:
        """``client.on_batch`` callback for our engine."""
        numbers = [e.data["n"] for e in events if e.event == EVENT and isinstance(e.data, dict)]
        if numbers:
            self.add(numbers, time.monotonic())

    def snapshot(self) -> tuple[list[int], list[float]]:
        with self._lock:
            return list(self._numbers), list(self._times)

    def count_after(self, moment: float) -> int:
        with self._lock:
            return sum(1 for t in self._times if t > moment)


class Publisher:
    """Triggers numbered events every ``interval`` s on one thread until stopped; a failed trigger is skipped."""

    def __init__(self, server: Soketi, channel: str, interval: float = 0.02) -> None:
        self._sdk = sdk_client(server)
        self._channel = channel
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.accepted: list[int] = []
        self._thread = threading.Thread(target=self._run, name="fault-publisher", daemon=True)

    def __enter__(self) -> Publisher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(30)
        close_sdk_client(self._sdk)

    def accepted_numbers(self) -> list[int]:
        with self._lock:
            return list(self.accepted)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            try:
                self._sdk.trigger(self._channel, EVENT, {"n": n})
            except (requests.RequestException, pusher.errors.PusherError):
                pass  # the server is down or draining: this number was never accepted
            else:
                with self._lock:
                    self.accepted.append(n)
            n += 1
            self._stop.wait(self._interval)  # pacing the stream, not waiting for a result


class PusherJsSubscriber:
    """pusher-js 8.6 under Node, subscribed to ``channel``; its events land in :attr:`arrivals`."""

    def __init__(self, server: Soketi, channel: str) -> None:
        node = find_node("the pusher-js subscriber", RuntimeError)
        self.arrivals = Arrivals()
        self.stderr: list[str] = []
        self.process = subprocess.Popen(
            [node, str(PUSHERJS_SUBSCRIBER), str(server.port), channel, EVENT],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT,
            text=True, encoding="utf-8", errors="replace", start_new_session=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._threads = [threading.Thread(target=self._read_events, args=(self.process.stdout,), daemon=True),
                         threading.Thread(target=self._read_stderr, args=(self.process.stderr,), daemon=True)]
        for thread in self._threads:
            thread.start()

    @property
    def subscribed(self) -> bool:
        return "SUBSCRIBED" in list(self.stderr)

    def _read_events(self, pipe: IO[str]) -> None:
        for line in pipe:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                self.arrivals.add([json.loads(line)["n"]], time.monotonic())

    def _read_stderr(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.stderr.append(line.rstrip("\n"))

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for thread in self._threads:
            thread.join(5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@dataclass(frozen=True)
class Restart:
    """One server restart: when the server went down and when it answered ``/ready`` again."""

    down_at: float
    ready_at: float


@dataclass(frozen=True)
class RestartFigures:
    recovery: float | None  # server ready -> first event received (None: nothing received after it)
    gap: float | None  # last event received before the restart -> first event after it
    lost: int  # events the server accepted in that gap that never arrived


def restart_figures(arrivals: Arrivals, accepted: list[int], restart: Restart) -> RestartFigures:
    numbers, times = arrivals.snapshot()
    received = set(numbers)
    before = [(n, t) for n, t in zip(numbers, times, strict=True) if t <= restart.down_at]
    after = [(n, t) for n, t in zip(numbers, times, strict=True) if t > restart.ready_at]
    if not after:
        return RestartFigures(None, None, 0)
    last_n, last_t = before[-1] if before else (-1, restart.down_at)
    first_n, first_t = after[0]
    lost = sum(1 for n in accepted if last_n < n < first_n and n not in received)
    return RestartFigures(first_t - restart.ready_at, first_t - last_t, lost)


def figures_row(label: str, figures: list[RestartFigures]) -> str:
    """``label | restarts | recovered | recovery median/max | gap median/max | events lost`` as a table row."""
    recovered = [f for f in figures if f.recovery is not None]
    recovery = [f.recovery for f in recovered if f.recovery is not None]
    gaps = [f.gap for f in recovered if f.gap is not None]

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} / {max(values):.2f}" if values else "-"

    lost = [f.lost for f in recovered]
    lost_text = f"{sum(lost)} ({statistics.median(lost):g} median)" if lost else "-"
    return (f"| {label} | {len(figures)} | {len(recovered)} | {spread(recovery)} | {spread(gaps)} | "
            f"{lost_text} |")


TABLE_HEADER = ("| client, fault | restarts | recovered | server ready → first event, s (median / max) | "
                "gap in the stream, s (median / max) | events lost (total) |\n|---|---|---|---|---|---|")


def wait_for_event_after(arrivals: Arrivals, moment: float, timeout: float) -> bool:
    """True once an event arrived after ``moment``; False after ``timeout`` s (a figure, not a failure)."""
    deadline = time.monotonic() + timeout
    while arrivals.count_after(moment) == 0:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True
