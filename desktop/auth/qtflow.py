"""The device flow for the window: the blocking ``SignInManager`` as a task, its progress and outcome as signals.

The flow runs through the window's one task helper (``desktop.util.tasks``): ``run_task`` on a worker
thread, the code shown with ``to_main`` while the worker waits for approval, and both dropped if the flow
object is gone by then. The dialog (``desktop.ui.signin_dialog``) depends on this module, not the other
way round: the sign-in domain knows nothing of the screen.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal, Slot

from desktop.auth.deviceflow import DeviceAuthorization
from desktop.auth.session import Session
from desktop.auth.signin import SignInFailed, SignInManager
from desktop.util.tasks import run_task, to_main

log = logging.getLogger("desktop.auth")


class SignInFlowSignals(QObject):
    """What the dialog listens to; a flow driver subclasses this and adds ``start``/``cancel`` slots."""

    #: user_code, verification_uri, verification_uri_complete ("" when absent), expires_at (time.time())
    code_ready = Signal(str, str, str, float)
    #: display name, email
    signed_in = Signal(str, str)
    #: reason ("denied", "expired", "cancelled", "error"), message for a person
    failed = Signal(str, str)

    def start(self) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        raise NotImplementedError


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
        cancelled = self._cancelled = threading.Event()
        self._worker = run_task(lambda: self.manager.device_login(self._on_code, cancelled), self._done,
                                self._failed, name="signin", owner=self)

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

    def _on_code(self, authorization: DeviceAuthorization) -> None:  # on the worker
        to_main(self.code_ready.emit, authorization.user_code, authorization.verification_uri,
                authorization.verification_uri_complete or "", authorization.expires_at, owner=self)

    def _done(self, session: Session) -> None:
        self.signed_in.emit(session.profile.name or "", session.profile.email or "")

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, SignInFailed):
            self.failed.emit(exc.reason, exc.message)
            return
        log.error("sign-in failed unexpectedly", exc_info=exc)  # a bug must not leave the dialog waiting
        self.failed.emit("error", f"Sign-in failed unexpectedly ({type(exc).__name__}).")
