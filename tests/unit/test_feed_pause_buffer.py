"""Pause/Resume's promise, without Qt: every event that waited arrives on release, in order, within the cap."""

from __future__ import annotations

from desktop.feed.events import FeedEvent
from desktop.feed.pause_buffer import PauseBuffer


def event(n: int) -> FeedEvent:
    return FeedEvent(event="user-loggedIn", channel="private-login-feed", type="login",
                     received_at="2026-11-21T13:30:20.000Z", data={"n": n}, user_id=f"auth0|{n}")


def test_held_events_come_back_in_order_and_the_buffer_empties() -> None:
    buffer = PauseBuffer(max_rows=10)
    first, second, third = event(1), event(2), event(3)
    buffer.hold([first])
    buffer.hold([second, third])
    assert buffer.waiting == 3
    assert buffer.release() == [first, second, third]
    assert buffer.waiting == 0
    assert buffer.release() == []


def test_the_cap_drops_the_oldest_but_the_count_says_how_many_arrived() -> None:
    buffer = PauseBuffer(max_rows=2)
    events = [event(n) for n in range(5)]
    buffer.hold(events)
    assert buffer.waiting == 5
    assert buffer.release() == events[-2:]


def test_a_folded_row_takes_the_place_of_the_one_waiting() -> None:
    buffer = PauseBuffer(max_rows=10)
    old, other, new = event(1), event(2), event(3)
    buffer.hold([old, other])
    buffer.replace(old, new)
    assert buffer.release() == [new, other]
    buffer.hold([old])
    buffer.clear()
    assert (buffer.waiting, buffer.release()) == (0, [])
