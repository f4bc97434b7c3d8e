"""Helpers for the sign-in driver tests: an in-memory keyring, a hanging one, and a device login on a thread.

``SignInManager.device_login`` blocks until the flow ends, so tests run it on a thread (:class:`LoginRun`),
wait for the user code it shows, act as the user at the provider (approve, deny, expire) and then collect
the outcome, always with a deadline.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from desktop.auth.deviceflow import DeviceAuthorization
from desktop.auth.provider import OidcProvider as ProviderClient
from desktop.auth.session import Session
from desktop.auth.signin import SignInManager
from desktop.auth.store import RefreshTokenStore
from desktop.config_checks import DEFAULT_SCOPE

LOGIN_TIMEOUT = 15.0


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict (research reference §6.4); counts writes so tests can see rotations."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}
        self.writes: list[str] = []
        self._lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self.store[(service, username)] = password
            self.writes.append(password)

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            try:
                del self.store[(service, username)]
            except KeyError:
                raise PasswordDeleteError("not found") from None

    def only_value(self) -> str | None:
        """The single stored secret (None when the keyring is empty); fails when there are several."""
        with self._lock:
            values = list(self.store.values())
        assert len(values) <= 1, f"expected at most one keyring entry, found {len(values)}"
        return values[0] if values else None


class HangingKeyring(KeyringBackend):
    """A keyring that never answers in time (a locked Secret Service waiting for an unseen unlock prompt).

    Each call blocks until :meth:`release` (or ``hang`` seconds), then does nothing; ``calls`` records them.
    """

    priority = 1  # type: ignore[assignment]

    def __init__(self, hang: float = 2.0) -> None:
        super().__init__()
        self.hang = hang
        self.calls: list[str] = []
        self.call_started: list[float] = []  # time.monotonic() of each call
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def _block(self, what: str) -> None:
        self.calls.append(what)
        self.call_started.append(time.monotonic())
        self._released.wait(self.hang)

    def get_password(self, service: str, username: str) -> str | None:
        self._block("get")
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._block("set")

    def delete_password(self, service: str, username: str) -> None:
        self._block("delete")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A :class:`MemoryKeyring` installed process-wide (``keyring.set_keyring``) for one test."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def make_manager(issuer: str, client_id: str, audience: str | None, backend: KeyringBackend, *,
                 keyring_timeout: float = 5.0, scope: str = DEFAULT_SCOPE) -> SignInManager:
    """A manager talking to ``issuer`` with its refresh token in ``backend``; close ``manager.provider``."""
    provider = ProviderClient(issuer, client_id, timeout=5.0)
    store = RefreshTokenStore(issuer, client_id, backend=backend, timeout=keyring_timeout)
    return SignInManager(provider, store, scope=scope, audience=audience)


@contextlib.contextmanager
def closing_manager(*args: Any, **kwargs: Any) -> Iterator[SignInManager]:
    manager = make_manager(*args, **kwargs)
    try:
        yield manager
    finally:
        manager.provider.close()


class LoginRun:
    """``manager.device_login`` on a thread: :meth:`code` waits for the code shown, :meth:`result` for the end."""

    def __init__(self, manager: SignInManager,
                 on_code: Callable[[DeviceAuthorization], None] | None = None) -> None:
        self.manager = manager
        self.cancelled = threading.Event()
        self._codes: queue.Queue[DeviceAuthorization] = queue.Queue()
        self._extra_on_code = on_code
        self._outcome: Session | BaseException | None = None
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="test-device-login", daemon=True)
        self._thread.start()

    def _on_code(self, authorization: DeviceAuthorization) -> None:
        self._codes.put(authorization)
        if self._extra_on_code is not None:
            self._extra_on_code(authorization)

    def _run(self) -> None:
        try:
            self._outcome = self.manager.device_login(self._on_code, self.cancelled)
        except BaseException as exc:
            self._outcome = exc
        finally:
            self.finished_at = time.monotonic()

    def code(self, timeout: float = 10.0) -> DeviceAuthorization:
        try:
            return self._codes.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no user code within {timeout:g} s (outcome so far: {self._outcome!r})") from None

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self, timeout: float = LOGIN_TIMEOUT) -> Session | BaseException:
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.cancelled.set()
            self._thread.join(5)
            raise AssertionError(f"device_login still running after {timeout:g} s")
        assert self._outcome is not None
        return self._outcome

    def result(self, timeout: float = LOGIN_TIMEOUT) -> Session:
        """The session; fails the test if the login raised."""
        outcome = self.join(timeout)
        if isinstance(outcome, BaseException):
            raise AssertionError(f"device_login raised {type(outcome).__name__}: {outcome}") from outcome
        return outcome

    def error(self, timeout: float = LOGIN_TIMEOUT) -> BaseException:
        """The exception the login ended with; fails the test if it succeeded."""
        outcome = self.join(timeout)
        assert isinstance(outcome, BaseException), f"device_login succeeded: {outcome!r}"
        return outcome

    def stop(self) -> None:
        """Teardown: cancel and wait (never leaves a thread polling after the test)."""
        self.cancelled.set()
        self._thread.join(10)


def sign_in_once(idp: Any, backend: KeyringBackend, sub: str = "auth0|support-sam") -> Session:
    """Signed in earlier, as ``login-feed login`` does: the device flow against ``idp`` (an OpenID provider
    with ``approve``), approved as ``sub``; the refresh token waits in ``backend``."""
    with closing_manager(idp.issuer, idp.client_id, idp.audience, backend) as manager:
        login = LoginRun(manager)
        idp.approve(login.code().user_code, sub=sub)
        return login.result()
