"""Pusher protocol 7 codec: frames in and out, the URL, and what a close code asks of us.

Pure: no sockets, no clock. Decoding is tolerant the way pusher-js's is, because real servers differ:
Pusher double-encodes ``data`` as a JSON string, soketi sends objects or leaves ``data`` out.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from desktop.pusher.errors import PusherError

PROTOCOL_VERSION = 7
CLIENT_NAME = "python-login-feed"

#: Largest ``data`` Pusher accepts in one event (client events and the HTTP API).
MAX_EVENT_DATA_BYTES = 10 * 1024
#: Largest frame we decode. Presence rosters can be big (100 members of up to 1-2 KB); anything past this is
#: hostile or broken and is dropped before it costs us a parse.
MAX_FRAME_BYTES = 1024 * 1024

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _loads(raw: bytes | str) -> Any:
    """orjson on the hot path (many times faster); the standard library where orjson would change the data.

    orjson refuses lone surrogates and NaN, which Python's json accepts, and reads integers beyond 64 bits
    as floats (losing digits). So a float in orjson's result sends the text to the standard library, which
    keeps such integers exact; payloads without floats (nearly all) never pay for that check twice.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
    return json.loads(raw) if _has_float(value) else value


def _has_float(value: Any) -> bool:
    # A plain loop, not any() over a generator: this runs twice per frame, and the generator cost 3x more.
    kind = type(value)
    if kind is dict:
        values: Any = value.values()
    elif kind is list:
        values = value
    else:
        return kind is float
    for item in values:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list) and _has_float(item)):
            return True
    return False


class ProtocolError(PusherError, ValueError):
    """A frame we cannot make sense of. The connection stays up; the frame is dropped."""


@dataclass(slots=True, frozen=True)
class Frame:
    """One decoded Pusher message. ``data`` is JSON-decoded when it was JSON text, else as sent."""

    event: str
    channel: str | None = None
    data: Any = None
    user_id: str | None = None


def decode_frame(raw: bytes | str) -> Frame:
    """Decode one text frame; raise :class:`ProtocolError` for anything that is not a Pusher message."""
    if len(raw) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(raw)} bytes exceeds the {MAX_FRAME_BYTES}-byte cap")
    try:
        message = _loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    if type(message) is not dict:
        raise ProtocolError(f"frame is a JSON {type(message).__name__}, expected an object")
    event = message.get("event")
    if type(event) is not str or not event:
        raise ProtocolError("frame has no event name")
    channel = message.get("channel")
    if channel is not None and type(channel) is not str:
        raise ProtocolError("frame's channel is not a string")
    user_id = message.get("user_id")
    if user_id is not None and type(user_id) is not str:
        user_id = str(user_id) if type(user_id) in (int, float) else None
    return Frame(event, channel, decode_data(message.get("data")), user_id)


_JSON_WHITESPACE = " \t\n\r"


def decode_data(data: Any) -> Any:
    """JSON text becomes its value; anything else (objects, plain strings, absent) stays as it is."""
    if type(data) is str and data:
        first = data[0]
        if first in _JSON_WHITESPACE:  # JSON allows it, and JSON.parse in pusher-js takes it
            first = data.lstrip(_JSON_WHITESPACE)[:1]
        if first and (first in "{[\"" or first.isdigit() or first in "-tfn"):
            try:
                return _loads(data)
            except (ValueError, RecursionError):
                return data
    return data


def encode(event: str, data: Any = None, channel: str | None = None) -> str:
    """Encode a client-to-server message. ``pusher:`` events carry objects, as the protocol asks."""
    message: dict[str, Any] = {"event": event}
    if data is not None:
        message["data"] = data
    if channel is not None:
        message["channel"] = channel
    return _dumps(message)


def encoded_size(data: Any) -> int:
    """Bytes ``data`` takes on the wire as an event payload (strings are sent as they are)."""
    text = data if isinstance(data, str) else _dumps(data)
    return len(text.encode("utf-8"))


def build_url(base: str, app_key: str, version: str) -> str:
    """``ws[s]://host:port/app/KEY?protocol=7&client=...&version=...``, exactly as pusher-js builds it."""
    query = urlencode({"protocol": PROTOCOL_VERSION, "client": CLIENT_NAME, "version": version,
                       "flash": "false"})
    return f"{base.rstrip('/')}/app/{app_key}?{query}"


class CloseAction(enum.Enum):
    """What a close code (or a ``pusher:error`` code) asks the client to do next."""

    NONE = "none"            # a normal close we asked for
    TLS_ONLY = "tls_only"    # 4000: reconnect over wss
    REFUSED = "refused"      # 4001-4099 and >= 4300: reconnecting unchanged will fail; stop
    BACKOFF = "backoff"      # 4100-4199, 1002-1004 and unknown drops: retry later, exponentially
    RETRY = "retry"          # 4200-4299: reconnect at once


def close_action(code: int | None) -> CloseAction:
    """Map a websocket close code to the action protocol 7 prescribes."""
    if code is None:
        return CloseAction.BACKOFF
    if code == 4000:
        return CloseAction.TLS_ONLY
    if 4001 <= code <= 4099:
        return CloseAction.REFUSED
    if 4100 <= code <= 4199:
        return CloseAction.BACKOFF
    if 4200 <= code <= 4299:
        return CloseAction.RETRY
    if code >= 4300:
        return CloseAction.REFUSED
    return CloseAction.BACKOFF


CLOSE_REASONS = {
    4000: "the app only accepts TLS connections",
    4001: "the app does not exist (unknown app key)",
    4003: "the app is disabled",
    4004: "the app is over its connection quota",
    4005: "path not found",
    4006: "invalid version string format",
    4007: "unsupported protocol version",
    4008: "no protocol version supplied",
    4009: "connection is unauthorized",
    4100: "the server is over capacity",
    4200: "the server asked us to reconnect",
    4201: "pong reply not received",
    4202: "closed after inactivity",
    4301: "client event rejected due to rate limit",
    4302: "watchlist limit exceeded",
}


def describe_close(code: int | None, reason: str = "") -> str:
    """A sentence a person understands: the code, what it means, and the server's own words.

    1006 is no code a server sent (RFC 6455 reserves it for "closed without a close frame"), so only the
    transport's own words are shown for it.
    """
    if code is None or code == 1006:
        return reason or "the connection was lost"
    meaning = CLOSE_REASONS.get(code, "")
    parts = [f"code {code}"]
    if meaning:
        parts.append(meaning)
    if reason and reason.lower() not in meaning.lower():
        parts.append(reason)
    return ": ".join(parts)
