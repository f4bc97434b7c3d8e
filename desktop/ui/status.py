"""The status bar: connection state with its reason and countdown, who is signed in, which channel.

Problems that stop the feed (the engine stopped, the feed channel refused, the sign-in could not be
restored, the connection could not be built) stay on screen until they are over, never as a timed
message: ``QStatusBar.showMessage`` hides the state while it shows and then vanishes, which is how a refused
feed used to disappear after 30 s while the bar said Connected. Each problem offers Reconnect.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QStatusBar, QWidget

from desktop.pusher.types import State, StateChanged
from desktop.ui.text import plain
from desktop.util.message import Message

_STATE_TEXT = {
    State.INITIALIZED: "Not connected",
    State.CONNECTING: "Connecting…",
    State.CONNECTED: "Connected",
    State.UNAVAILABLE: "Unavailable",
    State.FAILED: "Failed",
    State.DISCONNECTED: "Disconnected",
}
_STATE_COLOUR = {State.CONNECTED: "#2e9d55", State.FAILED: "#d0443e", State.UNAVAILABLE: "#d08a1e"}
_PROBLEM_COLOUR = "#d0443e"
_MAX_REASON = 300


class ConnectionStatus(QStatusBar):
    """Shows what the engine says, in words; counts down to the next reconnect attempt; keeps problems up."""

    #: the person pressed Reconnect
    reconnect_requested = Signal()
    #: the problem that keeps the feed from being live, in words ("" when there is none)
    problem_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, clock: object = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self.dot = QLabel("●")
        self.state_label = plain(QLabel(_STATE_TEXT[State.INITIALIZED]))
        self.user_label = plain(QLabel("Not signed in"))
        self.channel_label = plain(QLabel(""))
        self.addWidget(self.dot)
        # Long reasons must not widen the window: the label takes the room there is (the whole text is in
        # its tooltip, and wrapped in the window's problem bar).
        self.state_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.state_label.setMinimumWidth(160)
        self.addWidget(self.state_label, 1)
        self.reconnect_button = QPushButton("Reconnect")
        self.reconnect_button.setObjectName("statusReconnectButton")
        self.reconnect_button.setToolTip("Start a fresh connection with the current settings")
        self.reconnect_button.clicked.connect(self.reconnect_requested)
        self.reconnect_button.hide()
        self.addWidget(self.reconnect_button)
        self.addPermanentWidget(self.channel_label)
        self.addPermanentWidget(self.user_label)
        self._retry_at: float | None = None
        self._state = State.INITIALIZED
        self._reason = ""
        self._stopped = ""  # the connection is not running at all, and why
        self._feed_problem = ""  # connected (or trying), but the feed channel was refused
        self._problem = ""
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

    def set_stopped(self, text: str | None) -> None:
        """The connection is not running (engine stopped, sign-in or build failed): shown instead of the state."""
        self._stopped = _clip(text)
        self._render()

    def set_feed_problem(self, text: str | None) -> None:
        """The feed channel's subscription failed (None clears it once a subscription succeeds)."""
        self._feed_problem = _clip(text)
        self._render()

    def new_connection(self) -> None:
        """A fresh connection is on its way: the old one's state no longer applies. A refused feed stays
        shown until a subscription succeeds (``set_feed_problem(None)``): Reconnect alone does not fix it."""
        self._stopped = ""
        self.on_state_changed(StateChanged(self._state, State.INITIALIZED))

    @property
    def problem(self) -> str:
        """What keeps the feed from being live, as shown ("" when nothing does)."""
        return self._problem

    @Slot(object)
    def show_message(self, message: Message) -> None:
        """A message from ``desktop.util.message`` (connected in ``desktop.app``): shown for its time, over
        the state label; a problem that lasts is never a message (see the module)."""
        self.showMessage(message.text, message.timeout_ms)

    def set_user(self, name: str | None) -> None:
        self.user_label.setText(f"Signed in as {name}" if name else "Not signed in")

    def set_channel(self, channel: str, *, encrypted: bool, public: bool) -> None:
        suffix = " · end-to-end encrypted" if encrypted else " · public" if public else ""
        self.channel_label.setText(f"{channel}{suffix}")
        self.channel_label.setToolTip("Events are encrypted between the producer and this app" if encrypted
                                      else "Anyone who has the app key can read a public channel" if public
                                      else "A private channel: the server checks our authorization")

    def _render(self) -> None:
        if self._stopped:
            self._show(self._stopped, _PROBLEM_COLOUR, self._stopped, self._stopped)
            return
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
        if self._feed_problem:
            problem = f"The feed channel was refused: {self._feed_problem}"
            self._show(f"{text} — feed refused: {self._feed_problem}", _PROBLEM_COLOUR, problem, problem)
        else:
            problem = text if self._state is State.FAILED else ""
            self._show(text, _STATE_COLOUR.get(self._state, "#8a8f98"), self._reason, problem)

    def _show(self, text: str, colour: str, tooltip: str, problem: str) -> None:
        self.state_label.setText(text)
        self.state_label.setToolTip(tooltip)
        self.dot.setStyleSheet(f"color: {colour};")
        self.reconnect_button.setVisible(bool(problem))
        if problem != self._problem:
            self._problem = problem
            self.problem_changed.emit(problem)


def _clip(text: str | None) -> str:
    """One line of at most ``_MAX_REASON`` characters: reasons can carry text from the network."""
    line = " ".join((text or "").split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"
