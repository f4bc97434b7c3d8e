"""The device flow for the window: the blocking ``SignInManager`` on a worker thread, results as signals.

Signals emitted from the worker reach the dialog through Qt's queued connections (the flow object lives
in the GUI thread), so the dialog never waits and never touches the network.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import Slot

from desktop.auth.deviceflow import DeviceAuthorization
from desktop.auth.signin import SignInFailed, SignInManager
from desktop.ui.signin_dialog import SignInFlowSignals

log = logging.getLogger("desktop.auth")


class SignInFlow(SignInFlowSignals):
    """One device flow at a time; ``start`` again (Try again) only after the previous one has ended."""

    def __init__(self, manager: SignInManager) -> None:
        super().__init__()
        self.manager = manager
        self._cancelled = threading.Event()
        self._worker: threading.Thread | None = None

    @Slot()
    def start(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        self._cancelled = threading.Event()
        self._worker = threading.Thread(target=self._run, args=(self._cancelled,), name="login-feed-signin",
                                        daemon=True)
        self._worker.start()

    @Slot()
    def cancel(self) -> None:
        self._cancelled.set()

    def wait(self, timeout: float) -> bool:
        """For tests and shutdown: wait for the worker to end (never called from the worker itself)."""
        worker = self._worker
        if worker is None or worker is threading.current_thread():
            return True
        worker.join(timeout)
        return not worker.is_alive()

    def _run(self, cancelled: threading.Event) -> None:
        def on_code(authorization: DeviceAuthorization) -> None:
            self.code_ready.emit(authorization.user_code, authorization.verification_uri,
                                 authorization.verification_uri_complete or "", authorization.expires_at)

        try:
            session = self.manager.device_login(on_code, cancelled)
        except SignInFailed as exc:
            self.failed.emit(exc.reason, exc.message)
        except Exception as exc:  # a bug must not leave the dialog waiting forever
            log.exception("sign-in failed unexpectedly")
            self.failed.emit("error", f"Sign-in failed unexpectedly ({type(exc).__name__}).")
        else:
            self.signed_in.emit(session.profile.name or "", session.profile.email or "")
