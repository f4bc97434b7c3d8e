"""Frames handled on the socket's reader thread (inline) or queued for the engine thread, against a real soketi.

The reader thread runs the core itself when nothing else does; when the engine thread holds the core (a timer, a
caller's request, an authorization's answer) it queues what it read instead. Either way every event arrives
once, in the order the server sent it. A batch callback that may wait (the window's back-pressure) is always
called on the engine thread, so the socket's reader never waits on it.
"""

from __future__ import annotations

import threading

import pytest
from support.engine_flow import connect, subscribe
from support.soketi import Soketi
from support.waiting import wait_until

from desktop.pusher.client import PusherClient
from desktop.pusher.core import ChannelEvent

pytestmark = pytest.mark.integration


class BatchLog:
    """An ``on_batch`` callback that keeps each delivered event's sequence number and the thread it ran on."""

    def __init__(self, channel: str, gate: threading.Event | None = None) -> None:
        self.channel = channel
        self.gate = gate
        self.waited = threading.Event()
        self._lock = threading.Lock()
        self.seqs: list[int] = []
        self.threads: set[str] = set()

    def __call__(self, events: list[ChannelEvent]) -> None:
        mine = [e.data["seq"] for e in events if e.channel == self.channel and e.event == "numbered"]
        if not mine:
            return
        if self.gate is not None and not self.waited.is_set():
            self.waited.set()
            self.gate.wait(30)  # the window's pipe waiting for the GUI thread
        with self._lock:
            self.seqs.extend(mine)
            self.threads.add(threading.current_thread().name)

    def received(self) -> list[int]:
        with self._lock:
            return list(self.seqs)


def publish(soketi: Soketi, channel: str, first: int, count: int) -> None:
    for start in range(first, first + count, 10):
        soketi.trigger_batch({"channel": channel, "name": "numbered", "data": {"seq": seq}}
                             for seq in range(start, min(start + 10, first + count)))


def hold_engine(client: PusherClient) -> threading.Event:
    """Keep the engine thread (and so the core) busy until the returned event is set."""
    release, holding = threading.Event(), threading.Event()

    def busy(_now: float) -> None:
        holding.set()
        release.wait(30)

    client._call(busy)
    wait_until(holding.is_set, message="the engine thread never ran the call")
    return release


def test_events_keep_their_order_when_the_engine_is_busy_while_frames_arrive(soketi: Soketi, make_client) -> None:
    channel = "engine-inline-order"
    client = make_client(soketi)
    log = BatchLog(channel)
    client.on_batch(log)
    recorder = connect(client)
    subscribe(client, recorder, channel)

    publish(soketi, channel, 0, 20)  # nothing holds the core: read and handled on the reader thread
    wait_until(lambda: len(log.received()) == 20, message=lambda: f"got {log.received()}")
    release = hold_engine(client)
    publish(soketi, channel, 20, 40)  # the core is busy: the reader queues these for the engine thread
    wait_until(lambda: client._queue.qsize() > 0, message="the reader queued nothing while the core was busy")
    assert len(log.received()) == 20
    release.set()
    publish(soketi, channel, 60, 40)  # may be read before the queue is drained: must not overtake it

    wait_until(lambda: len(log.received()) == 100, message=lambda: f"got {len(log.received())} of 100")
    assert log.received() == list(range(100))
    assert any(name.startswith("login-feed-ws-") for name in log.threads), log.threads
    assert "login-feed-engine" in log.threads


def test_a_callback_that_may_wait_runs_on_the_engine_thread_and_the_socket_is_still_read(
        soketi: Soketi, make_client) -> None:
    channel = "engine-inline-waits"
    client = make_client(soketi)
    gate = threading.Event()
    log = BatchLog(channel, gate)
    client.on_batch(log, may_wait=True)
    recorder = connect(client)
    subscribe(client, recorder, channel)

    publish(soketi, channel, 0, 50)
    wait_until(log.waited.is_set, message="the callback was never called")
    publish(soketi, channel, 50, 50)
    # While the callback waits, the reader goes on reading: what it reads waits in the engine's queue.
    wait_until(lambda: client._queue.qsize() > 0, message="the socket was not read while the callback waited")
    gate.set()

    wait_until(lambda: len(log.received()) == 100, message=lambda: f"got {len(log.received())} of 100")
    assert log.received() == list(range(100))
    assert log.threads == {"login-feed-engine"}


def test_closing_from_a_callback_on_the_reader_thread_does_not_wait_for_itself(
        soketi: Soketi, make_client) -> None:
    channel = "engine-inline-close"
    client = make_client(soketi)
    closed = threading.Event()

    def close_on_first(events: list[ChannelEvent]) -> None:
        if any(e.channel == channel and e.event == "numbered" for e in events) and not closed.is_set():
            client.close(timeout=120)  # would wait its whole timeout if it joined a thread blocked on it
            closed.set()

    client.on_batch(close_on_first)
    recorder = connect(client)
    subscribe(client, recorder, channel)
    publish(soketi, channel, 0, 1)

    wait_until(closed.is_set, message="close() from a callback waited for the engine")
    wait_until(client._loop.stopped.is_set, message="the engine thread did not stop")
