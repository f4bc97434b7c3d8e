"""The feed pipe between the engine thread and the window: bounded, sliced, and nothing received is lost.

The engine side runs on a real thread, as in the app; the GUI side is this test's event loop, which the test
holds still (by not processing events) to play a stalled window.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from support.waiting import wait_until

from desktop.feed.events import FeedEvent
from desktop.feed.panel import FeedPanel
from desktop.feed.pipe import FeedPipe
from desktop.pusher.types import ChannelEvent

CHANNEL = "private-login-feed"
NOW = 1_795_237_262.0


def channel_events(numbers: range) -> list[ChannelEvent]:
    return [ChannelEvent(CHANNEL, "user-loggedIn", {"v": 1, "type": "login", "user_id": f"auth0|{n}"}, None, NOW)
            for n in numbers]


def ids(rows: list[FeedEvent]) -> list[str | None]:
    return [row.user_id for row in rows]


class Engine:
    """``on_batch`` called on a thread of its own, batch after batch, as the engine thread does."""

    def __init__(self, pipe: FeedPipe, batches: list[list[ChannelEvent]]) -> None:
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(pipe, batches), name="test-engine", daemon=True)
        self.thread.start()

    def _run(self, pipe: FeedPipe, batches: list[list[ChannelEvent]]) -> None:
        try:
            for batch in batches:
                pipe.on_batch(batch)
        finally:
            self.done.set()


@pytest.fixture
def pipe(qtbot) -> Iterator[FeedPipe]:
    stored: list[FeedEvent] = []
    made = FeedPipe(CHANNEL, persist=stored.extend, max_pending=100, max_batch=30)
    made.stored = stored  # type: ignore[attr-defined]
    try:
        yield made
    finally:
        made.close()  # never leave an engine thread waiting
        made.deleteLater()


def test_a_stalled_window_makes_the_engine_wait_and_every_row_arrives_in_order_in_slices(qtbot, pipe) -> None:
    panel = FeedPanel()
    qtbot.addWidget(panel)
    panel.set_paused(True)  # pause still buffers everything the pipe hands over
    slices: list[int] = []
    pipe.feed_events.connect(lambda rows: slices.append(len(rows)))
    pipe.feed_events.connect(panel.add_events)

    engine = Engine(pipe, [channel_events(range(start, start + 250)) for start in range(0, 1000, 250)])
    # The window does not run its event loop here: the pipe fills up to its bound, and there the engine waits.
    wait_until(lambda: pipe.pending_count == 100, 10, message=lambda: f"{pipe.pending_count} pending")
    assert not engine.done.is_set()
    assert ids(pipe.stored) == [f"auth0|{n}" for n in range(250)]  # the history got the whole batch at once
    assert pipe.pending_count == 100

    # The window runs again: every row arrives, in order, a bounded slice at a time.
    qtbot.waitUntil(lambda: panel.buffered_count == 1000, timeout=10_000)
    assert engine.done.wait(10)
    engine.thread.join(10)
    assert max(slices) <= 30 and sum(slices) == 1000
    assert ids(pipe.stored) == [f"auth0|{n}" for n in range(1000)]
    panel.set_paused(False)
    assert ids(panel.model.events()) == [f"auth0|{n}" for n in range(999, -1, -1)]


def test_closing_the_pipe_frees_a_waiting_engine_and_flush_now_delivers_everything(qtbot, pipe) -> None:
    received: list[FeedEvent] = []
    pipe.feed_events.connect(received.extend)
    engine = Engine(pipe, [channel_events(range(250))])
    wait_until(lambda: pipe.pending_count == 100, 10, message=lambda: f"{pipe.pending_count} pending")
    assert not engine.done.is_set()

    pipe.close()  # what the window does before it stops the engine: the engine must not wait for it
    assert engine.done.wait(10)
    engine.thread.join(10)
    assert pipe.pending_count == 250
    pipe.flush_now()
    assert ids(received) == [f"auth0|{n}" for n in range(250)]
    assert pipe.pending_count == 0


def test_the_bounds_must_be_positive(qtbot) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FeedPipe(CHANNEL, max_pending=0)
