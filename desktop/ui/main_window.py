"""The main window: the feed in the middle, the team chat in a dock, the status bar below.

What keeps the feed from being live (``ConnectionStatus.problem``) is also shown in a red bar above the feed,
with Reconnect, for as long as it lasts: a person looking at a quiet feed must see it is not live.

Layout and menus only; what the actions do is wired in ``desktop.app`` (the one wiring place).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.feed.csv_export import ask_csv_path
from desktop.ui.status import ConnectionStatus
from desktop.ui.text import plain


class MainWindow(QMainWindow):
    """Owns the panels' placement, the menus, and the window's remembered geometry."""

    settings_requested = Signal()
    sign_in_requested = Signal()
    sign_out_requested = Signal()
    reconnect_requested = Signal()
    export_requested = Signal(str)  # a CSV path the user chose
    closing = Signal()

    def __init__(self, feed: QWidget, chat: QWidget, status: ConnectionStatus, prefs: QSettings) -> None:
        super().__init__()
        self.setWindowTitle("Login Feed")
        self.setObjectName("LoginFeedMainWindow")
        self.feed = feed
        self.chat = chat
        self.status = status
        self._prefs = prefs
        self.setCentralWidget(self._central(feed))
        self.setStatusBar(status)
        status.problem_changed.connect(self.show_problem)
        status.reconnect_requested.connect(self.reconnect_requested)
        self.chat_dock = QDockWidget("Team chat", self)
        self.chat_dock.setObjectName("chatDock")
        self.chat_dock.setWidget(chat)
        self.chat_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                                   | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.chat_dock)
        self.chat_action = self.chat_dock.toggleViewAction()
        self.chat_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self._build_menus()
        self.resize(1280, 800)
        self.resizeDocks([self.chat_dock], [360], Qt.Orientation.Horizontal)  # the feed is the main thing

    def _central(self, feed: QWidget) -> QWidget:
        self.problem_bar = QFrame()
        self.problem_bar.setObjectName("feedProblemBar")
        # Fixed colours on purpose, like the public-channel warning: readable on light and dark palettes.
        self.problem_bar.setStyleSheet(
            "#feedProblemBar { background: #f8d7da; border: 1px solid #d0443e; border-radius: 4px; }"
            "#feedProblemBar QLabel { color: #58151c; background: transparent; }")
        self.problem_label = plain(QLabel())
        self.problem_label.setObjectName("feedProblemLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_button = QPushButton("Reconnect")
        self.problem_button.clicked.connect(self.reconnect_requested)
        row = QHBoxLayout(self.problem_bar)
        row.setContentsMargins(8, 5, 8, 5)
        row.addWidget(self.problem_label, 1)
        row.addWidget(self.problem_button, 0)
        self._problem_area = QWidget()  # holds the bar with the feed panel's own margins
        area = QVBoxLayout(self._problem_area)
        area.setContentsMargins(8, 8, 8, 0)
        area.addWidget(self.problem_bar)
        self._problem_area.hide()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._problem_area)
        layout.addWidget(feed, 1)
        return central

    def show_problem(self, text: str) -> None:
        """The bar above the feed: ``text`` says why the feed is not live; "" hides it."""
        self.problem_label.setText(f"The feed is not live. {text}" if text else "")
        self._problem_area.setVisible(bool(text))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        export = QAction("&Export visible rows as CSV…", self)
        export.setShortcut(QKeySequence("Ctrl+E"))
        export.triggered.connect(self._ask_export_path)
        settings = QAction("&Settings…", self)
        settings.setShortcut(QKeySequence.StandardKey.Preferences)
        settings.triggered.connect(self.settings_requested)
        self.sign_in_action = QAction("Sign &in…", self)
        self.sign_in_action.triggered.connect(self.sign_in_requested)
        self.sign_out_action = QAction("Sign &out", self)
        self.sign_out_action.triggered.connect(self.sign_out_requested)
        self.reconnect_action = QAction("&Reconnect", self)
        self.reconnect_action.setShortcut(QKeySequence("Ctrl+R"))
        self.reconnect_action.setToolTip("Start a fresh connection with the current settings")
        self.reconnect_action.triggered.connect(self.reconnect_requested)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (export, settings, self.reconnect_action, None, self.sign_in_action, self.sign_out_action,
                       None, quit_action):
            if action is None:
                file_menu.addSeparator()
            else:
                file_menu.addAction(action)
        self.view_menu = self.menuBar().addMenu("&View")  # docks added by their wiring put their entry here too
        self.view_menu.addAction(self.chat_action)

    def set_unread(self, count: int) -> None:
        """The chat's unread count, on the dock's title and its menu entry, while the chat is hidden."""
        suffix = f" ({count} unread)" if count else ""
        self.chat_dock.setWindowTitle(f"Team chat{suffix}")
        self.chat_action.setText(f"Team &chat{suffix}")

    def set_signed_in(self, name: str | None, *, can_sign_in: bool) -> None:
        self.status.set_user(name)
        self.sign_in_action.setVisible(can_sign_in and not name)
        self.sign_out_action.setVisible(bool(name))

    def restore_layout(self) -> None:
        geometry = self._prefs.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self._prefs.value("window/state")
        if state is not None:
            self.restoreState(state)
        splitter = getattr(self.feed, "splitter", None)
        sizes = self._prefs.value("window/feed_splitter")
        if splitter is not None and sizes is not None:
            splitter.restoreState(sizes)

    def save_layout(self) -> None:
        self._prefs.setValue("window/geometry", self.saveGeometry())
        self._prefs.setValue("window/state", self.saveState())
        splitter = getattr(self.feed, "splitter", None)
        if splitter is not None:
            self._prefs.setValue("window/feed_splitter", splitter.saveState())
        self._prefs.sync()

    def _ask_export_path(self) -> None:
        path = ask_csv_path(self)
        if path:
            self.export_requested.emit(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.closing.emit()
        super().closeEvent(event)
