"""The bar above the feed while it shows only the events behind an alert (issue 15), with Show all.

The filtering itself is the proxy's (:meth:`FeedFilterProxy.show_only`); this bar says what is shown, how many
of the alert's events the feed still holds (the oldest may be gone past the feed's cap, and the server lists
at most 50 of a long attack's events), and ends it. The alert's name is remote text: a plain-text label.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.feed.filters import FeedFilterProxy
from desktop.ui.text import plain

__all__ = ["FocusBar"]


class FocusBar(QFrame):
    """``Showing the 10 events behind: Brute force on one account: alice@example.com   [Show all]``."""

    show_all_requested = Signal()

    def __init__(self, proxy: FeedFilterProxy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("feedFocusBar")
        # Fixed colours on purpose, like the other bars above the feed: readable on light and dark palettes.
        self.setStyleSheet("#feedFocusBar { background: #dbe9fb; border: 1px solid #5b8fd6; border-radius: 4px; }"
                           "#feedFocusBar QLabel { color: #0b2a52; background: transparent; }")
        self._proxy = proxy
        self._title = ""
        self._total = 0
        self.label = plain(QLabel())
        self.label.setObjectName("feedFocusLabel")
        self.label.setWordWrap(True)
        self.button = QPushButton("Show &all")
        self.button.setObjectName("feedFocusShowAll")
        self.button.setToolTip("Back to the whole feed, with its filters")
        self.button.clicked.connect(self.show_all_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.button, 0)
        for signal in (proxy.rowsInserted, proxy.rowsRemoved, proxy.modelReset):
            signal.connect(self._update)
        self.hide()

    def showing(self, title: str, listed: int, total: int) -> None:
        """The feed now shows the ``listed`` events named by the alert ``title`` (of ``total`` behind it)."""
        self._title, self._total = title, max(total, listed)
        self._update()
        self.show()

    def _update(self, *_args: object) -> None:
        if not self._title:
            return
        shown = self._proxy.rowCount()
        noun = "event" if self._total == 1 else "events"
        if shown == self._total:
            head = f"Showing the {self._total:,} {noun} behind: {self._title}"
        else:  # past the feed's cap, or beyond the 50 the server lists for a long attack
            head = (f"Showing {shown:,} of the {self._total:,} {noun} behind: {self._title} "
                    "(the others are not in the feed)")
        self.label.setText(head)

    def clear(self) -> None:
        self._title = ""
        self.label.setText("")
        self.hide()
