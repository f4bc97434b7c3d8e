"""The Feed tab: toolbar (search, filters, pause, export), public-channel warning, counters and chart, and
the list with the detail pane beside it.

``add_events`` is the one way in. Counters and the chart always count every event; the list can be
paused, in which case events wait in a buffer and all arrive, in order, on resume.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import tzinfo
from pathlib import Path

from PySide6.QtCore import QItemSelection, QSize, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from desktop.feed.channel_warning import PublicChannelWarning
from desktop.feed.chart import MinuteChart
from desktop.feed.counters import FeedCounters, quiet
from desktop.feed.country_choices import CountryChoices
from desktop.feed.csv_export import ask_csv_path, export_csv
from desktop.feed.detail import EventDetail
from desktop.feed.events import FeedEvent
from desktop.feed.filters import FeedFilterProxy
from desktop.feed.focus import FocusBar
from desktop.feed.fold import LoginFolder
from desktop.feed.model import DEFAULT_MAX_ROWS, FeedModel
from desktop.feed.pause_buffer import PauseBuffer
from desktop.feed.stats import FeedStats
from desktop.feed.toolbar import FeedToolbar
from desktop.feed.view import FeedView
from desktop.ui.text import plain


class FeedPanel(QWidget):
    """The feed tab. ``clock``/``tz`` make times testable; ``max_rows`` caps the list."""

    #: the selected FeedEvent, or None when nothing is selected
    selection_changed = Signal(object)
    #: a person-readable line after each export attempt ("Exported 12 rows to …" or the error)
    export_finished = Signal(str)
    #: FeedEvent: show this user's recent events (double-click or Enter on a row, or the detail pane's button)
    story_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time,
                 tz: tzinfo | None = None, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        super().__init__(parent)
        self.setObjectName("feedPanel")
        self._pause = PauseBuffer(max_rows)
        self.folder = LoginFolder()
        self.model = FeedModel(max_rows, self)
        self.proxy = FeedFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.stats = FeedStats(clock, tz)
        self.view = FeedView(clock=clock, max_rows=max_rows)
        self.view.setModel(self.proxy)
        self.detail = EventDetail()
        self.chart = MinuteChart(self.stats, clock=clock)

        self._create_toolbar()
        self._create_warning()
        self._create_counters()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("feedSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([720, 320])
        self.footer = plain(QLabel())
        self.footer.setObjectName("feedFooter")
        quiet(self.footer)
        self.export_status = plain(QLabel())
        self.export_status.setObjectName("feedExportStatus")
        quiet(self.export_status)
        footer = QHBoxLayout()
        footer.addWidget(self.footer, 1)
        footer.addWidget(self.export_status)

        top = QHBoxLayout()
        top.setSpacing(16)
        top.addWidget(self.counters, 0)
        top.addWidget(self.chart, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(8)
        layout.addLayout(self.toolbar)
        layout.addLayout(self.bars)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(footer)

        self._connect_signals()
        self._update_counters()
        self._update_footer()

    # -- building ---------------------------------------------------------------------------------------
    def _create_toolbar(self) -> None:
        bar = FeedToolbar()
        self.search, self.failures_button, self.type_combo = bar.search, bar.failures_button, bar.type_combo
        self.outcome_combo, self.country_combo = bar.outcome_combo, bar.country_combo
        self.paused_label, self.pause_button, self.export_button = bar.paused_label, bar.pause_button, bar.export_button
        self.toolbar = bar.layout
        self.country_choices = CountryChoices(self.country_combo, self.proxy)
        self.find_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        self.find_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.find_shortcut.activated.connect(self.focus_search)

    def _create_warning(self) -> None:
        self.warning = PublicChannelWarning()
        self.warning_label = self.warning.label
        self.focus_bar = FocusBar(self.proxy)  # while the feed shows only an alert's events
        self.focus_bar.show_all_requested.connect(self.show_all)
        for edited in (self.search.textEdited, self.type_combo.activated, self.outcome_combo.activated,
                       self.country_combo.activated, self.failures_button.clicked):
            edited.connect(self.show_all)  # the person filters again: the whole feed, with their filters
        self.bars = QVBoxLayout()  # the bars above the feed, each shown while it applies
        self.bars.setSpacing(6)
        self.bars.addWidget(self.warning)
        self.bars.addWidget(self.focus_bar)

    def _create_counters(self) -> None:
        self.counters = FeedCounters()
        self.counter_labels = self.counters.labels

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self._apply_filters)
        self.type_combo.currentIndexChanged.connect(self._apply_filters)
        self.outcome_combo.currentIndexChanged.connect(self._apply_filters)
        self.failures_button.toggled.connect(self.set_failures_only)
        self.country_combo.currentIndexChanged.connect(self._apply_filters)
        self.pause_button.toggled.connect(self.set_paused)
        self.export_button.clicked.connect(self._ask_export_path)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.activated.connect(lambda index: self._ask_story(index.data(FeedModel.EventRole)))
        self.detail.story_button.clicked.connect(lambda: self._ask_story(self.detail.current_event))
        self.chart.refreshed.connect(self._update_counters)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset):
            signal.connect(self._update_footer)
        clear_search = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search)
        clear_search.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear_search.activated.connect(self.search.clear)

    # -- public API -------------------------------------------------------------------------------------
    def add_events(self, events: Sequence[FeedEvent]) -> list[FeedEvent]:
        """New events in arrival order (oldest first). Counted at once; listed at once unless paused. A v1 login
        that the tenant log also reported is folded into its v2 row (:mod:`.fold`). Returns the new rows."""
        batch, replaced = self.folder.fold(events)
        for old, new in replaced:  # the v2 row takes the place of the v1 row listed (or waiting) before
            if not self.model.replace_event(old, new):
                self._pause.replace(old, new)
        if not batch:
            return batch
        self.stats.add(batch)
        self.chart.schedule_update()
        if self._pause.paused:
            self._pause.hold(batch)
            self._update_paused_label()
            return batch
        self._show(batch)
        return batch

    @property
    def paused(self) -> bool:
        return self._pause.paused

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        """Pause: the list stops moving and new events wait. Resume: every waiting event arrives, in order."""
        paused = bool(paused)
        if paused == self._pause.paused:
            return
        self._pause.paused = paused
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if paused else "Pause")
        if not paused:
            waiting = self._pause.release()
            if waiting:
                self._show(waiting)
        self._update_paused_label()

    @property
    def buffered_count(self) -> int:
        """Events waiting for Resume."""
        return self._pause.waiting

    def set_public_channel_warning(self, channel: str | None) -> None:
        """Show the warning for a public feed channel (None or "" hides it)."""
        self.warning.set_channel(channel)

    def export_visible_csv(self, path: str | Path) -> int | None:
        """Write the rows shown (filters applied, newest first) to ``path``; the count, or None on failure."""
        count, message = export_csv(self.proxy.visible_events(), path)
        self.export_status.setText(message)
        self.export_finished.emit(message)
        return count

    def clear(self) -> None:
        """Forget the list, the buffer and the counters."""
        self._pause.clear()
        self.model.clear()
        self.stats.clear()
        self.country_choices.clear()
        self.chart.refresh()
        self._update_paused_label()

    @Slot(bool)
    def set_failures_only(self, on: bool) -> None:
        """The one-click toggle: only failures, or every outcome again."""
        self.outcome_combo.setCurrentIndex(max(0, self.outcome_combo.findData("failure")) if on else 0)

    @Slot()
    def show_only(self, log_ids: Sequence[str], title: str, total: int | None = None) -> None:
        """Only the events with these ``log_id`` (behind the alert ``title``; ``total`` of them in all), with a bar
        saying so and Show all; the other filters come back with Show all."""
        self.proxy.show_only(log_ids)
        self.focus_bar.showing(title, len(log_ids), total if total is not None else len(log_ids))
        self._update_footer()

    def show_all(self) -> None:
        """Leave :meth:`show_only`."""
        self.proxy.show_all()
        self.focus_bar.clear()
        self._update_footer()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # -- internals --------------------------------------------------------------------------------------
    def _show(self, batch: list[FeedEvent]) -> None:
        self.model.add_events(batch)
        self.country_choices.note(batch)

    @Slot()
    def _apply_filters(self) -> None:
        outcome = self.outcome_combo.currentData()
        self.failures_button.blockSignals(True)
        self.failures_button.setChecked(outcome == "failure")
        self.failures_button.blockSignals(False)
        self.proxy.set_filters(kind=self.type_combo.currentData(), country=self.country_combo.currentData(),
                               outcome=outcome,
                               text=self.search.text())
        current = self.view.currentIndex()
        if current.isValid() and self.view.selectionModel().isSelected(current):
            self.view.scrollTo(current, QAbstractItemView.ScrollHint.PositionAtCenter)
        else:
            self.view.jump_to_top()
        self._update_footer()

    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        rows = self.view.selectionModel().selectedRows()
        ev = rows[0].data(FeedModel.EventRole) if rows else None
        self.detail.set_event(ev)
        self.selection_changed.emit(ev)

    def _ask_story(self, ev: object) -> None:
        if isinstance(ev, FeedEvent) and ev.user_id:
            self.story_requested.emit(ev)

    def selected_event(self) -> FeedEvent | None:
        return self.detail.current_event

    @Slot()
    def _update_counters(self) -> None:
        self.counters.show_counts(self.stats.counts())

    @Slot()
    def _update_footer(self, *args: object) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if self.proxy.is_filtering():
            self.footer.setText(f"Showing {shown:,} of {total:,} events")
        else:
            self.footer.setText(f"{total:,} event{'s' if total != 1 else ''}")

    def _update_paused_label(self) -> None:
        if self._pause.paused:
            self.paused_label.setText(f"Paused — {self._pause.waiting:,} new")
            self.paused_label.show()
        else:
            self.paused_label.hide()

    @Slot()
    def _ask_export_path(self) -> None:
        path = ask_csv_path(self)
        if path:
            self.export_visible_csv(path)

    def sizeHint(self) -> QSize:
        return QSize(1000, 700)

