"""User sign-in (``pusher:signin``) and the server-to-user channel: the user half of the core.

A mixin of :class:`desktop.pusher.core.PusherCore`, like the subscriptions one; it shares the core's state
and does no IO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.pusher import protocol
from desktop.pusher.channels import AuthFailure, Channel, SubscriptionState
from desktop.pusher.protocol import Frame
from desktop.pusher.types import AuthorizeUser, Effect, Send, State
from desktop.signing.names import SERVER_TO_USER_PREFIX, ChannelKind, is_internal_channel


class UserMixin:
    """What the core does for the signed-in user; the attributes below belong to the core."""

    state: State
    socket_id: str | None
    user_id: str | None
    channels: dict[str, Channel]
    effects: list[Effect]
    _request: int
    _want_signin: bool
    _signin_request: int

    if TYPE_CHECKING:  # provided by the core and the subscriptions mixin
        def _deliver_lib(self, channel: str | None, event: str, data: Any, now: float,
                         user_id: str | None = None) -> None: ...

        def _start_subscription(self, channel: Channel) -> None: ...

    def signin(self, now: float) -> None:
        self._want_signin = True
        if self.state is State.CONNECTED and not self._signin_request:
            self._request_signin()

    def _request_signin(self) -> None:
        assert self.socket_id is not None
        self._request += 1
        self._signin_request = self._request
        self.effects.append(AuthorizeUser(self.socket_id, self._request))

    def user_authorized(self, request: int, result: dict | AuthFailure, now: float) -> None:
        if request != self._signin_request or self.state is not State.CONNECTED:
            return
        if isinstance(result, dict):
            auth, user_data = result.get("auth"), result.get("user_data")
            if isinstance(auth, str) and isinstance(user_data, str):
                self.effects.append(Send(protocol.encode("pusher:signin",
                                                         {"auth": auth, "user_data": user_data})))
                return
            result = AuthFailure("the user authentication answer lacks 'auth' or 'user_data'", 200)
        self._signin_request = 0
        self._deliver_lib(None, "pusher:signin_error", {"message": result.message, "status": result.status,
                                                        "reason": result.describe()}, now)

    # -- frames ---------------------------------------------------------------------------------------
    def _on_signin_success(self, frame: Frame, _: Channel | None, now: float) -> None:
        data = frame.data if isinstance(frame.data, dict) else {}
        user_data = protocol.decode_data(data.get("user_data"))
        user_id = user_data.get("id") if isinstance(user_data, dict) else None
        if not isinstance(user_id, str) or not user_id:
            self._deliver_lib(None, "pusher:signin_error", {"message": "signin_success without a user id"}, now)
            return
        self.user_id = user_id
        self._deliver_lib(None, "pusher:signin_success", user_data, now)
        name = SERVER_TO_USER_PREFIX + user_id
        for stale in [n for n in self.channels if is_internal_channel(n) and n != name]:
            del self.channels[stale]  # signed in as someone else now
        channel = self.channels.get(name)
        if channel is None:
            channel = self.channels[name] = Channel(name, ChannelKind.PUBLIC)  # the server lets us in by sign-in
        if channel.state in (SubscriptionState.UNSUBSCRIBED, SubscriptionState.FAILED):
            self._start_subscription(channel)

    def _on_watchlist(self, frame: Frame, _: Channel | None, now: float) -> None:
        events = frame.data.get("events") if isinstance(frame.data, dict) else None
        for item in events if isinstance(events, list) else []:
            if isinstance(item, dict) and item.get("name") in ("online", "offline"):
                self._deliver_lib(None, f"pusher:watchlist_{item['name']}", item, now)
