"""The Pusher app secret and the encryption master key: from the environment first, else the OS keyring.

Secrets never touch a file here, and no value ever reaches a log line or an exception message. Keyring failures
become KeyringUnavailable with advice (use the environment variable instead). This is plain synchronous code:
keyring backends can block on D-Bus or an unlock prompt, so callers run it off the GUI thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TypeVar

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, NoKeyringError

from desktop import APP_NAME
from desktop.config_checks import AUTH0_CLIENT_SECRET_ENV, LOG_STREAM_TOKEN_ENV, MASTER_KEY_ENV, PUSHER_SECRET_ENV
from desktop.util.blocking import call_with_timeout

__all__ = [
    "MASTER_KEY_ACCOUNT",
    "MASTER_KEY_ENV",
    "PUSHER_SECRET_ENV",
    "SERVICE",
    "KeyringUnavailable",
    "SecretStore",
    "SecretsUnavailable",
    "pusher_secret_account",
]

log = logging.getLogger(__name__)

SERVICE = APP_NAME
MASTER_KEY_ACCOUNT = "encryption-master-key"
LOG_STREAM_TOKEN_ACCOUNT = "log-stream-token"  # noqa: S105 (an account name)
_MANAGEMENT_SECRET_PREFIX = "auth0-management-secret:"  # noqa: S105 (an account name, one per client id)
# Backends are not consistent: some wrap D-Bus or file problems in KeyringError, others let them through.
_KEYRING_ERRORS = (KeyringError, RuntimeError, OSError)  # TimeoutError (the deadline) is an OSError
#: How long any keyring call may take before we give up and say so (shared with desktop.auth.store).
KEYRING_TIMEOUT = 5.0
T = TypeVar("T")


class KeyringUnavailable(Exception):
    """The OS keyring could not be used (missing, locked, slow or failing), for the app's secrets here and
    for the sign-in (``desktop.auth.store``): the message says what failed and what to do instead, and never
    carries the secret."""


#: The name this module used before the sign-in's keyring failure and this one became one class.
SecretsUnavailable = KeyringUnavailable


def pusher_secret_account(app_key: str) -> str:
    """Keyring account name for an app's secret: one per app key, so switching apps cannot mix secrets."""
    if not isinstance(app_key, str) or not app_key.strip():
        raise ValueError("a Pusher app key is required to look up its secret")
    return f"pusher-secret:{app_key}"


