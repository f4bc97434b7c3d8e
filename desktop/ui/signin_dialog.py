"""The sign-in dialog: the user code, big and selectable, with the URL, a QR code and the time left.

A view only. It talks to a *flow* object (``desktop.auth.qtflow.SignInFlow``, or any
``SignInFlowSignals``) through signals and two slots, so the dialog never waits on the network and tests
can drive it with a stand-in flow.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.auth.qtflow import SignInFlowSignals
from desktop.ui.qr import qr_image
from desktop.ui.text import plain


class SignInDialog(QDialog):
    """Three pages: asking for a code, showing it, and the outcome (with Try again)."""

    def __init__(self, flow: SignInFlowSignals, provider_name: str = "your sign-in provider",
                 parent: QWidget | None = None, *, clock: object = time.time) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in to Login Feed")
        self.setMinimumWidth(460)
        self._flow = flow
        self._clock = clock
        self._expires_at = 0.0
        self._url = ""
        self._complete_url = ""
        self._provider = provider_name
        self._finished = False

        self._create_widgets()
        self.pages.addWidget(_centred(self.status))
        self.pages.addWidget(self._code_page())
        self.pages.addWidget(_centred(self.outcome))
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(self.pages)
        layout.addLayout(buttons)

        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._update_time_left)
        self._connect_signals()
        self._show_starting()

    # -- building ---------------------------------------------------------------------------------
    def _create_widgets(self) -> None:
        self.pages = QStackedWidget()
        self.status = plain(QLabel())
        self.status.setWordWrap(True)
        self.code = plain(QLabel())
        self.code.setObjectName("userCode")
        code_font = QFont(self.font())
        code_font.setPointSizeF(max(code_font.pointSizeF(), 10) * 2.6)
        code_font.setBold(True)
        code_font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 3)
        code_font.setStyleHint(QFont.StyleHint.Monospace)
        self.code.setFont(code_font)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.url = plain(QLabel())
        self.url.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.url.setWordWrap(True)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.time_left = plain(QLabel())
        self.time_left.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.copy_button = QPushButton("&Copy code")
        self.open_button = QPushButton("&Open browser")
        self.open_button.setDefault(True)
        self.retry_button = QPushButton("&Try again")
        self.cancel_button = QPushButton("Cancel")
        self.outcome = plain(QLabel())
        self.outcome.setWordWrap(True)
        self.outcome.setAlignment(Qt.AlignmentFlag.AlignCenter)


    def _code_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        intro = plain(QLabel("Open the page below on any device, sign in, and check that it shows this code:"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addWidget(self.code)
        layout.addWidget(self.url)
        layout.addSpacing(8)
        layout.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        hint = plain(QLabel("Or scan the code with your phone's camera."))
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)
        layout.addWidget(hint)
        layout.addWidget(self.time_left)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.copy_button)
        row.addWidget(self.open_button)
        row.addStretch(1)
        layout.addLayout(row)
        return page

    def _connect_signals(self) -> None:
        self._flow.code_ready.connect(self._show_code)
        self._flow.signed_in.connect(self._on_signed_in)
        self._flow.failed.connect(self._on_failed)
        self.copy_button.clicked.connect(self._copy_code)
        self.open_button.clicked.connect(self._open_browser)
        self.retry_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.reject)

    # -- behaviour --------------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        """Ask for a new code: only ever on the user's request (opening the dialog, or Try again)."""
        self._finished = False
        self._show_starting()
        self._flow.start()

    def reject(self) -> None:
        self._finished = True
        self._countdown.stop()
        self._flow.cancel()
        super().reject()

    def _show_starting(self) -> None:
        self.status.setText(f"Asking {self._provider} for a sign-in code…")
        self.retry_button.hide()
        self.pages.setCurrentIndex(0)

    @Slot(str, str, str, float)
    def _show_code(self, user_code: str, url: str, complete_url: str, expires_at: float) -> None:
        self._url, self._complete_url, self._expires_at = url, complete_url, expires_at
        self.code.setText(user_code)
        self.url.setText(url)
        self.qr.setPixmap(QPixmap.fromImage(qr_image(complete_url or url, scale=4)))
        self.retry_button.hide()
        self.pages.setCurrentIndex(1)
        self._update_time_left()
        self._countdown.start()
        self.open_button.setFocus()

    @Slot(str, str)
    def _on_signed_in(self, name: str, email: str) -> None:
        if self._finished:  # cancelled already: the flow undoes the late approval itself
            return
        self._finished = True
        self._countdown.stop()
        self.outcome.setText(f"Signed in as {name or email}.")
        self.pages.setCurrentIndex(2)
        self.accept()

    @Slot(str, str)
    def _on_failed(self, reason: str, message: str) -> None:
        self._countdown.stop()
        if reason == "cancelled":
            return
        self.outcome.setText(message)
        self.retry_button.show()
        self.retry_button.setFocus()
        self.pages.setCurrentIndex(2)

    def _update_time_left(self) -> None:
        left = max(0, int(self._expires_at - self._clock()))  # type: ignore[operator]
        minutes, seconds = divmod(left, 60)
        self.time_left.setText(f"The code expires in {minutes}:{seconds:02d}" if left else "The code has expired.")

    def _copy_code(self) -> None:
        QGuiApplication.clipboard().setText(self.code.text())
        self.copy_button.setText("Copied")
        # The button is the timer's context: if the dialog is gone by then, the call is dropped with it.
        QTimer.singleShot(1500, self.copy_button, lambda: self.copy_button.setText("&Copy code"))

    def _open_browser(self) -> None:
        QDesktopServices.openUrl(QUrl(self._complete_url or self._url))


def _centred(widget: QWidget) -> QWidget:
    """A page showing ``widget`` alone, in the middle (the starting and the outcome pages)."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addStretch(1)
    layout.addWidget(widget)
    layout.addStretch(1)
    return page
