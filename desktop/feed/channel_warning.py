"""The amber bar above the feed that says its channel is public: anyone with the app key can read it.

A widget of its own so the panel only says which channel (or none); the bar owns its look and its wording.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QWidget

from desktop.feed.model import plain_line
from desktop.ui.text import plain

__all__ = ["PublicChannelWarning"]


class PublicChannelWarning(QFrame):
    """Hidden until :meth:`set_channel` names a public channel; ``label`` holds the sentence (plain text)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("publicChannelWarning")
        # Fixed colours on purpose: the same amber bar with dark text reads on light and dark palettes.
        self.setStyleSheet(
            "#publicChannelWarning { background: #fff3cd; border: 1px solid #e0b252; border-radius: 4px; }"
            "#publicChannelWarning QLabel { color: #4d3800; background: transparent; }")
        icon = plain(QLabel())
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(16, 16))
        self.label = plain(QLabel())
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 5, 8, 5)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.label, 1)
        self.hide()

    def set_channel(self, channel: str | None) -> None:
        """Show the warning for a public feed channel (None or "" hides it)."""
        if channel:
            self.label.setText(
                f"Anyone who has the app key can read {plain_line(channel, 200)}: it is a public channel.")
            self.show()
        else:
            self.label.clear()
            self.hide()
