"""The sign-in dialog's states with a stand-in flow, then once with the real flow against the OpenID provider.

The stand-in flow is the dialog's whole world (signals in, ``start``/``cancel`` out), so each state can be
shown on demand; the real-flow test checks the part a stand-in cannot: the event loop keeps running while a
worker thread polls the provider.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog
from support.oidc_provider import OidcProvider as OidcTestServer
from support.signin_helpers import HangingKeyring, MemoryKeyring, closing_manager

from desktop.auth.qtflow import SignInFlow
from desktop.ui.signin_dialog import SignInDialog, SignInFlowSignals

CODE = "BCDF-GHJK"
URL = "https://login.example.com/activate"
COMPLETE = f"{URL}?user_code={CODE}"
DENIED = "Sign-in was denied. Start again if that was a mistake."
EXPIRED = "The code expired before it was approved. Start again to get a new code."


class StubFlow(SignInFlowSignals):
    """Records what the dialog asks of the flow; the test emits the flow's signals itself."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0
        self.cancels = 0

    def start(self) -> None:
        self.starts += 1

    def cancel(self) -> None:
        self.cancels += 1


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def flow() -> StubFlow:
    return StubFlow()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dialog(qtbot, flow: StubFlow, clock: Clock) -> SignInDialog:
    view = SignInDialog(flow, "login.example.com", clock=clock)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.start()
    return view


def show_code(flow: StubFlow, clock: Clock, code: str = CODE, lifetime: float = 125.0) -> None:
    flow.code_ready.emit(code, URL, COMPLETE, clock.now + lifetime)


def test_starting_page(dialog: SignInDialog, flow: StubFlow) -> None:
    assert flow.starts == 1
    assert dialog.pages.currentIndex() == 0
    assert dialog.status.text() == "Asking login.example.com for a sign-in code…"
    assert not dialog.retry_button.isVisible()
    assert dialog.cancel_button.isVisible()
    assert dialog.windowTitle() == "Sign in to Login Feed"


def test_code_page(qtbot, dialog: SignInDialog, flow: StubFlow, clock: Clock) -> None:
    show_code(flow, clock)
    assert dialog.pages.currentIndex() == 1
    assert dialog.code.text() == CODE
    assert dialog.code.textFormat() == Qt.TextFormat.PlainText
    flags = dialog.code.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
    assert flags & Qt.TextInteractionFlag.TextSelectableByKeyboard
    assert dialog.code.isVisible()
    assert dialog.url.text() == URL
    assert dialog.url.isVisible()
    pixmap = dialog.qr.pixmap()
    assert not pixmap.isNull()
    assert pixmap.width() == pixmap.height() > 50
    assert dialog.time_left.text() == "The code expires in 2:05"
    assert not dialog.retry_button.isVisible()

    # The countdown follows the (injected) clock on its own timer (one tick a second).
    clock.now += 65
    qtbot.waitUntil(lambda: dialog.time_left.text() == "The code expires in 1:00", timeout=10_000)
    # A new code (Try again) starts from its own expiry; one that has passed says so.
    show_code(flow, clock, lifetime=9)
    assert dialog.time_left.text() == "The code expires in 0:09"
    show_code(flow, clock, lifetime=-1)
    assert dialog.time_left.text() == "The code has expired."


def test_qr_code_is_of_the_complete_url_when_given(dialog: SignInDialog, flow: StubFlow, clock: Clock) -> None:
    flow.code_ready.emit(CODE, URL, COMPLETE, clock.now + 60)
    with_complete = dialog.qr.pixmap().toImage()
    flow.code_ready.emit(CODE, URL, "", clock.now + 60)
    without = dialog.qr.pixmap().toImage()
    assert not without.isNull()
    assert with_complete != without  # two different URLs, two different codes


def test_copy_puts_the_code_on_the_clipboard(qtbot, dialog: SignInDialog, flow: StubFlow, clock: Clock) -> None:
    QGuiApplication.clipboard().clear()
    show_code(flow, clock)
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == CODE
    assert dialog.copy_button.text() == "Copied"
    # The label goes back after a moment (wait for it: the timer must not outlive the test).
    qtbot.waitUntil(lambda: dialog.copy_button.text() == "&Copy code", timeout=10_000)


