"""The feed's toolbar, two rows: the search and the list's actions (pause, export), then the filters, with
**Failures only** first (one click, or Alt+O, away), the kind, the outcome and the country. Only the widgets and
their layout: :class:`~desktop.feed.panel.FeedPanel` connects them."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from desktop.feed.kinds import KIND_CHOICES, OUTCOME_CHOICES
from desktop.ui.text import plain

__all__ = ["FeedToolbar"]


class FeedToolbar:
    """The widgets (named for tests and screen readers) and ``layout``, the two rows."""

    def __init__(self) -> None:
        self.search = QLineEdit()
        self.search.setObjectName("feedSearch")
        self.search.setPlaceholderText("Search name, email, IP, reason, device, city… (Ctrl+F)")
        self.search.setAccessibleName("Search the feed")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.failures_button = QPushButton("Failures &only")
        self.failures_button.setObjectName("feedFailuresOnly")
        self.failures_button.setCheckable(True)
        self.failures_button.setToolTip("Only failed logins, signups, blocks and other failures (Alt+O)")
        self.type_combo = _combo("feedTypeFilter", "Filter by kind", KIND_CHOICES)
        self.outcome_combo = _combo("feedOutcomeFilter", "Filter by outcome", OUTCOME_CHOICES)
        self.country_combo = _combo("feedCountryFilter", "Filter by country", (("All countries", None),))
        self.country_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.country_combo.setMinimumContentsLength(10)
        self.paused_label = plain(QLabel())
        self.paused_label.setObjectName("feedPausedLabel")
        self.paused_label.hide()
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("feedPauseButton")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Stop the list from moving; new events wait and nothing is lost")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("feedExportButton")
        self.export_button.setToolTip("Save the rows shown (with the current filters) as a CSV file")

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.search, 3)
        top.addStretch(1)
        for widget in (self.paused_label, self.pause_button, self.export_button):
            top.addWidget(widget)
        filters = QHBoxLayout()
        filters.setSpacing(6)
        for widget in (self.failures_button, self.type_combo, self.outcome_combo, self.country_combo):
            filters.addWidget(widget)
        filters.addStretch(1)
        self.layout = QVBoxLayout()
        self.layout.setSpacing(6)
        self.layout.addLayout(top)
        self.layout.addLayout(filters)


def _combo(name: str, accessible: str, choices: tuple[tuple[str, str | None], ...]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    for label, value in choices:
        combo.addItem(label, value)
    return combo
