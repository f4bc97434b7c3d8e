"""The feed list: uniform rows painted by :class:`FeedDelegate`, following the top unless the user scrolled.

Rows arrive on top. A user at the top (scroll value 0) sees them come in; a user who scrolled down keeps
seeing exactly the rows they were reading: the scroll bar moves down by the inserted rows' height, and a
"N new events" button offers the way back up.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QPushButton, QStyleOptionViewItem, QWidget

from desktop.feed.delegate import FeedDelegate

RELATIVE_TIME_REFRESH_MS = 30_000

Index = QModelIndex | QPersistentModelIndex


class FeedView(QListView):
    """A QListView for the feed. ``new_rows_above`` counts rows that arrived while the user was scrolled away."""

    #: rows that arrived above the user's position since they scrolled away (0 when back on top)
    new_rows_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time,
                 max_rows: int = 5_000) -> None:
        super().__init__(parent)
        self.setItemDelegate(FeedDelegate(self, clock=clock))
        self.setUniformItemSizes(True)
        # Batched, with a batch that covers a whole capped model: with Qt's default (100 rows) every insert
        # lays out the first 100 rows alone, the scroll range collapses meanwhile and a user who scrolled
        # down is thrown back near the top.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(max(100, max_rows))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        self.setObjectName("feedView")
        self.setAccessibleName("Feed")
        self.setAccessibleDescription("Logins, signups and failures, newest on top; Enter opens the user's events")
        self.verticalScrollBar().setSingleStep(max(8, self.row_height() // 2))

        self.new_rows_above = 0
        self.jump_button = QPushButton(self)
        self.jump_button.setObjectName("feedJumpToTop")
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.setToolTip("Back to the newest events")
        self.jump_button.hide()
        self.jump_button.clicked.connect(self.jump_to_top)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

        self._refresh = QTimer(self)  # relative times ("2 min ago") age even when nothing arrives
        self._refresh.setInterval(RELATIVE_TIME_REFRESH_MS)
        self._refresh.timeout.connect(self.viewport().update)
        self._refresh.start()

    # -- following the top ------------------------------------------------------------------------------
    def row_height(self) -> int:
        """The (uniform) height of a row, in pixels, including the spacing."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        return self.itemDelegate().sizeHint(option, QModelIndex()).height() + 2 * self.spacing()

    def is_at_top(self) -> bool:
        return self.verticalScrollBar().value() <= 0

    def rowsInserted(self, parent: Index, start: int, end: int) -> None:
        scroll = self.verticalScrollBar()
        before = scroll.value()
        super().rowsInserted(parent, start, end)
        if parent.isValid() or before <= 0:
            return  # following the top: the new rows simply appear
        if getattr(self.model(), "refiltering", False):
            return  # a filter change, not new events (the panel decides where to look)
        height = self.row_height()
        if start * height > before:
            return  # inserted below what the user looks at: nothing moves
        count = end - start + 1
        self.executeDelayedItemsLayout()  # the scroll range must include the new rows before moving
        scroll.setValue(before + count * height)
        self.new_rows_above += count
        self._show_jump_button()
        self.new_rows_changed.emit(self.new_rows_above)

    @Slot()
    def jump_to_top(self) -> None:
        self.scrollToTop()
        self._reset_new_rows()

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        if value <= 0 and self.new_rows_above:
            self._reset_new_rows()

    def _reset_new_rows(self) -> None:
        self.jump_button.hide()
        if self.new_rows_above:
            self.new_rows_above = 0
            self.new_rows_changed.emit(0)

    def _show_jump_button(self) -> None:
        count = self.new_rows_above
        self.jump_button.setText(f"↑ {count:,} new event{'s' if count != 1 else ''}")
        self.jump_button.adjustSize()
        self._place_jump_button()
        self.jump_button.show()
        self.jump_button.raise_()

    def _place_jump_button(self) -> None:
        button = self.jump_button
        viewport = self.viewport().geometry()
        button.move(viewport.left() + (viewport.width() - button.width()) // 2, viewport.top() + 8)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_jump_button()
