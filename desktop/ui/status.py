"""The status bar: connection state with its reason and countdown, who is signed in, which channel."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from desktop.pusher.types import State, StateChanged
from desktop.ui.text import plain

_STATE_TEXT = {
    State.INITIALIZED: "Not connected",
    State.CONNECTING: "Connecting…",
    State.CONNECTED: "Connected",
    State.UNAVAILABLE: "Unavailable",
    State.FAILED: "Failed",
    State.DISCONNECTED: "Disconnected",
}
_STATE_COLOUR = {State.CONNECTED: "#2e9d55", State.FAILED: "#d0443e", State.UNAVAILABLE: "#d08a1e"}



class ConnectionStatus(QStatusBar):
    """Shows what the engine says, in words; counts down to the next reconnect attempt."""

    def __init__(self, parent: QWidget | None = None, *, clock: object = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self.dot = QLabel("●")
        self.state_label = plain(QLabel(_STATE_TEXT[State.INITIALIZED]))
        self.user_label = plain(QLabel("Not signed in"))
        self.channel_label = plain(QLabel(""))
        self.addWidget(self.dot)
        self.addWidget(self.state_label, 1)
        self.addPermanentWidget(self.channel_label)
        self.addPermanentWidget(self.user_label)
        self._retry_at: float | None = None
        self._state = State.INITIALIZED
        self._reason = ""
        self._ticker = QTimer(self)
        self._ticker.setInterval(500)
        self._ticker.timeout.connect(self._render)
        self._render()

    @Slot(object)
    def on_state_changed(self, change: StateChanged) -> None:
        self._state = change.current
        self._reason = change.reason if change.current is not State.CONNECTED else ""
        self._retry_at = (self._clock() + change.retry_in  # type: ignore[operator]
                          if change.retry_in else None)
        if self._retry_at is not None:
            self._ticker.start()
        else:
            self._ticker.stop()
        self._render()

    def set_user(self, name: str | None) -> None:
        self.user_label.setText(f"Signed in as {name}" if name else "Not signed in")

    def set_channel(self, channel: str, *, encrypted: bool, public: bool) -> None:
        suffix = " · end-to-end encrypted" if encrypted else " · public" if public else ""
        self.channel_label.setText(f"{channel}{suffix}")
        self.channel_label.setToolTip("Events are encrypted between the producer and this app" if encrypted
                                      else "Anyone who has the app key can read a public channel" if public
                                      else "A private channel: the server checks our authorization")

    def _render(self) -> None:
        text = _STATE_TEXT[self._state]
        if self._retry_at is not None:
            left = self._retry_at - self._clock()  # type: ignore[operator]
            if left > 0.5:
                text = f"Reconnecting in {left:.0f} s"
            else:
                text = "Reconnecting…"
                self._ticker.stop()
        if self._reason:
            text = f"{text} ({self._reason})"
        self.state_label.setText(text)
        self.state_label.setToolTip(self._reason)
        colour = _STATE_COLOUR.get(self._state, "#8a8f98")
        self.dot.setStyleSheet(f"color: {colour};")
