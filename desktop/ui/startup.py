"""Before the window's app is built: Qt's application identity, the configuration (or the first run's
Settings), and after it: the garbage collector tuned for a long-lived GUI. ``desktop.app.run_window`` runs them.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import resources
from desktop.config import load_config
from desktop.config_schema import Config, ConfigError
from desktop.ui.settings_dialog import SettingsDialog


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


def tune_gc() -> None:
    """Everything built so far lives as long as the app: keep it out of the collector's sight, and collect
    less often, so a burst of events does not pause the GUI thread for full collections (measured with
    bench/window_burst.py: 45-100 ms pauses, several per burst, before)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
