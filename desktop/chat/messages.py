"""Chat messages: what arrives on the chat channel, what we may send, and how our own echoes are recognised.

Pure: no Qt, no sockets, no clock of its own (callers pass times in). The wire format is the original chat
sample's: the event ``message-added`` carrying ``{"message": ..., "name": ...}``. We add an ``id`` (a
client-generated random hex string) to what we send; servers and clients that do not know it ignore it.

Own messages are shown once, whatever the send mode:

* **client events** are never echoed to their sender, so the sender shows its own message itself (pending
  until the engine sent it, then sent, or failed with the reason);
* **the message endpoint** makes the server trigger ``message-added`` to everyone, *including* the sender.
  The sender still shows its message at once (pending), and :class:`EchoFilter` recognises the echo and
  drops it: by our ``id`` when the server passes it through, else by the same ``(name, message)`` arriving
  within :data:`ECHO_WINDOW_SECONDS` of sending (the original sample server forwards only ``message`` and
  ``name``). The endpoint is also sent our ``socket_id``: a server that hands it to Pusher's trigger
  excludes us and no echo comes at all; the expectation then simply expires.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from desktop.pusher.protocol import MAX_EVENT_DATA_BYTES, encoded_size
from desktop.util.text import lines as safe_lines
from desktop.util.text import one_line

log = logging.getLogger("desktop.chat")

CLIENT_EVENT_PREFIX = "client-"
#: Longest text drawn in a row; the whole text (up to MAX_STORED_CHARS) stays available for copying.
MAX_DISPLAY_CHARS = 2000
#: Most lines drawn in a row (a message of 5,000 line breaks must not become a screen-high row).
MAX_DISPLAY_LINES = 30
#: Longest text kept at all: a hostile server could send megabytes, the chat keeps 2,000 messages.
MAX_STORED_CHARS = 64 * 1024
MAX_NAME_CHARS = 80
MAX_ID_CHARS = 64
#: How long an own message sent through the endpoint waits for its echo (matched by id or by name and text).
ECHO_WINDOW_SECONDS = 15.0
#: The id we measure with before a real one exists: every id we generate has this length.
_ID_BYTES = 16
SAMPLE_ID = "0" * (2 * _ID_BYTES)

_ELLIPSIS = "…"
_NO_NAME = "(no name)"
# Text keeps its line breaks, names are one line (desktop.util.text's policy for everything else).
_ID_CHARS = re.compile(r"[A-Za-z0-9_.:\-]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def new_message_id() -> str:
    """A random id for a message we send (32 hex characters)."""
    return secrets.token_hex(_ID_BYTES)


def client_event_name(event: str) -> str:
    """The client-event form of ``event``: Pusher only relays client events named ``client-...``."""
    return event if event.startswith(CLIENT_EVENT_PREFIX) else CLIENT_EVENT_PREFIX + event


def clean_name(name: str) -> str:
    """A sender name as one printable line of at most MAX_NAME_CHARS characters."""
    shown = " ".join(one_line(name).split())
    if len(shown) > MAX_NAME_CHARS:
        shown = shown[:MAX_NAME_CHARS - 1] + _ELLIPSIS
    return shown or _NO_NAME


def display_text(text: str) -> str:
    """``text`` as drawn in the chat: printable, at most MAX_DISPLAY_CHARS and MAX_DISPLAY_LINES."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    clipped = len(text) > MAX_DISPLAY_CHARS
    if clipped:
        text = text[:MAX_DISPLAY_CHARS]
    lines = text.split("\n")
    if len(lines) > MAX_DISPLAY_LINES:
        lines = lines[:MAX_DISPLAY_LINES]
        clipped = True
    text = safe_lines("\n".join(lines))
    if clipped:
        return f"{text.rstrip()} {_ELLIPSIS} (shortened; copy the message to see all of it)"
    return text


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat line. ``text`` is the whole message (for copying); ``display`` is what a row draws.

    Everything here came from a person or the network: show it as plain text only.
    """

    id: str
    name: str
    text: str
    at: float
    own: bool = False
    pending: bool = False
    failed: str | None = None
    display: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "display", display_text(self.text))


def outgoing_payload(text: str, name: str, message_id: str = SAMPLE_ID) -> dict[str, str]:
    """Exactly what we send: the sample's ``{message, name}`` plus our ``id``."""
    return {"message": text, "name": name, "id": message_id}


