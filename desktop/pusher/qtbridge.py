"""The engine seen from Qt: the one adapter from the engine thread to the GUI's, routing each batch once.

The engine calls us on its own thread. Each batch is split by a table the app gives (:class:`Routes`), and
each part goes out on its own queued signal, so widgets are only ever touched on the GUI thread and each
part of the window gets only its own input: the chat never sees a burst on the feed channel, and the feed
channel's refusals reach whoever handles the feed.

The feed channel's events are the exception: they go to ``feed`` (the window's bounded feed pipe) still on
the engine thread, because they are normalised and stored there, and reach the GUI coalesced, a slice per
turn of the event loop (``desktop.feed.pipe``), never one queued signal per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from PySide6.QtCore import QObject, Signal

from desktop.pusher.client import PusherClient
from desktop.pusher.core import ChannelEvent, StateChanged


class Route(Enum):
    """Where an event of a batch goes."""

    FEED = "feed"  # the feed channel's own events: to the feed pipe, on the engine thread
    FEED_STATUS = "feed_status"  # the feed channel's library events (subscribed, refused)
    CHAT = "chat"  # the chat channel's events
    PRESENCE = "presence"  # the presence channel's events (members, and its own refusal)
    OTHER = "other"  # the user's channel, connection-level events, channels in no route


@dataclass(frozen=True)
class Routes:
    """The routing table: which channel is the feed's, which are the chat's and presence's."""

    feed: str | None = None
    chat: frozenset[str] = field(default_factory=frozenset)
    presence: frozenset[str] = field(default_factory=frozenset)

    def route(self, event: ChannelEvent) -> Route:
        channel = event.channel
        if channel is None:
            return Route.OTHER
        if channel == self.feed:
            return Route.FEED_STATUS if event.event.startswith("pusher:") else Route.FEED
        if channel in self.chat:
            return Route.CHAT
        if channel in self.presence:
            return Route.PRESENCE
        return Route.OTHER

    def adding(self, *, chat: Iterable[str] = (), presence: Iterable[str] = ()) -> Routes:
        """This table with more chat and presence channels."""
        return replace(self, chat=self.chat | frozenset(chat), presence=self.presence | frozenset(presence))


class PusherBridge(QObject):
    """Routes a :class:`PusherClient`'s batches by :attr:`routes` to typed signals; re-emits its state changes."""

    #: ``list[ChannelEvent]``: the feed channel's ``pusher:`` events (subscription succeeded or refused)
    feed_status = Signal(list)
    #: ``list[ChannelEvent]`` on the chat channels
    chat_events = Signal(list)
    #: ``list[ChannelEvent]`` on the presence channels
    presence_events = Signal(list)
    #: ``list[ChannelEvent]`` in no route: the user's channel, the connection's own events, unrouted channels
    other_events = Signal(list)
    #: :class:`StateChanged`
    state_changed = Signal(object)

    def __init__(self, client: PusherClient, parent: QObject | None = None, *, routes: Routes | None = None,
                 feed: Callable[[list[ChannelEvent]], None] | None = None) -> None:
        """``feed`` takes the feed channel's events on the engine thread (without it they go to ``other_events``);
        it may wait (the pipe's back-pressure), so the engine then handles frames on its own thread."""
        super().__init__(parent)
        self.client = client
        #: Read on the engine thread, replaced whole (never changed in place): add routes before subscribing.
        self.routes = routes or Routes()
        self._feed = feed
        self._signals = {Route.FEED_STATUS: self.feed_status, Route.CHAT: self.chat_events,
                         Route.PRESENCE: self.presence_events, Route.OTHER: self.other_events}
        client.on_batch(self.route_batch, may_wait=feed is not None)  # the feed's pipe has back-pressure
        client.on_state_change(self._on_state)

    def route_batch(self, events: list[ChannelEvent]) -> None:
        """One batch, on the engine thread (or a reader thread without ``feed``): each route's events, in arrival
        order, to its signal."""
        routes = self.routes
        parts: dict[Route, list[ChannelEvent]] = {}
        for event in events:
            parts.setdefault(routes.route(event), []).append(event)
        feed = parts.pop(Route.FEED, None)
        if feed:
            if self._feed is not None:
                self._feed(feed)
            else:
                parts.setdefault(Route.OTHER, []).extend(feed)
        for route, part in parts.items():
            self._signals[route].emit(part)

    def _on_state(self, change: StateChanged) -> None:
        self.state_changed.emit(change)
