"""Where the refresh token lives: the OS keyring and nowhere else, with a deadline on every call.

Keyring backends can block (a locked Secret Service waiting for an unlock prompt nobody sees), so every
call has a timeout; when the keyring is missing, locked or slow we say so and the caller signs in for
this session only. Nothing is ever written to a file instead.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

from desktop import APP_NAME
from desktop.secrets import KEYRING_TIMEOUT, KeyringUnavailable
from desktop.util.blocking import call_with_timeout

log = logging.getLogger("desktop.auth")

T = TypeVar("T")


class RefreshTokenStore:
    """One refresh token per (issuer, client id), so two tenants never mix."""

    def __init__(self, issuer: str, client_id: str, *, backend: KeyringBackend | None = None,
                 timeout: float = KEYRING_TIMEOUT) -> None:
        self.account = f"refresh-token:{issuer.rstrip('/')}|{client_id}"
        self._backend = backend
        self._timeout = timeout

    def load(self) -> str | None:
        return self._call(lambda kr: kr.get_password(APP_NAME, self.account), "read")

    def save(self, refresh_token: str) -> None:
        self._call(lambda kr: kr.set_password(APP_NAME, self.account, refresh_token), "write")

    def delete(self) -> None:
        def delete(kr: KeyringBackend) -> None:
            with contextlib.suppress(PasswordDeleteError):  # already gone: that is what we wanted
                kr.delete_password(APP_NAME, self.account)
        self._call(delete, "clear")

    def backend_name(self) -> str:
        kr = self._backend or keyring.get_keyring()
        return f"{type(kr).__module__}.{type(kr).__name__}"

    def _call(self, action: Callable[[KeyringBackend], T], verb: str) -> T:
        def run() -> T:
            return action(self._backend or keyring.get_keyring())
        try:
            return call_with_timeout(run, self._timeout, "the OS keyring")
        except TimeoutError:
            raise KeyringUnavailable(f"the OS keyring did not answer within {self._timeout:g} s (is it locked?); "
                                     "you stay signed in for this session only") from None
        except KeyringLocked:  # no unlock prompt could be shown, or the user dismissed it
            raise KeyringUnavailable("the OS keyring is locked (unlock it to stay signed in after a restart); "
                                     "you stay signed in for this session only") from None
        except (KeyringError, RuntimeError, OSError) as exc:
            log.debug("keyring %s failed: %s", verb, type(exc).__name__)
            raise KeyringUnavailable(f"the OS keyring could not {verb} the sign-in ({type(exc).__name__}); "
                                     "you stay signed in for this session only") from None
