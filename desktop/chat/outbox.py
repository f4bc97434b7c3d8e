"""Own chat messages from Send to "sent" or "failed": the pending row, the sender, the echo to expect, Retry.

Apart from the panel because it is the one place that knows a message's life: shown at once as pending, sent
with its id, marked sent when the sender says so or when the server's echo of it arrives (whichever is first),
and kept with its id for Retry when sending failed, so a late echo still turns it into "sent", never a copy.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, Slot

from desktop.chat.messages import ChatMessage, EchoFilter, new_message_id
from desktop.chat.model import ChatModel
from desktop.chat.sender import ChatSender

__all__ = ["Outbox"]

log = logging.getLogger("desktop.chat")


class Outbox(QObject):
    """Sends through ``sender`` (None: sending is off) and keeps ``model``'s own rows up to date."""

    def __init__(self, model: ChatModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.sender: ChatSender | None = None
        self._echoes = EchoFilter()

    def set_sender(self, sender: ChatSender | None) -> None:
        if self.sender is not None:
            self.sender.sent.disconnect(self._on_sent)
            self.sender.failed.disconnect(self._on_failed)
        self.sender = sender
        if sender is not None:
            sender.sent.connect(self._on_sent, Qt.ConnectionType.QueuedConnection)
            sender.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)

    def send(self, name: str, text: str) -> None:
        """A new own message, shown as pending and sent (the caller checked it; without a sender, nothing)."""
        sender = self.sender
        if sender is None:
            return
        message = ChatMessage(new_message_id(), name, text, time.time(), own=True, pending=True)
        self.model.add_own_pending(message)
        self._dispatch(message, sender)

    def retry(self, message_id: str) -> None:
        """Send a failed own message again, with the same id."""
        message = self.model.message(message_id)
        sender = self.sender
        if message is None or not message.own or not message.failed or sender is None:
            return
        self.model.mark_pending(message_id)
        self._dispatch(message, sender)

    def take_echo(self, message: ChatMessage, now: float) -> bool:
        """True if ``message`` is the server sending one of ours back: it is marked sent, not shown again."""
        own_id = self._echoes.take(message, now)
        if own_id is None:
            return False
        self.model.mark_sent(own_id)
        return True

    def _dispatch(self, message: ChatMessage, sender: ChatSender) -> None:
        if sender.echoes:
            self._echoes.expect(message.id, message.name, message.text, time.monotonic())
        sender.send(message.id, message.text, message.name)

    @Slot(str)
    def _on_sent(self, message_id: str) -> None:
        self.model.mark_sent(message_id)

    @Slot(str, str)
    def _on_failed(self, message_id: str, reason: str) -> None:
        log.info("a chat message was not sent: %s", reason)
        # The echo filter keeps expecting it: if the server sent it after all (a lost answer), the echo
        # turns the message into "sent" instead of showing it twice.
        self.model.mark_failed(message_id, reason)
