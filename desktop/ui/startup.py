"""Before the window's app is built: Qt's application identity, the configuration (or the first run's
Settings), and after it: the garbage collector tuned for a long-lived GUI. ``desktop.app.run_window`` runs them.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import resources
from desktop.config import load_config
from desktop.config_schema import Config, ConfigError
from desktop.ui.settings_dialog import SettingsDialog
from desktop.util import collector


def window_qapp() -> QApplication:
    """The QApplication, named so desktops match the window to ``login-feed.desktop`` and its icon."""
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Login Feed")
    qapp.setOrganizationName("login-feed")
    qapp.setDesktopFileName("login-feed")  # Wayland matches the window to login-feed.desktop and its icon
    qapp.setWindowIcon(QIcon(str(resources.path("icons", "login-feed.svg"))))
    qapp.setQuitOnLastWindowClosed(True)
    return qapp


def window_config(config_path: Path | None, data_dir: Path) -> Config | int:
    """The configuration to start with, or the exit code: 2 if it cannot be read (told in a message box),
    0 if a first run's Settings were closed without saving. A first run (no file yet) opens Settings first."""
    try:
        if config_path is not None and not config_path.exists():
            config = Config(path=config_path)  # a first run with a chosen path: Settings will write it there
        else:
            config = load_config(config_path, os.environ)
    except ConfigError as exc:
        QMessageBox.critical(None, "Login Feed", f"The configuration could not be read:\n\n{exc}")
        return 2
    if config.path is not None and config.path.exists():
        return config
    prefs = QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)
    dialog = SettingsDialog(config, prefs)
    saved: list[Config] = []
    dialog.saved.connect(saved.append)
    if dialog.exec() != SettingsDialog.DialogCode.Accepted or not saved:
        return 0
    return saved[0]


class GuiThreadCollector(QObject):
    """Python's cyclic garbage collector, run only on the GUI thread (qutebrowser's ``GarbageCollector``).

    With automatic collection on, whichever thread allocates when a threshold is crossed runs the collector:
    an engine, writer or task thread. A Qt object whose Python wrapper sits in a reference cycle (a dialog, a
    connection's bridge, a closed panel) is then destroyed off its thread, which crashes Qt. So automatic
    collection is off, and a timer on the GUI thread collects each generation when its count passed the same
    thresholds the collector would use. Memory between two ticks only grows by cycles: refcounting still frees
    everything else at once.
    """

    THRESHOLDS = collector.THRESHOLDS

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self.collections = [0, 0, 0]
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def collect_due(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds (the collector's own rule)."""
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self.THRESHOLDS[generation]:
                return
            gc.collect(generation)
            self.collections[generation] += 1


def tune_gc(parent: QObject | None = None) -> GuiThreadCollector:
    """Everything built so far lives as long as the app: keep it out of the collector's sight (``freeze``),
    then collect on the GUI thread only (:class:`GuiThreadCollector`). Returns the running collector."""
    collector.freeze_startup()
    gui_collector = GuiThreadCollector(parent)
    gui_collector.start()
    return gui_collector
