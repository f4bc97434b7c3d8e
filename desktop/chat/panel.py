"""The chat panel: messages, who is online, and an input that says before sending when a message is too long.

A view plus a little glue. The window hands it the engine's event batches (``handle_events``) and state
changes (``handle_state``) through the Qt bridge, tells it whether it is visible (``set_visible_in_window``,
for the unread count) and gives it a sender (``set_sender``) and the name to send as (``set_identity``).
The panel never touches the network itself.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import (
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.delegate import ChatDelegate, error_color, warning_color
from desktop.chat.input_state import input_state
from desktop.chat.messages import ChatMessage, check_outgoing, clean_name, client_event_name, parse_message
from desktop.chat.model import ChatModel
from desktop.chat.online import SUBSCRIPTION_ERROR, OnlineBox
from desktop.chat.outbox import Outbox
from desktop.chat.presence import PresenceModel
from desktop.chat.sender import ChatSender
from desktop.chat.view import ChatInput, ChatView
from desktop.config_schema import ChatConfig
from desktop.pusher.errors import describe_subscription_error
from desktop.pusher.types import ChannelEvent, State, StateChanged
from desktop.ui.text import plain
from desktop.util.os_user import os_user_name

#: Below this width the online list becomes a strip above the messages.
NARROW_WIDTH = 520
SUBSCRIPTION_SUCCEEDED = "pusher:subscription_succeeded"


def default_display_name() -> str:
    """The OS user name (as on presence channels before a sign-in): what we send as until the window knows the
    signed-in profile's name."""
    return clean_name(os_user_name())



