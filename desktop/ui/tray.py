"""The tray icon: where signup, block and alert notifications are shown. The window works the same without one.

Notification servers may read a body as markup: everything shown here is escaped, so a hostile name is shown
as typed (the texts themselves are plain, from ``desktop.feed.notify`` and ``desktop.alerts``).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMainWindow, QSystemTrayIcon

from desktop import resources
from desktop.feed.events import FeedEvent
from desktop.feed.notify import notifications

log = logging.getLogger("desktop.app")


def make_tray(window: QMainWindow) -> QSystemTrayIcon | None:
    """The tray icon (a click shows the window), or None where the desktop has no tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        log.info("no system tray: signup notifications are off")
        return None
    tray = QSystemTrayIcon(QIcon(str(resources.path("icons", "login-feed.svg"))), window)
    tray.setToolTip("Login Feed")
    tray.activated.connect(lambda *_: (window.showNormal(), window.activateWindow()))
    tray.show()
    return tray


def tell_listed(tray: QSystemTrayIcon | None, listed: Sequence[FeedEvent], prefs: QSettings) -> None:
    """The notifications the rows just listed call for, as the Settings' switches allow."""
    if tray is None:
        return
    for title, body in notifications(listed, signups=prefs.value("notifications/signups", True, type=bool),
                                     blocks=prefs.value("notifications/blocks", True, type=bool)):
        tray.showMessage(title, html.escape(body), QSystemTrayIcon.MessageIcon.Information, 5000)