def check_outgoing(text: str, name: str, message_id: str = SAMPLE_ID) -> str | None:
    """Why ``text`` cannot be sent, in words for a person; None when it can.

    The size is that of the encoded payload as it will go out (JSON escapes and all), against Pusher's
    limit of 10 KB per event.
    """
    if not text.strip():
        return "The message is empty."
    if _SURROGATE.search(text) or _SURROGATE.search(name):
        return "The message contains a broken character (a lone UTF-16 surrogate); retype or remove it."
    size = outgoing_size(text, name, message_id)
    if size <= MAX_EVENT_DATA_BYTES:
        return None
    over = size - MAX_EVENT_DATA_BYTES
    bytes_per_char = max(1.0, (_json_bytes(text) - 2) / len(text))  # the text's own bytes, quotes aside
    chars = max(1, math.ceil(over / bytes_per_char))
    return (f"Too long to send: {size:,} bytes, and a chat message can carry at most "
            f"{MAX_EVENT_DATA_BYTES:,} bytes (Pusher's 10 KB limit). "
            f"Shorten it by about {chars:,} character{'s' if chars != 1 else ''}.")


def outgoing_size(text: str, name: str, message_id: str = SAMPLE_ID) -> int:
    """Bytes the payload for ``text`` takes on the wire (as the engine measures it)."""
    return _json_bytes(outgoing_payload(text, name, message_id))


def _json_bytes(value: Any) -> int:
    try:
        return encoded_size(value if not isinstance(value, str) else [value]) - (2 if isinstance(value, str) else 0)
    except UnicodeEncodeError:  # lone surrogates: check_outgoing refuses them; count them as 3 bytes here
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


_local_ids = itertools.count(1)


def _local_id() -> str:
    """An id for a message that came without a usable one (never collides with ours: those are hex)."""
    return f"in-{next(_local_ids)}"


def parse_message(event_name: str, data: Any, received_at: float) -> ChatMessage | None:
    """A chat message from an event's data (an object, or JSON text of one); None, logged, if unusable."""
    reason = _problem(data)
    if isinstance(reason, str):
        log.warning("ignored a %r event on the chat: %s", event_name, reason)
        return None
    payload = reason
    text = payload["message"]
    if len(text) > MAX_STORED_CHARS:
        text = text[:MAX_STORED_CHARS] + _ELLIPSIS
    name = payload.get("name")
    raw_id = payload.get("id")
    message_id = (raw_id if isinstance(raw_id, str) and len(raw_id) <= MAX_ID_CHARS and _ID_CHARS.fullmatch(raw_id)
                  else _local_id())
    return ChatMessage(message_id, clean_name(name or ""), text, received_at)


def _problem(data: Any) -> str | dict[str, Any]:
    """The payload as a dict, or why it cannot be one."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return "the data is text, not a JSON object"
    if not isinstance(data, dict):
        return f"the data is a JSON {type(data).__name__}, expected an object with 'message' and 'name'"
    text = data.get("message")
    if not isinstance(text, str):
        return ("no 'message' field" if text is None
                else f"'message' is a {type(text).__name__}, expected a string")
    if not text.strip():
        return "the message is empty"
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        return f"'name' is a {type(name).__name__}, expected a string"
    return data


class EchoFilter:
    """Own messages sent through the endpoint, waiting for the server to send them back to us.

    ``expect`` when sending; ``take`` each incoming message: it returns the id of the own message it echoes
    (and forgets it) or None. Matching is by id first, then by the same name and text within the window.
    """

    def __init__(self, window: float = ECHO_WINDOW_SECONDS) -> None:
        self.window = window
        self._expected: OrderedDict[str, tuple[str, str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expected)

    def expect(self, message_id: str, name: str, text: str, now: float) -> None:
        self._expected.pop(message_id, None)
        self._expected[message_id] = (clean_name(name), text, now)

    def forget(self, message_id: str) -> None:
        self._expected.pop(message_id, None)

    def take(self, message: ChatMessage, now: float) -> str | None:
        self._expire(now)
        if message.id in self._expected:
            del self._expected[message.id]
            return message.id
        for message_id, (name, text, _sent) in self._expected.items():
            if name == message.name and text == message.text:
                del self._expected[message_id]
                return message_id
        return None

    def _expire(self, now: float) -> None:
        while self._expected:
            message_id, (_name, _text, sent) = next(iter(self._expected.items()))
            if now - sent <= self.window:
                break
            del self._expected[message_id]