class ChatPanel(QWidget):
    """The team chat of the original sample, on ``[chat] channel`` / ``[chat] event``."""

    #: incoming messages not yet seen (counted while the panel is hidden in the window)
    unread_changed = Signal(int)

    def __init__(self, chat: ChatConfig | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = chat or ChatConfig()
        self.channel = self.config.channel
        self.event_names = frozenset({self.config.event, client_event_name(self.config.event)})
        self.presence_channel = self.config.presence_channel or None
        self.model = ChatModel(self)
        self.presence_model = PresenceModel(self)
        self.outbox = Outbox(self.model, self)
        self._sender_reason = "Sending is not set up yet."
        self._channel_problem = ""
        self._identity = default_display_name()
        self._visible = True
        self._unread = 0
        self._create_widgets()
        self._layout_widgets()
        self._connect_signals()
        self._update_input_state()
        self._update_status()

    # -- public API ---------------------------------------------------------------------------------
    def reconfigure(self, chat: ChatConfig) -> None:
        """Settings changed the chat's channels or event: listen to the new ones (the history stays)."""
        if chat == self.config:
            return
        self.config = chat
        self.channel = chat.channel
        self.event_names = frozenset({chat.event, client_event_name(chat.event)})
        self.presence_channel = chat.presence_channel or None
        self.online_box.set_channel(self.presence_channel)

    def channels(self) -> list[str]:
        """The channels the window subscribes to for this panel."""
        return [self.channel] + ([self.presence_channel] if self.presence_channel else [])

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def unread_count(self) -> int:
        return self._unread

    @property
    def current_sender(self) -> ChatSender | None:
        return self.outbox.sender

    def set_identity(self, name: str) -> None:
        """The display name sent with each message (the signed-in profile's name, or the OS user name)."""
        self._identity = clean_name(name) if name and name.strip() else default_display_name()
        self.input.setPlaceholderText(f"Message the team as {self._identity} "
                                      "(Enter sends, Shift+Enter adds a line)")
        self.input.viewport().update()  # seen stale on X11 after a sign-in: repaint the placeholder now
        self._update_input_state()

    def set_sender(self, sender: ChatSender | None, reason: str = "") -> None:
        """Where messages go; ``None`` turns sending off, with ``reason`` shown to the person."""
        self.outbox.set_sender(sender)
        self._sender_reason = "" if sender is not None else (reason or "Sending is not set up.")
        self._update_input_state()
        self._update_status()

    def set_visible_in_window(self, visible: bool) -> None:
        """Whether a person can see the chat now; shown resets the unread count."""
        self._visible = visible
        if visible:
            self._set_unread(0)

    @Slot(list)
    def handle_events(self, events: list[ChannelEvent]) -> None:
        """The chat's and presence channels' events of a batch (``PusherBridge.chat_events`` and
        ``presence_events``, see ``attach_chat``); channels that are not the chat's are ignored."""
        incoming: list[ChatMessage] = []
        now = time.monotonic()
        for event in events:
            if event.channel == self.channel:
                self._chat_event(event, now, incoming)
            elif event.channel == self.presence_channel and self.presence_channel is not None:
                self.online_box.handle_event(event)
        if not incoming:
            return
        follow = self._at_bottom()
        added = self.model.add_incoming(incoming)
        if follow:
            self.view.scrollToBottom()
        if added and not self._visible:
            self._set_unread(self._unread + added)

    @Slot(object)
    def handle_state(self, change: StateChanged) -> None:
        """The connection's state: while it is down nobody is known to be online."""
        if change.current is not State.CONNECTED:
            self.online_box.set_offline()

    @Slot()
    def send_current(self) -> None:
        """Send what is in the input (Enter and the Send button); refused with the reason before sending."""
        text = self.input.toPlainText().strip()
        if not text:
            return
        if check_outgoing(text, self._identity) is not None or self.outbox.sender is None:
            self._update_input_state()
            return
        self.outbox.send(self._identity, text)
        self.input.clear()
        self.view.scrollToBottom()

    # -- widgets ------------------------------------------------------------------------------------
    def _create_widgets(self) -> None:
        self.status_label = plain(QLabel(self))
        self.status_label.setWordWrap(True)
        self.status_label.setVisible(False)
        self.view = ChatView(self)
        self.view.setModel(self.model)
        self.delegate = ChatDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.online_box = OnlineBox(self.presence_model, self.presence_channel, self)
        self.online_header, self.online_view = self.online_box.header, self.online_box.view
        self.input = ChatInput(self)
        self.input.setAccessibleName("Chat message")
        self.counter = plain(QLabel(self))
        self.counter.setWordWrap(True)
        self.counter.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(False)
        self.set_identity(self._identity)

    def _layout_widgets(self) -> None:
        online = self.online_box
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(online)
        self._narrow: bool | None = None
        self._arrange(narrow=False)

        bottom = QHBoxLayout()
        bottom.setSpacing(6)
        bottom.addWidget(self.input, 1)
        bottom.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.status_label)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.counter)

    def _connect_signals(self) -> None:
        self.input.submitted.connect(self.send_current)
        self.input.textChanged.connect(self._update_input_state)
        self.send_button.clicked.connect(self.send_current)
        self.delegate.retry_requested.connect(self.outbox.retry)
        self.view.retry_requested.connect(self.outbox.retry)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(narrow=event.size().width() < NARROW_WIDTH)

    def _arrange(self, narrow: bool) -> None:
        """Wide: the online list beside the messages. Narrow (a slim dock): names flow in a strip on top."""
        if narrow == self._narrow:
            return
        self._narrow = narrow
        self.online_box.place(self.splitter, narrow=narrow, width=self.width(), height=self.height())

    # -- events -------------------------------------------------------------------------------------
    def _chat_event(self, event: ChannelEvent, now: float, incoming: list[ChatMessage]) -> None:
        if event.event in self.event_names:
            message = parse_message(event.event, event.data, event.received_at)
            if message is None:
                return
            if not self.outbox.take_echo(message, now):  # our own message sent back is shown already
                incoming.append(message)
        elif event.event == SUBSCRIPTION_ERROR:
            self._channel_problem = f"The chat is unavailable: {describe_subscription_error(event.data)}"
            self._update_status()
        elif event.event == SUBSCRIPTION_SUCCEEDED and self._channel_problem:
            self._channel_problem = ""
            self._update_status()

    @Slot(str)
    def retry(self, message_id: str) -> None:
        """Send a failed own message again, with the same id."""
        self.outbox.retry(message_id)

    # -- state shown --------------------------------------------------------------------------------
    def _set_unread(self, count: int) -> None:
        if count != self._unread:
            self._unread = count
            self.unread_changed.emit(count)

    def _at_bottom(self) -> bool:
        bar = self.view.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def _update_status(self) -> None:
        text = self._channel_problem or self._sender_reason
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))
        palette = self.status_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_color(self.palette()) if self._channel_problem
                         else warning_color(self.palette()))
        self.status_label.setPalette(palette)

    @Slot()
    def _update_input_state(self) -> None:
        """The byte counter, its warning, and whether Send is possible: all before anything is sent."""
        sender = self.outbox.sender
        state = input_state(self.input.toPlainText().strip(), self._identity,
                            None if sender is None else sender.description, self._sender_reason)
        self.counter.setText(state.counter)
        palette = self.counter.palette()
        colors = {"quiet": self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText),
                  "warning": warning_color(self.palette()), "error": error_color(self.palette())}
        palette.setColor(QPalette.ColorRole.WindowText, colors[state.tone])
        self.counter.setPalette(palette)
        self.send_button.setEnabled(state.can_send)
        self.send_button.setToolTip(state.tooltip)
