"""Connect a chat panel to a running engine: subscriptions, queued signals, the sender."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, SignalInstance

from desktop.chat.panel import ChatPanel
from desktop.chat.sender import ChatSender, ChatSetupError, build_sender
from desktop.pusher.client import PusherClient
from desktop.pusher.qtbridge import PusherBridge


def attach_chat(panel: ChatPanel, client: PusherClient, bridge: PusherBridge,
                bearer: Callable[[], str] | None = None, events: SignalInstance | None = None) -> ChatSender | None:
    """Subscribe the panel's channels, feed it the bridge's batches and states, and give it a sender.

    ``bearer`` returns the access token for the message endpoint (called off the GUI thread). Returns the
    sender (owned by the panel), or None when the configuration allows none (the panel then says why).
    """
    for name in panel.channels():
        client.subscribe(name)
    # The window passes the feed pipe's non-feed events, so a burst on the feed never reaches the chat.
    (events or bridge.events_received).connect(panel.handle_events, Qt.ConnectionType.QueuedConnection)
    bridge.state_changed.connect(panel.handle_state, Qt.ConnectionType.QueuedConnection)
    try:
        sender = build_sender(panel.config, client, bearer, parent=panel)
    except ChatSetupError as exc:
        panel.set_sender(None, str(exc))
        return None
    panel.set_sender(sender)
    return sender
