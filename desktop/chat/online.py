"""Who is online on the chat's presence channel: a header with the count (or why nobody is known) over the list.

The chat panel places it beside the messages when it is wide, and as a strip of names above them when it is a slim
dock (:meth:`OnlineBox.place`); the presence channel's events come to :meth:`OnlineBox.handle_event`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QFrame, QLabel, QListView, QSplitter, QVBoxLayout, QWidget

from desktop.chat.presence import PRESENCE_EVENTS, PresenceModel
from desktop.pusher.errors import describe_subscription_error
from desktop.pusher.types import ChannelEvent
from desktop.ui.text import plain

__all__ = ["SUBSCRIPTION_ERROR", "OnlineBox"]

SUBSCRIPTION_ERROR = "pusher:subscription_error"


class OnlineBox(QWidget):
    """The header and list of the presence channel's members (``model``); hidden without a presence channel."""

    def __init__(self, model: PresenceModel, channel: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.channel = channel
        self.header = plain(QLabel(self))
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.view = QListView(self)
        self.view.setModel(model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setUniformItemSizes(True)
        self.view.setAccessibleName("Online team members")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 4, 0)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        self.setVisible(channel is not None)
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            signal.connect(self.update_header)
        self.update_header()

    def set_channel(self, channel: str | None) -> None:
        """Another presence channel (Settings), or none: nobody is known on it yet, and the box shows only while
        there is a channel to list the members of."""
        self.channel = channel
        self.model.clear()
        self.update_header()
        self.setVisible(channel is not None)

    def handle_event(self, event: ChannelEvent) -> None:
        """One of the presence channel's events: a member came or went, or the channel was refused."""
        if event.event in PRESENCE_EVENTS:
            self.model.handle_event(event.event, event.data)
            self.update_header()
        elif event.event == SUBSCRIPTION_ERROR:
            self.model.clear()
            self.header.setText("Online: unavailable")
            self.header.setToolTip(f"Could not join {self.channel}: {describe_subscription_error(event.data)}")

    def set_offline(self) -> None:
        """The connection is down: nobody is known to be online."""
        self.model.clear()
        self.update_header(offline=True)

    def update_header(self, *_args: object, offline: bool = False) -> None:
        if offline:
            self.header.setText("Online: not connected")
            self.header.setToolTip("")
            return
        self.header.setText(f"Online ({self.model.rowCount()})")
        self.header.setToolTip(f"Members of {self.channel}")

    def place(self, splitter: QSplitter, *, narrow: bool, width: int, height: int) -> None:
        """Wide: the list beside the messages. Narrow (a slim dock): names flow in a strip on top."""
        view = self.view
        view.setFlow(QListView.Flow.LeftToRight if narrow else QListView.Flow.TopToBottom)
        view.setWrapping(narrow)
        view.setUniformItemSizes(not narrow)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setSpacing(3 if narrow else 1)
        line = QFontMetrics(view.font()).height()
        if narrow:
            splitter.setOrientation(Qt.Orientation.Vertical)
            splitter.insertWidget(0, self)
            self.setMinimumWidth(0)
            self.setMinimumHeight(line * 2 + 16)
            self.setMaximumHeight(line * 6)
            splitter.setStretchFactor(0, 0)
            splitter.setStretchFactor(1, 1)
            splitter.setSizes([line * 3 + 16, max(200, height)])
        else:
            splitter.setOrientation(Qt.Orientation.Horizontal)
            splitter.insertWidget(1, self)
            self.setMinimumHeight(0)
            self.setMaximumHeight(16777215)
            self.setMinimumWidth(120)
            splitter.setStretchFactor(0, 1)
            splitter.setStretchFactor(1, 0)
            splitter.setSizes([max(200, width - 170), 160])
