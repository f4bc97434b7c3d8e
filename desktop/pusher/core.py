"""The Pusher client's brain: connection state machine, liveness, frame routing and user sign-in.

Pure: it never touches a socket, a thread or the clock. The driver (``engine_loop.py`` runs it, one turn at a
time; ``client.py`` carries out what it asks) feeds it what happened (`socket_opened`, `frames_received`,
`socket_closed`, `authorized`, `tick`, with ``now``) and drains ``effects`` (open, send, close, authorize) and
``delivered`` (events for bindings). Tests drive it the same way, with a fake clock.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from typing import Any

from desktop.pusher import protocol
from desktop.pusher.channels import AuthFailure, Channel, SubscriptionState
from desktop.pusher.protocol import CloseAction, Frame
from desktop.pusher.retry import retry_delay
from desktop.pusher.subscriptions import SubscriptionsMixin
from desktop.pusher.types import (
    Authorize,
    AuthorizeUser,
    ChannelEvent,
    ClientEventError,
    Close,
    Effect,
    Open,
    Options,
    Send,
    State,
    StateChanged,
)
from desktop.pusher.user import UserMixin
from desktop.signing.names import is_internal_channel

__all__ = [
    "Authorize", "AuthorizeUser", "ChannelEvent", "ClientEventError", "Close", "Effect", "Open", "Options",
    "PusherCore", "Send", "State", "StateChanged",
]

log = logging.getLogger("desktop.pusher")


class PusherCore(SubscriptionsMixin, UserMixin):
    """State of one logical Pusher connection across any number of sockets."""

    def __init__(self, options: Options | None = None, *, use_tls: bool = True,
                 rng: random.Random | None = None) -> None:
        self.options = options or Options()
        self.use_tls = use_tls
        self.state = State.INITIALIZED
        self.socket_id: str | None = None
        self.channels: dict[str, Channel] = {}
        self.effects: list[Effect] = []
        self.delivered: list[ChannelEvent] = []
        self.last_error = ""
        self.user_id: str | None = None
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._generation = 0
        self._socket_open = False
        self._closing_on_purpose = False
        self._attempts = 0
        self._request = 0
        self._activity_timeout = self.options.activity_timeout
        self._last_activity = 0.0
        self._ping_deadline: float | None = None
        self._retry_at: float | None = None
        self._unavailable_at: float | None = None
        self._want_signin = False
        self._signin_request = 0
        self._client_event_times: deque[float] = deque()
        self._presence_ids: dict[str, str | None] = {}
        #: Added to the (monotonic) ``now`` to stamp events with wall-clock time; the driver keeps it current.
        self.wall_offset = 0.0

    # -- connection lifecycle -------------------------------------------------------------------------
    def connect(self, now: float) -> None:
        if self.state in (State.CONNECTING, State.CONNECTED, State.UNAVAILABLE) and self._retry_at is None:
            return
        self._retry_at = None
        if self._unavailable_at is None:
            self._unavailable_at = now + self.options.unavailable_timeout
        self._open_socket(State.UNAVAILABLE if self.state is State.UNAVAILABLE else State.CONNECTING)

    def disconnect(self, now: float) -> None:
        """Close on purpose: no retry. Channels are kept and resubscribed by a later ``connect``."""
        self._retry_at = self._unavailable_at = self._ping_deadline = None
        if self._socket_open:
            self._closing_on_purpose = True
            self.effects.append(Close(self._generation, 1000, "client disconnect"))
        self._generation += 1  # whatever the old socket still says is stale now
        self._socket_open = False
        self._forget_connection()
        self._set_state(State.DISCONNECTED, "disconnected by the client")

    def socket_opened(self, generation: int, now: float) -> None:
        if generation == self._generation:
            self._socket_open = True
            self._last_activity = now

    def socket_closed(self, generation: int, code: int | None, reason: str, now: float) -> None:
        """The socket closed (or never opened): decide, as protocol 7 says, what to do next."""
        if generation != self._generation:
            return
        self._drop_socket()
        if self._closing_on_purpose:
            self._closing_on_purpose = False
            return
        action = protocol.close_action(code)
        description = protocol.describe_close(code, reason)
        if action is CloseAction.REFUSED:
            self.last_error = description
            self._unavailable_at = None
            self._set_state(State.FAILED, description)
            return
        if action is CloseAction.TLS_ONLY:
            self.use_tls = True
        self._retry(action, code, description, now)

    def _abandon_socket(self, code: int, reason: str, description: str, now: float) -> None:
        """Give up on the current socket ourselves (ping timeout, bad handshake) and reconnect at once."""
        self.effects.append(Close(self._generation, code, reason))
        self._drop_socket()
        self._retry(CloseAction.RETRY, None, description, now)

    def _drop_socket(self) -> None:
        self._generation += 1  # anything this socket still says is stale from now on
        self._socket_open = False
        self._ping_deadline = None
        self._forget_connection()

    def _retry(self, action: CloseAction, code: int | None, description: str, now: float) -> None:
        delay = retry_delay(self.options, action, code, self._attempts, self._rng)
        self._attempts += 1
        self.last_error = description
        self._retry_at = now + delay
        if self._unavailable_at is None:
            self._unavailable_at = now + self.options.unavailable_timeout
        current = State.UNAVAILABLE if self.state is State.UNAVAILABLE else State.CONNECTING
        self._set_state(current, description, retry_in=delay)

    def tick(self, now: float) -> None:
        """Run whatever timer is due: retry, unavailable, activity ping, pong timeout."""
        if self._retry_at is not None and now >= self._retry_at:
            self._retry_at = None
            self._open_socket(self.state if self.state is State.UNAVAILABLE else State.CONNECTING)
        if (self._unavailable_at is not None and now >= self._unavailable_at
                and self.state is State.CONNECTING):
            self._unavailable_at = None
            self._set_state(State.UNAVAILABLE, self.last_error or "no connection yet; still trying")
        if self.state is not State.CONNECTED:
            return
        self._run_key_refreshes(now)
        if self._ping_deadline is not None:
            if now >= self._ping_deadline:
                log.info("no pong within %.0f s; reconnecting", self.options.pong_timeout)
                self._abandon_socket(4201, "pong timeout", f"ping timeout: the server sent nothing for "
                                     f"{self.options.pong_timeout:g} s after our ping", now)
        elif now - self._last_activity >= self._activity_timeout:
            self.effects.append(Send(protocol.encode("pusher:ping", {})))
            self._ping_deadline = now + self.options.pong_timeout

    def next_deadline(self) -> float | None:
        """When ``tick`` next has work to do, or None."""
        deadlines = [d for d in (self._retry_at, self._unavailable_at, self._ping_deadline) if d is not None]
        if self.state is State.CONNECTED:
            if self._ping_deadline is None:
                deadlines.append(self._last_activity + self._activity_timeout)
            key_refresh = self._key_refresh_deadline()
            if key_refresh is not None:
                deadlines.append(key_refresh)
        return min(deadlines) if deadlines else None

    # -- frames ---------------------------------------------------------------------------------------
    def frames_received(self, generation: int, raws: list[bytes], now: float) -> None:
        """Handle a batch of raw text frames from one socket read."""
        if generation != self._generation:
            return
        self._last_activity = now
        self._ping_deadline = None
        channels = self.channels
        delivered = self.delivered
        stamp = now + self.wall_offset
        for raw in raws:
            try:
                frame = protocol.decode_frame(raw)
            except protocol.ProtocolError as exc:
                log.warning("dropped a malformed frame: %s", exc)
                continue
            name = frame.event
            channel = channels.get(frame.channel) if frame.channel is not None else None
            if (channel is not None and channel.state is SubscriptionState.SUBSCRIBED
                    and not name.startswith("pusher")):
                if channel.box is not None:
                    self._deliver_encrypted(channel, name, frame.data, now)
                else:
                    delivered.append(ChannelEvent(frame.channel, name, frame.data, frame.user_id, stamp))
            else:
                self._control_frame(frame, channel, now)

    def _control_frame(self, frame: Frame, channel: Channel | None, now: float) -> None:
        name = frame.event
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, frame, channel, now)
        elif channel is not None and not name.startswith("pusher_internal:"):
            # An event for a channel still subscribing (the server may send it first): deliver it anyway.
            if channel.box is not None and not name.startswith("pusher"):
                self._deliver_encrypted(channel, name, frame.data, now)
            else:
                self._deliver_lib(frame.channel, name, frame.data, now, frame.user_id)
        elif frame.channel is None and not name.startswith("pusher_internal:"):
            self._deliver_lib(None, name, frame.data, now)
        else:
            log.debug("ignored %s for %s", name, frame.channel)

    def _on_established(self, frame: Frame, _: Channel | None, now: float) -> None:
        data = frame.data if isinstance(frame.data, dict) else {}
        socket_id = data.get("socket_id")
        if not isinstance(socket_id, str) or not socket_id:
            log.warning("connection_established without a socket id; reconnecting")
            self._abandon_socket(4200, "bad handshake", "bad handshake: the server gave no socket id", now)
            return
        timeout = data.get("activity_timeout")
        server_timeout = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else None
        self._activity_timeout = min(self.options.activity_timeout, server_timeout or self.options.activity_timeout)
        self.socket_id = socket_id
        self._attempts = 0
        self._unavailable_at = None
        self.last_error = ""
        self._set_state(State.CONNECTED, f"socket id {socket_id}")
        for channel in self.channels.values():
            if not is_internal_channel(channel.name):  # that one waits for signin_success
                self._start_subscription(channel)
        if self._want_signin:
            self._request_signin()

    def _on_error(self, frame: Frame, _: Channel | None, now: float) -> None:
        data = frame.data if isinstance(frame.data, dict) else {"message": str(frame.data)}
        code = data.get("code")
        message = str(data.get("message") or "")
        # Reported to bindings (and, for 4xxx codes, as the state's reason): the log is for -v, not a second
        # copy of the same news on the console.
        log.info("server error%s: %s", f" {code}" if code is not None else "", message)
        if isinstance(code, int) and code >= 4000:
            self.last_error = protocol.describe_close(code, message)
            if code == 4009 and self._signin_request:
                self._deliver_lib(None, "pusher:signin_error", {"code": code, "message": message}, now)
        if frame.channel is None and code is None:
            # Pusher reports a bad signature as a connection error naming the channel in the text.
            for channel in self.channels.values():
                if channel.state is SubscriptionState.SUBSCRIBING and channel.name in message:
                    self._subscription_failed(channel, AuthFailure(message, kind="ServerRefused"), now)
                    return
        self._deliver_lib(frame.channel, "pusher:error", data, now)

    def _on_ping(self, frame: Frame, _: Channel | None, now: float) -> None:
        self.effects.append(Send(protocol.encode("pusher:pong", {})))

    def _on_pong(self, frame: Frame, _: Channel | None, now: float) -> None:
        return

    # -- helpers --------------------------------------------------------------------------------------
    def _open_socket(self, state: State) -> None:
        self._generation += 1
        self._socket_open = False
        self.effects.append(Open(self._generation, self.use_tls))
        self._set_state(state, self.last_error if state is State.UNAVAILABLE else "")

    def _forget_connection(self) -> None:
        self.socket_id = None
        self._signin_request = 0
        self.user_id = None
        for channel in self.channels.values():
            channel.connection_lost()

    def _set_state(self, state: State, reason: str = "", retry_in: float | None = None) -> None:
        previous = self.state
        if previous is state and retry_in is None:
            return
        self.state = state
        self.effects.append(StateChanged(previous, state, reason, retry_in))

    def _deliver_lib(self, channel: str | None, event: str, data: Any, now: float,
                     user_id: str | None = None) -> None:
        self.delivered.append(ChannelEvent(channel, event, data, user_id, now + self.wall_offset))


_HANDLERS = {
    "pusher:connection_established": PusherCore._on_established,
    "pusher:error": PusherCore._on_error,
    "pusher:ping": PusherCore._on_ping,
    "pusher:pong": PusherCore._on_pong,
    "pusher_internal:subscription_succeeded": PusherCore._on_succeeded,
    "pusher:subscription_error": PusherCore._on_subscription_error,
    "pusher_internal:member_added": PusherCore._on_member_added,
    "pusher_internal:member_removed": PusherCore._on_member_removed,
    "pusher_internal:subscription_count": PusherCore._on_subscription_count,
    "pusher:cache_miss": PusherCore._on_cache_miss,
    "pusher:signin_success": PusherCore._on_signin_success,
    "pusher_internal:watchlist_events": PusherCore._on_watchlist,
}
