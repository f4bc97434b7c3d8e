"""Bindings: who hears which event, per channel, per event name or globally, as pusher-js offers.

The registry is changed from any thread and read on the engine thread; copy-on-write lists under a lock
keep dispatch lock-free and let a callback unbind itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from desktop.signing.names import SERVER_TO_USER_PREFIX

if TYPE_CHECKING:
    from desktop.pusher.channels import Channel
    from desktop.pusher.client import PusherClient
    from desktop.pusher.core import ChannelEvent

log = logging.getLogger("desktop.pusher")

EventCallback = Callable[["ChannelEvent"], None]
_USER = "#user"  # key for events on this user's server-to-user channel, whatever its id


class Bindings:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_event: dict[tuple[str | None, str], tuple[EventCallback, ...]] = {}
        self._by_channel: dict[str | None, tuple[EventCallback, ...]] = {}
        self._global: tuple[EventCallback, ...] = ()

    def bind(self, channel: str | None, event: str, callback: EventCallback) -> None:
        with self._lock:
            key = (channel, event)
            self._by_event[key] = (*self._by_event.get(key, ()), callback)

    def unbind(self, channel: str | None, event: str | None = None, callback: EventCallback | None = None) -> None:
        with self._lock:
            for key in [k for k in self._by_event if k[0] == channel and (event is None or k[1] == event)]:
                kept = tuple(cb for cb in self._by_event[key] if callback is not None and cb != callback)
                if kept:
                    self._by_event[key] = kept
                else:
                    del self._by_event[key]

    def bind_channel(self, channel: str | None, callback: EventCallback) -> None:
        with self._lock:
            self._by_channel[channel] = (*self._by_channel.get(channel, ()), callback)

    def unbind_channel(self, channel: str | None, callback: EventCallback | None = None) -> None:
        with self._lock:
            kept = tuple(cb for cb in self._by_channel.get(channel, ()) if callback is not None and cb != callback)
            if kept:
                self._by_channel[channel] = kept
            else:
                self._by_channel.pop(channel, None)

    def bind_global(self, callback: EventCallback) -> None:
        with self._lock:
            self._global = (*self._global, callback)

    def unbind_global(self, callback: EventCallback | None = None) -> None:
        with self._lock:
            self._global = tuple(cb for cb in self._global if callback is not None and cb != callback)

    def dispatch(self, events: list[ChannelEvent]) -> None:
        by_event, by_channel, global_ = self._by_event, self._by_channel, self._global
        if not (by_event or by_channel or global_):
            return
        for event in events:
            channel = event.channel
            if channel is not None and channel.startswith(SERVER_TO_USER_PREFIX):
                channel = _USER
            for callback in (*global_, *by_channel.get(channel, ()), *by_event.get((channel, event.event), ())):
                try:
                    callback(event)
                except Exception:
                    log.exception("a binding for %s raised; the engine goes on", event.event)


class ChannelHandle:
    """What ``subscribe`` returns: bind, unbind, trigger and look at one channel, through the client's public
    ``bindings`` and ``channel_record``.

    ``ChannelHandle(client, None)`` is ``client.user``: events sent to the signed-in user.
    """

    def __init__(self, client: PusherClient, name: str | None) -> None:
        self._client = client
        self.name = name
        self._key = _USER if name is None else name

    def bind(self, event: str, callback: EventCallback) -> None:
        self._client.bindings.bind(self._key, event, callback)

    def unbind(self, event: str | None = None, callback: EventCallback | None = None) -> None:
        self._client.bindings.unbind(self._key, event, callback)

    def bind_global(self, callback: EventCallback) -> None:
        self._client.bindings.bind_channel(self._key, callback)

    def unbind_global(self, callback: EventCallback | None = None) -> None:
        self._client.bindings.unbind_channel(self._key, callback)

    def trigger(self, event: str, data: Any) -> Future[None]:
        if self.name is None:
            raise ValueError("client events are sent on a channel, not to the user")
        return self._client.trigger(self.name, event, data)

    @property
    def subscribed(self) -> bool:
        channel = self._channel()
        return channel is not None and channel.subscribed

    @property
    def state(self) -> str:
        channel = self._channel()
        return "unsubscribed" if channel is None else channel.state.value

    @property
    def failure(self) -> str | None:
        """Why the subscription failed, in words; kept through reconnects and retries until one succeeds."""
        channel = self._channel()
        return None if channel is None or channel.last_error is None else channel.last_error.describe()

    @property
    def members(self) -> dict[str, Any]:
        return {} if self.name is None else self._client.members(self.name)

    @property
    def me(self) -> str | None:
        channel = self._channel()
        if channel is None or channel.members is None or channel.members.me is None:
            return None
        return channel.members.me.id

    @property
    def subscription_count(self) -> int | None:
        channel = self._channel()
        return None if channel is None else channel.subscription_count

    def _channel(self) -> Channel | None:
        return self._client.channel_record(self.name)
