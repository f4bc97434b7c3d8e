"""Labels that show text from the network or from users: always plain text, never Qt's rich-text guess."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain(label: QLabel) -> QLabel:
    """``label`` set to plain text (QLabel's default, AutoText, renders anything that looks like HTML)."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
