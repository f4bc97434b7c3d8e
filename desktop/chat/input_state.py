"""What the chat input says before anything is sent: the byte counter, its warning, and whether Send works.

A pure core (no Qt): the panel only paints :class:`InputState` (a ``tone`` becomes the palette's colour), so the
rules for a message that is empty, too long, close to the limit or without a sender are one small function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from desktop.chat.messages import check_outgoing, outgoing_size
from desktop.pusher.protocol import MAX_EVENT_DATA_BYTES

__all__ = ["WARN_SHARE", "InputState", "input_state"]

#: The byte counter turns into a warning from this share of the limit on.
WARN_SHARE = 0.9


@dataclass(frozen=True)
class InputState:
    counter: str  #: the line under the input ("" while it is empty)
    tone: Literal["quiet", "warning", "error"]
    can_send: bool
    tooltip: str  #: the Send button's: why not, or what Enter does


def input_state(text: str, name: str, sender: str | None, no_sender_reason: str) -> InputState:
    """``text`` (stripped) sent as ``name`` through the sender described by ``sender`` (None: no sender, with
    ``no_sender_reason`` shown instead)."""
    size = outgoing_size(text, name) if text else 0
    reason = check_outgoing(text, name) if text else None
    if not text:
        counter, tone = "", "quiet"
    elif reason is not None:
        counter, tone = reason, "error"
    elif size >= WARN_SHARE * MAX_EVENT_DATA_BYTES:
        counter = f"{size:,} of {MAX_EVENT_DATA_BYTES:,} bytes: close to the 10 KB limit of a chat message."
        tone = "warning"
    else:
        counter, tone = f"{size:,} of {MAX_EVENT_DATA_BYTES:,} bytes", "quiet"
    if sender is None:
        tooltip = no_sender_reason
    elif reason is not None:
        tooltip = reason
    else:
        tooltip = f"Send {sender} (Enter)"
    return InputState(counter, tone, bool(text) and reason is None and sender is not None, tooltip)