def test_copy_then_close_at_once_raises_nothing(qtbot, flow: StubFlow, clock: Clock) -> None:
    """Copy, then close the dialog before the "Copied" label reverts (1.5 s): nothing may blow up later."""
    view = SignInDialog(flow, "login.example.com", clock=clock)
    view.show()
    qtbot.waitExposed(view)
    view.start()
    show_code(flow, clock)
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    clicked_at = time.monotonic()
    view.reject()
    destroyed: list[bool] = []
    view.destroyed.connect(lambda: destroyed.append(True))
    view.deleteLater()
    qtbot.waitUntil(lambda: bool(destroyed), timeout=10_000)
    # Let the revert timer fire (it is due 1.5 s after the click); pytest-qt fails the test on any exception
    # raised in a Qt callback meanwhile.
    deadline = clicked_at + 1.7
    qtbot.waitUntil(lambda: time.monotonic() >= deadline, timeout=10_000)


@pytest.mark.parametrize(("reason", "message"), [("denied", DENIED), ("expired", EXPIRED),
                                                  ("error", "The sign-in service answered server_error.")],
                         ids=["denied", "expired", "error"])
def test_failure_shows_the_message_and_try_again(dialog: SignInDialog, flow: StubFlow, clock: Clock,
                                                 reason: str, message: str) -> None:
    show_code(flow, clock)
    flow.failed.emit(reason, message)
    assert dialog.pages.currentIndex() == 2
    assert dialog.outcome.text() == message
    assert dialog.outcome.textFormat() == Qt.TextFormat.PlainText
    assert dialog.retry_button.isVisible()
    assert dialog.isVisible()  # the dialog stays open: the user decides
    assert not dialog._countdown.isActive()


def test_try_again_starts_a_new_flow(qtbot, dialog: SignInDialog, flow: StubFlow, clock: Clock) -> None:
    show_code(flow, clock)
    flow.failed.emit("expired", EXPIRED)
    assert flow.starts == 1
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    assert flow.starts == 2
    assert dialog.pages.currentIndex() == 0
    assert not dialog.retry_button.isVisible()
    show_code(flow, clock, code="MNPQ-RSTV")
    assert dialog.code.text() == "MNPQ-RSTV"
    assert dialog.pages.currentIndex() == 1


def test_cancel_cancels_the_flow_and_rejects(qtbot, dialog: SignInDialog, flow: StubFlow, clock: Clock) -> None:
    show_code(flow, clock)
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert flow.cancels == 1
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not dialog.isVisible()
    assert not dialog._countdown.isActive()
    # The flow then reports "cancelled": the dialog ignores it quietly.
    flow.failed.emit("cancelled", "Sign-in was cancelled.")
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_escape_cancels_too(qtbot, dialog: SignInDialog, flow: StubFlow, clock: Clock) -> None:
    show_code(flow, clock)
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert flow.cancels == 1


def test_signed_in_accepts(qtbot, dialog: SignInDialog, flow: StubFlow, clock: Clock) -> None:
    show_code(flow, clock)
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        flow.signed_in.emit("Ada Lovelace", "ada@example.com")
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.outcome.text() == "Signed in as Ada Lovelace."
    assert flow.cancels == 0
    assert not dialog._countdown.isActive()


def test_markup_from_the_provider_is_shown_literally(qtbot, flow: StubFlow, clock: Clock) -> None:
    view = SignInDialog(flow, "<i>evil</i>", clock=clock)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.start()
    assert view.status.text() == "Asking <i>evil</i> for a sign-in code…"
    assert view.status.textFormat() == Qt.TextFormat.PlainText
    flow.code_ready.emit("<b>X</b>", "https://login.example.com/<a href=x>", "", clock.now + 60)
    assert view.code.text() == "<b>X</b>"
    assert view.code.textFormat() == Qt.TextFormat.PlainText
    assert view.url.textFormat() == Qt.TextFormat.PlainText
    flow.failed.emit("error", "<img src=x> failed")
    assert view.outcome.text() == "<img src=x> failed"
    assert view.outcome.textFormat() == Qt.TextFormat.PlainText


# ---------------------------------------------------------------------------------------------- the real flow


@pytest.fixture
def real_flow(oidc_provider: OidcTestServer) -> Iterator[SignInFlow]:
    with closing_manager(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.audience,
                         MemoryKeyring()) as manager:
        flow = SignInFlow(manager)
        try:
            yield flow
        finally:
            flow.cancel()
            assert flow.wait(10), "the sign-in worker did not end"


