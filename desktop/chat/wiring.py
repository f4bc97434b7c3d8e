"""Connect a chat panel to a running engine: subscriptions, queued signals, the sender."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt

from desktop.chat.panel import ChatPanel
from desktop.chat.sender import ChatSender, ChatSetupError, build_sender
from desktop.pusher.client import PusherClient
from desktop.pusher.qtbridge import PusherBridge


def attach_chat(panel: ChatPanel, client: PusherClient, bridge: PusherBridge,
                bearer: Callable[[], str] | None = None) -> ChatSender | None:
    """Route the panel's channels to it, subscribe them, give it the bridge's states, and give it a sender.

    ``bearer`` returns the access token for the message endpoint (called off the GUI thread). Returns the
    sender (owned by the panel), or None when the configuration allows none (the panel then says why).
    """
    # Routes first, then subscribe: nothing of these channels can come before the table knows them.
    presence = [panel.presence_channel] if panel.presence_channel else []
    bridge.routes = bridge.routes.adding(chat=[panel.channel], presence=presence)
    bridge.chat_events.connect(panel.handle_events, Qt.ConnectionType.QueuedConnection)
    bridge.presence_events.connect(panel.handle_events, Qt.ConnectionType.QueuedConnection)
    bridge.state_changed.connect(panel.handle_state, Qt.ConnectionType.QueuedConnection)
    for name in panel.channels():
        client.subscribe(name)
    try:
        sender = build_sender(panel.config, client, bearer, parent=panel)
    except ChatSetupError as exc:
        panel.set_sender(None, str(exc))
        return None
    panel.set_sender(sender)
    return sender
