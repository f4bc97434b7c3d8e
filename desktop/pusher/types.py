"""The engine's vocabulary: connection states, options, delivered events and the effects the core asks for.

Shared by the pure core, the driver and anyone binding to events; no behaviour lives here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from desktop.pusher.errors import PusherError


class State(enum.StrEnum):
    INITIALIZED = "initialized"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"
    DISCONNECTED = "disconnected"


@dataclass(slots=True, frozen=True)
class Options:
    """Timers of a connection, in seconds. The backoff is short on purpose: see ``retry.retry_delay``."""

    activity_timeout: float = 120.0
    pong_timeout: float = 30.0
    unavailable_timeout: float = 10.0
    backoff_base: float = 0.25
    backoff_cap: float = 1.0


@dataclass(slots=True, frozen=True)
class ChannelEvent:
    """An event for bindings. ``channel`` is None for connection-level events."""

    channel: str | None
    event: str
    data: Any
    user_id: str | None
    received_at: float


# Effects the driver carries out, in order.
@dataclass(slots=True, frozen=True)
class Open:
    generation: int
    use_tls: bool


@dataclass(slots=True, frozen=True)
class Send:
    text: str


@dataclass(slots=True, frozen=True)
class Close:
    generation: int
    code: int = 1000
    reason: str = ""


@dataclass(slots=True, frozen=True)
class Authorize:
    channel: str
    socket_id: str
    request: int


@dataclass(slots=True, frozen=True)
class AuthorizeUser:
    socket_id: str
    request: int


@dataclass(slots=True, frozen=True)
class StateChanged:
    previous: State
    current: State
    reason: str = ""
    retry_in: float | None = None


Effect = Open | Send | Close | Authorize | AuthorizeUser | StateChanged


class ClientEventError(PusherError, ValueError):
    """A client event that Pusher would reject; raised before anything is sent."""