def test_real_flow_keeps_the_event_loop_running(qtbot, oidc_provider: OidcTestServer,
                                                real_flow: SignInFlow) -> None:
    view = SignInDialog(real_flow, "the test provider")
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)

    ticks: list[float] = []
    probe = QTimer(view)
    probe.setInterval(20)
    probe.timeout.connect(lambda: ticks.append(time.monotonic()))
    probe.start()
    view.start()
    qtbot.waitUntil(lambda: view.pages.currentIndex() == 1, timeout=10_000)
    user_code = view.code.text()
    assert user_code
    assert view.url.text().startswith(oidc_provider.base_url)
    assert not view.qr.pixmap().isNull()

    # Wait ~2.5 s while the worker polls (interval 1 s): the GUI thread must never be blocked meanwhile.
    waiting_from = time.monotonic()
    ticks.clear()
    qtbot.waitUntil(lambda: time.monotonic() - waiting_from >= 2.5, timeout=10_000)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    print(f"{len(ticks)} ticks of 20 ms in 2.5 s; the longest gap {max(gaps, default=0):.3f} s")
    # A poll (or its 1 s wait) on the GUI thread would stop the ticks for a second at a time; a loaded machine
    # may delay a tick by a tenth of a second or so, which is no sign of anything.
    assert len(ticks) >= 5, f"only {len(ticks)} ticks in 2.5 s"
    assert max(gaps) < 0.9, f"the event loop stalled for {max(gaps):.3f} s"
    assert view.pages.currentIndex() == 1  # still waiting for the user

    with qtbot.waitSignal(view.accepted, timeout=10_000):
        oidc_provider.approve(user_code, sub="auth0|demo-ada")
    probe.stop()
    assert view.result() == QDialog.DialogCode.Accepted
    assert view.outcome.text() == "Signed in as Ada Lovelace."
    assert real_flow.wait(5)
    profile = real_flow.manager.profile
    assert profile is not None
    assert (profile.name, profile.email) == ("Ada Lovelace", "ada@example.com")


def test_real_flow_denied_then_try_again(qtbot, oidc_provider: OidcTestServer, real_flow: SignInFlow) -> None:
    view = SignInDialog(real_flow, "the test provider")
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.start()
    qtbot.waitUntil(lambda: view.pages.currentIndex() == 1, timeout=10_000)
    first_code = view.code.text()
    oidc_provider.deny(first_code)
    qtbot.waitUntil(lambda: view.retry_button.isVisible(), timeout=10_000)
    assert "denied" in view.outcome.text()
    assert real_flow.wait(5)

    qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.pages.currentIndex() == 1, timeout=10_000)
    assert view.code.text() != first_code
    with qtbot.waitSignal(view.accepted, timeout=10_000):
        oidc_provider.approve(view.code.text(), sub="auth0|demo-grace")
    assert view.outcome.text() == "Signed in as Grace Hopper."


def test_cancel_while_the_approval_is_being_stored_stays_cancelled(qtbot, oidc_provider: OidcTestServer) -> None:
    """Cancel pressed after the provider approved but before the sign-in is complete (a slow keyring write).

    The dialog said "rejected"; it must not turn into "accepted" afterwards when the worker finishes anyway.
    """
    slow_keyring = HangingKeyring(hang=5.0)
    with closing_manager(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.audience, slow_keyring,
                         keyring_timeout=5.0) as manager:
        flow = SignInFlow(manager)
        try:
            view = SignInDialog(flow, "the test provider")
            qtbot.addWidget(view)
            outcomes: list[str] = []
            view.accepted.connect(lambda: outcomes.append("accepted"))
            view.rejected.connect(lambda: outcomes.append("rejected"))
            view.show()
            qtbot.waitExposed(view)
            view.start()
            qtbot.waitUntil(lambda: view.pages.currentIndex() == 1, timeout=10_000)
            oidc_provider.approve(view.code.text(), sub="auth0|demo-ada")
            qtbot.waitUntil(lambda: slow_keyring.calls == ["set"], timeout=10_000)  # the worker is storing
            qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
            slow_keyring.release()
            assert flow.wait(5)
            # The worker has ended: its queued signal (if any) is posted; deliver it.
            QCoreApplication.processEvents()
            QCoreApplication.sendPostedEvents()
            assert outcomes == ["rejected"]
            assert view.result() == QDialog.DialogCode.Rejected
        finally:
            slow_keyring.release()
            flow.cancel()
            flow.wait(10)
