"""Subscriptions, presence, encrypted channels and client events: the channel half of the core.

A mixin of :class:`desktop.pusher.core.PusherCore`, split out to keep each file readable; it shares the
core's state and, like it, does no IO.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any

from nacl.secret import SecretBox

from desktop.pusher import protocol
from desktop.pusher.channels import (
    AuthFailure,
    AuthResult,
    Channel,
    DecryptError,
    Members,
    SubscriptionState,
    decrypt_event,
    parse_auth_response,
)
from desktop.pusher.protocol import Frame
from desktop.pusher.types import Authorize, ChannelEvent, ClientEventError, Effect, Send, State
from desktop.signing.names import ChannelKind, channel_kind, validate_channel_name

log = logging.getLogger("desktop.pusher")

CLIENT_EVENTS_PER_SECOND = 10
MAX_UNDECRYPTED = 1000
#: At most one key fetch per encrypted channel in this many seconds (see ``_refresh_key_if_due``).
KEY_REFRESH_INTERVAL = 1.0


class SubscriptionsMixin:
    """What the core does for channels; the attributes below belong to the core."""

    state: State
    socket_id: str | None
    channels: dict[str, Channel]
    effects: list[Effect]
    delivered: list[ChannelEvent]
    _request: int
    _presence_ids: dict[str, str | None]
    _client_event_times: deque[float]

    def _deliver_lib(self, channel: str | None, event: str, data: Any, now: float,
                     user_id: str | None = None) -> None:
        raise NotImplementedError

    # -- subscriptions --------------------------------------------------------------------------------
    def subscribe(self, name: str, now: float) -> Channel:
        """Ask for a channel; it is (re)subscribed on every connection until ``unsubscribe``."""
        validate_channel_name(name)
        channel = self.channels.get(name)
        if channel is None:
            kind = channel_kind(name)
            channel = Channel(name, kind, members=Members() if kind is ChannelKind.PRESENCE else None)
            self.channels[name] = channel
        if self.state is State.CONNECTED and channel.state in (SubscriptionState.UNSUBSCRIBED,
                                                               SubscriptionState.FAILED):
            self._start_subscription(channel)
        return channel

    def unsubscribe(self, name: str, now: float) -> None:
        channel = self.channels.pop(name, None)
        if channel is None:
            return
        if self.state is State.CONNECTED and channel.state in (SubscriptionState.SUBSCRIBING,
                                                               SubscriptionState.SUBSCRIBED):
            self.effects.append(Send(protocol.encode("pusher:unsubscribe", {"channel": name})))

    def authorized(self, channel_name: str, request: int, result: AuthResult | AuthFailure | dict,
                   now: float) -> None:
        """The authorizer answered for ``request``; stale answers (old socket, old request) are ignored."""
        channel = self.channels.get(channel_name)
        if channel is None or request != channel.auth_request or self.state is not State.CONNECTED:
            return
        channel.auth_request = 0
        if isinstance(result, dict):
            try:
                result = parse_auth_response(channel.kind, result)
            except ValueError as exc:
                result = AuthFailure(str(exc), 200)
        if channel.refreshing_key:
            self._key_refreshed(channel, result, now)
            return
        if isinstance(result, AuthFailure):
            self._subscription_failed(channel, result, now)
            return
        if result.shared_secret is not None:
            channel.box = SecretBox(result.shared_secret)
            if channel.undecrypted:  # held when the last connection ended: this key may open them
                self._replay_held(channel, now)
        payload: dict[str, Any] = {"channel": channel.name, "auth": result.auth}
        if result.channel_data is not None:
            payload["channel_data"] = result.channel_data
            if channel.members is not None:
                channel.members.me = None
                self._presence_ids[channel.name] = _user_id_of(result.channel_data)
        channel.state = SubscriptionState.SUBSCRIBING
        self.effects.append(Send(protocol.encode("pusher:subscribe", payload)))

    def _my_presence_id(self, channel: Channel) -> str | None:
        return self._presence_ids.get(channel.name)

    def _start_subscription(self, channel: Channel) -> None:
        if self.socket_id is None:
            return
        if channel.needs_auth:
            self._request += 1
            channel.auth_request = self._request
            channel.state = SubscriptionState.AUTHORIZING
            self.effects.append(Authorize(channel.name, self.socket_id, self._request))
        else:
            channel.state = SubscriptionState.SUBSCRIBING
            self.effects.append(Send(protocol.encode("pusher:subscribe", {"channel": channel.name})))

    def _subscription_failed(self, channel: Channel, failure: AuthFailure, now: float) -> None:
        channel.state = SubscriptionState.FAILED
        channel.last_error = failure
        if channel.undecrypted:
            log.warning("dropped %d held event(s) on %s: no key", len(channel.undecrypted), channel.name)
            channel.undecrypted = []
        log.info("subscription to %s failed: %s", channel.name, failure.describe())
        self._deliver_lib(channel.name, "pusher:subscription_error", failure.as_event(), now)

    # -- encrypted channels ---------------------------------------------------------------------------
    def _deliver_encrypted(self, channel: Channel, name: str, data: Any, now: float) -> None:
        assert channel.box is not None
        if channel.refreshing_key or channel.undecrypted:  # behind held events, to keep the order
            self._hold_undecrypted(channel, name, data, now)
            return
        try:
            plain = decrypt_event(channel.box, data)
        except DecryptError:
            log.info("could not decrypt an event on %s; fetching a fresh key", channel.name)
            self._hold_undecrypted(channel, name, data, now)
            self._refresh_key_if_due(channel, now)
            return
        self._deliver_lib(channel.name, name, plain, now)

    def _refresh_key_if_due(self, channel: Channel, now: float) -> None:
        """Fetch a fresh key for held events: pusher-js does so for every failing event; we keep it bounded.

        At most one fetch in flight per channel (events arriving meanwhile wait behind it) and at most one
        every ``KEY_REFRESH_INTERVAL`` s; a fetch that fails does not stop the next failing event from
        asking again, and a reconnect starts afresh with the key the resubscription brings.
        """
        if (channel.refreshing_key or not channel.undecrypted or now < channel.key_refresh_after
                or self.socket_id is None or self.state is not State.CONNECTED):
            return
        channel.refreshing_key = True
        self._request += 1
        channel.auth_request = self._request
        self.effects.append(Authorize(channel.name, self.socket_id, self._request))

    def _run_key_refreshes(self, now: float) -> None:
        for channel in self.channels.values():
            if channel.undecrypted and channel.subscribed:
                self._refresh_key_if_due(channel, now)

    def _key_refresh_deadline(self) -> float | None:
        due = [c.key_refresh_after for c in self.channels.values()
               if c.undecrypted and c.subscribed and not c.refreshing_key]
        return min(due) if due else None

    def _hold_undecrypted(self, channel: Channel, name: str, data: Any, now: float) -> None:
        if len(channel.undecrypted) < MAX_UNDECRYPTED:
            channel.undecrypted.append((name, data, now))
        else:
            log.warning("dropped an encrypted event on %s while waiting for a fresh key", channel.name)

    def _key_refreshed(self, channel: Channel, result: AuthResult | AuthFailure, now: float) -> None:
        channel.refreshing_key = False
        channel.key_refresh_after = now + KEY_REFRESH_INTERVAL
        if isinstance(result, AuthFailure) or result.shared_secret is None:
            why = result.describe() if isinstance(result, AuthFailure) else "the answer had no key"
            log.warning("could not fetch a fresh key for %s: %s", channel.name, why)
        else:
            channel.box = SecretBox(result.shared_secret)
        self._replay_held(channel, now)

    def _replay_held(self, channel: Channel, now: float) -> None:
        """Open held events with the key we now have, in order; drop those it cannot open (once each)."""
        assert channel.box is not None
        held, channel.undecrypted = channel.undecrypted, []
        dropped = 0
        for name, data, received in held:
            try:
                plain = decrypt_event(channel.box, data)
            except DecryptError:
                dropped += 1
                continue
            self._deliver_lib(channel.name, name, plain, received)
        if dropped:
            log.warning("dropped %d event(s) on %s that the fetched key could not open", dropped, channel.name)

    # -- client events --------------------------------------------------------------------------------
    def trigger(self, channel_name: str, event: str, data: Any, now: float) -> None:
        """Send a client event, or raise :class:`ClientEventError` saying why Pusher would refuse it."""
        if not event.startswith("client-"):
            raise ClientEventError(f"client event names must start with 'client-': {event!r}")
        channel = self.channels.get(channel_name)
        kind = channel.kind if channel is not None else channel_kind(channel_name)
        if not kind.allows_client_events:
            raise ClientEventError(f"client events can only be sent on private or presence channels, "
                                   f"not on {channel_name!r}")
        if channel is None or not channel.subscribed or self.state is not State.CONNECTED:
            raise ClientEventError(f"not subscribed to {channel_name!r} yet; wait for the subscription")
        try:
            size = protocol.encoded_size(data)
        except (UnicodeEncodeError, TypeError, ValueError) as exc:
            raise ClientEventError(f"the message cannot be sent as JSON text ({type(exc).__name__})") from None
        if size > protocol.MAX_EVENT_DATA_BYTES:
            raise ClientEventError(f"the message is {size} bytes; Pusher accepts at most "
                                   f"{protocol.MAX_EVENT_DATA_BYTES} bytes per event")
        times = self._client_event_times
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= CLIENT_EVENTS_PER_SECOND:
            raise ClientEventError(f"at most {CLIENT_EVENTS_PER_SECOND} client events per second; "
                                   "try again in a moment")
        times.append(now)
        self.effects.append(Send(protocol.encode(event, data, channel_name)))

    # -- channel frames -------------------------------------------------------------------------------
    def _on_succeeded(self, frame: Frame, channel: Channel | None, now: float) -> None:
        if channel is None or channel.state is not SubscriptionState.SUBSCRIBING:
            return
        channel.state = SubscriptionState.SUBSCRIBED
        channel.last_error = None
        data: Any = {}
        if channel.members is not None:
            presence = frame.data.get("presence") if isinstance(frame.data, dict) else None
            channel.members.reset(presence if isinstance(presence, dict) else {}, self._my_presence_id(channel))
            data = channel.members.snapshot()
        self._deliver_lib(channel.name, "pusher:subscription_succeeded", data, now)

    def _on_subscription_error(self, frame: Frame, channel: Channel | None, now: float) -> None:
        if channel is None:
            return
        data = frame.data if isinstance(frame.data, dict) else {}
        status = data.get("status") if type(data.get("status")) is int else None
        code = status if status is not None and status >= 4000 else None  # soketi puts Pusher codes there
        kind = data.get("type")
        message = str(data.get("error") or data or "refused")
        if isinstance(kind, str) and kind and kind != "AuthError":
            message = f"{kind}: {message}"
        self._subscription_failed(channel, AuthFailure(message, None if code else status, code, "ServerRefused"),
                                  now)

    def _on_member_added(self, frame: Frame, channel: Channel | None, now: float) -> None:
        data = frame.data
        if channel is None or channel.members is None or not isinstance(data, dict) or "user_id" not in data:
            return
        user_id = str(data["user_id"])
        if channel.members.add(user_id, data.get("user_info")):
            self._deliver_lib(channel.name, "pusher:member_added", {"id": user_id, "info": data.get("user_info")},
                              now)

    def _on_member_removed(self, frame: Frame, channel: Channel | None, now: float) -> None:
        data = frame.data
        if channel is None or channel.members is None or not isinstance(data, dict) or "user_id" not in data:
            return
        member = channel.members.remove(str(data["user_id"]))
        if member is not None:
            self._deliver_lib(channel.name, "pusher:member_removed", {"id": member.id, "info": member.info}, now)

    def _on_subscription_count(self, frame: Frame, channel: Channel | None, now: float) -> None:
        data = frame.data
        if channel is None or not isinstance(data, dict) or not isinstance(data.get("subscription_count"), int):
            return
        channel.subscription_count = data["subscription_count"]
        self._deliver_lib(channel.name, "pusher:subscription_count", data, now)

    def _on_cache_miss(self, frame: Frame, channel: Channel | None, now: float) -> None:
        if channel is not None:
            self._deliver_lib(channel.name, "pusher:cache_miss", None, now)


def _user_id_of(channel_data: str) -> str | None:
    try:
        user_id = json.loads(channel_data).get("user_id")
    except (ValueError, AttributeError):
        return None
    return None if user_id is None else str(user_id)
