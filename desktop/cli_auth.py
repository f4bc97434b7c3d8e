"""``login-feed login``, ``whoami`` and ``logout``: the device-code sign-in in a terminal."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import webbrowser
from collections.abc import Iterator
from urllib.parse import urlsplit

import segno

from desktop.auth.common import AuthError
from desktop.auth.deviceflow import DeviceAuthorization
from desktop.auth.provider import ProviderUnreachable
from desktop.auth.session import RefreshError
from desktop.auth.signin import SignInFailed, SignInManager, manager_from_config
from desktop.config_schema import Config
from desktop.util.signals import install_stop_handler, keep_python_awake


def _say(text: str = "") -> None:
    print(text, flush=True)


def _fail(text: str) -> None:
    print(f"login-feed: {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _signin(config: Config) -> Iterator[SignInManager]:
    """The sign-in manager for one command, its provider's connections closed after it."""
    manager = manager_from_config(config.auth0)  # NotConfigured is a ConfigError: exit 2 with its message
    try:
        yield manager
    finally:
        manager.provider.close()


def login(config: Config, *, open_browser: bool) -> int:
    with _signin(config) as manager:
        return _device_login(manager, open_browser=open_browser)


def _device_login(manager: SignInManager, *, open_browser: bool) -> int:
    cancelled = threading.Event()

    def show(authorization: DeviceAuthorization) -> None:
        url = authorization.verification_uri_complete or authorization.verification_uri
        _say("To sign in, open this page on any device:")
        _say(f"    {authorization.verification_uri}")
        _say("and check that it shows this code:")
        _say()
        _say(f"    {authorization.user_code}")
        _say()
        segno.make(url, error="m").terminal(out=sys.stdout, compact=True, border=2)
        _say(f"(or scan this QR code of {url})")
        if open_browser and not _open(url):
            _say("Could not open a browser here: open the page above yourself.")
        _say("Waiting for you to approve… (Ctrl+C to cancel)")

    restore = install_stop_handler(lambda _name: cancelled.set(), (signal.SIGINT,))  # Ctrl+C cancels: exit 130
    try:
        session = manager.device_login(show, cancelled)
    except SignInFailed as exc:
        _fail(exc.message)
        return 130 if exc.reason == "cancelled" else 1
    finally:
        restore()
    if manager.keyring_warning:
        _fail(manager.keyring_warning)
    _say(f"Signed in as {_who(session.profile.name, session.profile.email)}.")
    return 0


def login_dialog(config: Config) -> int:
    """The same sign-in in the Qt dialog (the window will open it by itself once it exists)."""
    with _signin(config) as manager:
        return _dialog_login(manager)


def _dialog_login(manager: SignInManager) -> int:
    from PySide6.QtWidgets import QApplication, QDialog  # noqa: PLC0415 - Qt only for this path

    from desktop.auth.qtflow import SignInFlow  # noqa: PLC0415
    from desktop.ui.signin_dialog import SignInDialog  # noqa: PLC0415

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Login Feed")
    flow = SignInFlow(manager)
    host = urlsplit(manager.provider.issuer).netloc or manager.provider.issuer
    dialog = SignInDialog(flow, host)
    install_stop_handler(lambda _name: dialog.reject(), (signal.SIGINT,))
    keep_python_awake(dialog, 200)
    dialog.show()
    dialog.start()
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    flow.cancel()
    flow.wait(5)
    if not accepted:
        return 1
    profile = manager.profile
    _say(f"Signed in as {_who(profile.name, profile.email) if profile else '(unknown)'}.")
    return 0


def whoami(config: Config) -> int:
    with _signin(config) as manager:
        try:
            session = manager.restore()
        except RefreshError as exc:
            _fail("your sign-in has ended (expired or revoked): run `login-feed login`" if exc.kind == "reauth"
                  else f"could not check the sign-in: {exc}")
            return 1
        except (SignInFailed, ProviderUnreachable, AuthError) as exc:
            _fail(f"could not check the sign-in: {exc}")
            return 1
    if manager.keyring_warning and session is None:
        _fail(manager.keyring_warning)
    if session is None:
        _fail("not signed in: run `login-feed login`")
        return 1
    _say(_who(session.profile.name, session.profile.email))
    return 0


def logout(config: Config) -> int:
    with _signin(config) as manager:
        result = manager.logout()
    _say(result.message)
    return 0


def _who(name: str | None, email: str | None) -> str:
    if name and email and name != email:
        return f"{name} <{email}>"
    return name or email or "(no name)"


def _open(url: str) -> bool:
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
