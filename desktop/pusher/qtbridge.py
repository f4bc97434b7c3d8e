"""The engine seen from Qt: one queued signal per batch of events, one per state change.

The engine calls us on its own thread; Qt queues each emission to the receivers' (GUI) thread, so
widgets are only ever touched there. One signal per batch keeps a burst of thousands of events to a
handful of hand-offs.

The window passes ``batches=False``: its batches go through ``desktop.feed.pipe.FeedPipe``, which routes
them (feed rows, the feed channel's status, the rest for the chat), so a second copy of every batch would be
queued to nobody. ``events_received`` serves those who want every batch as it is (the chat's own
integration test, tools).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.pusher.client import PusherClient
from desktop.pusher.core import ChannelEvent, StateChanged


class PusherBridge(QObject):
    """Re-emits a :class:`PusherClient`'s batches and state changes as Qt signals."""

    #: ``list[ChannelEvent]``, in arrival order
    events_received = Signal(list)
    #: :class:`StateChanged`
    state_changed = Signal(object)

    def __init__(self, client: PusherClient, parent: QObject | None = None, *, batches: bool = True) -> None:
        super().__init__(parent)
        self.client = client
        if batches:
            client.on_batch(self._on_batch)
        client.on_state_change(self._on_state)

    def _on_batch(self, events: list[ChannelEvent]) -> None:
        self.events_received.emit(events)

    def _on_state(self, change: StateChanged) -> None:
        self.state_changed.emit(change)