class SecretStore:
    """Reads and writes the app's secrets. `env` and `backend` are injectable for tests.

    Without `backend`, the process-wide keyring (`keyring.get_keyring()`) is used, chosen on first use.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        backend: KeyringBackend | None = None,
        service: str = SERVICE,
    ) -> None:
        self._env = os.environ if env is None else env
        self._backend = backend
        self._service = service

    # ---- Pusher app secret (local signing mode) -----------------------------------------------------------

    def pusher_secret(self, app_key: str) -> str | None:
        """The app secret for `app_key`, or None when neither the environment nor the keyring has it."""
        account = pusher_secret_account(app_key)
        return self._get(PUSHER_SECRET_ENV, account, f"the Pusher app secret for key {app_key}")

    def set_pusher_secret(self, app_key: str, secret: str) -> None:
        self._set(pusher_secret_account(app_key), secret, f"the Pusher app secret for key {app_key}")

    def delete_pusher_secret(self, app_key: str) -> None:
        """Remove the stored secret; a missing one is fine (sign-out and reset call this blindly)."""
        self._delete(pusher_secret_account(app_key), f"the Pusher app secret for key {app_key}")

    # ---- encryption master key (private-encrypted channels) -----------------------------------------------

    def encryption_master_key(self) -> str | None:
        """The base64 master key for encrypted channels, or None when it is not configured."""
        return self._get(MASTER_KEY_ENV, MASTER_KEY_ACCOUNT, "the encryption master key")

    def set_encryption_master_key(self, value: str) -> None:
        self._set(MASTER_KEY_ACCOUNT, value, "the encryption master key")

    def delete_encryption_master_key(self) -> None:
        self._delete(MASTER_KEY_ACCOUNT, "the encryption master key")

    # ---- the Auth0 log stream's Authorization value (login-feed server) --------------------------------------

    def log_stream_token(self) -> str | None:
        """What Auth0's log stream sends as ``Authorization`` (the server compares it), or None when unset."""
        return self._get(LOG_STREAM_TOKEN_ENV, LOG_STREAM_TOKEN_ACCOUNT, "the log stream token")

    def set_log_stream_token(self, value: str) -> None:
        self._set(LOG_STREAM_TOKEN_ACCOUNT, value, "the log stream token")

    # ---- the [auth0_management] application's client secret (the server's catch-up) -----------------------

    def auth0_management_secret(self, client_id: str) -> str | None:
        """The Machine-to-Machine application's secret (one keyring entry per client id), or None when unset."""
        return self._get(AUTH0_CLIENT_SECRET_ENV, _MANAGEMENT_SECRET_PREFIX + client_id,
                         "the Auth0 Management API client secret")

    def set_auth0_management_secret(self, client_id: str, secret: str) -> None:
        self._set(_MANAGEMENT_SECRET_PREFIX + client_id, secret, "the Auth0 Management API client secret")

    # ---- plumbing -----------------------------------------------------------------------------------------

    def _keyring(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def _call(self, action: Callable[[KeyringBackend], T]) -> T:
        """Run a keyring call with a deadline: a locked keyring can wait forever on an unlock prompt."""
        return call_with_timeout(lambda: action(self._keyring()), KEYRING_TIMEOUT, "the OS keyring")

    def _get(self, env_name: str, account: str, what: str) -> str | None:
        from_env = self._env.get(env_name)
        if from_env:  # an empty variable means unset, so `VAR=` cannot shadow the keyring with ""
            log.debug("using %s from %s", what, env_name)
            return from_env
        try:
            value = self._call(lambda ring: ring.get_password(self._service, account))
        except _KEYRING_ERRORS as exc:
            raise KeyringUnavailable(_advice("read", what, exc, env_name)) from None
        log.debug("%s %s in the OS keyring", what, "found" if value else "not found")
        return value or None

    def _set(self, account: str, value: str, what: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{what} must be a non-empty string")
        try:
            self._call(lambda ring: ring.set_password(self._service, account, value))
        except _KEYRING_ERRORS as exc:
            raise KeyringUnavailable(_advice("store", what, exc, _env_for(account), value)) from None
        log.info("stored %s in the OS keyring", what)

    def _delete(self, account: str, what: str) -> None:
        def delete(ring: KeyringBackend) -> bool:
            if ring.get_password(self._service, account) is None:
                return False
            ring.delete_password(self._service, account)
            return True

        try:
            if not self._call(delete):
                return
        except _KEYRING_ERRORS as exc:
            raise KeyringUnavailable(_advice("delete", what, exc, _env_for(account))) from None
        log.info("deleted %s from the OS keyring", what)


def _env_for(account: str) -> str:
    if account == LOG_STREAM_TOKEN_ACCOUNT:
        return LOG_STREAM_TOKEN_ENV
    if account.startswith(_MANAGEMENT_SECRET_PREFIX):
        return AUTH0_CLIENT_SECRET_ENV
    return MASTER_KEY_ENV if account == MASTER_KEY_ACCOUNT else PUSHER_SECRET_ENV


def _advice(verb: str, what: str, exc: BaseException, env_name: str, secret: str = "") -> str:
    """A message that explains the failure and the way around it, scrubbed of the secret just in case."""
    if isinstance(exc, NoKeyringError):
        reason = "no OS keyring is available (install or unlock one, e.g. GNOME Keyring or KWallet)"
    elif isinstance(exc, KeyringLocked):
        reason = "the OS keyring is locked (unlock it and try again)"
    elif isinstance(exc, TimeoutError):  # our deadline: almost always an unlock prompt nobody answered
        reason = f"{exc} (is it locked?)"
    else:
        detail = str(exc)
        if secret:
            detail = detail.replace(secret, "***")
        reason = f"the OS keyring failed ({type(exc).__name__}: {detail[:200]})"
    where = "from" if verb in ("read", "delete") else "in"
    return f"cannot {verb} {what} {where} the OS keyring: {reason}; you can set {env_name} in the environment instead"
