"""The chat input's verdict before sending, without Qt: counter, warning, refusal, and why Send is off."""

from __future__ import annotations

from desktop.chat.input_state import WARN_SHARE, input_state
from desktop.chat.messages import outgoing_size
from desktop.pusher.protocol import MAX_EVENT_DATA_BYTES


def test_empty_short_close_and_too_long() -> None:
    empty = input_state("", "Ada", "to the team", "")
    assert (empty.counter, empty.tone, empty.can_send) == ("", "quiet", False)
    assert empty.tooltip == "Send to the team (Enter)"

    short = input_state("hello", "Ada", "to the team", "")
    assert short.counter == f"{outgoing_size('hello', 'Ada'):,} of {MAX_EVENT_DATA_BYTES:,} bytes"
    assert (short.tone, short.can_send) == ("quiet", True)

    close = "x" * int(WARN_SHARE * MAX_EVENT_DATA_BYTES)
    state = input_state(close, "Ada", "to the team", "")
    assert (state.tone, state.can_send) == ("warning", True)
    assert "close to the 10 KB limit" in state.counter

    too_long = input_state("x" * MAX_EVENT_DATA_BYTES, "Ada", "to the team", "")
    assert (too_long.tone, too_long.can_send) == ("error", False)
    assert too_long.tooltip == too_long.counter


def test_without_a_sender_the_reason_is_the_tooltip() -> None:
    state = input_state("hello", "Ada", None, "Not connected")
    assert (state.can_send, state.tooltip, state.tone) == (False, "Not connected", "quiet")
