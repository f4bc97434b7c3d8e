"""``login-feed --self-test``: does this installation work? Run from source or from the bundle.

Loads every resource, imports every part, builds the main window offscreen, checks the keyring backend
is a real one and that TLS certificates load, then prints a short report. Exit 0 only if all passed.
"""

from __future__ import annotations

import importlib
import os
import platform
import ssl
import sys
import tempfile
from collections.abc import Callable

from desktop import __version__, resources

PACKAGES = ("desktop.pusher.client", "desktop.auth.signin", "desktop.authserver.app", "desktop.chat.panel",
            "desktop.feed.panel", "desktop.history", "desktop.simulate", "desktop.cli_auth", "desktop.app")


def _resources() -> str:
    from PySide6.QtGui import QIcon, QImage  # noqa: PLC0415

    root = resources.root()
    icons = sorted(resources.path("icons").glob("*"))
    for icon in icons:
        if icon.suffix in (".png", ".svg") and QImage(str(icon)).isNull():
            raise RuntimeError(f"{icon.name} does not load")
    if QIcon(str(resources.path("icons", "login-feed.svg"))).isNull():
        raise RuntimeError("the application icon does not load")
    action = resources.path("auth0", "login-feed-action.js")
    if not action.is_file():
        raise RuntimeError(f"{action} is missing")
    return f"{len(icons)} icons and the Auth0 Action under {root}"


def _imports() -> str:
    for name in PACKAGES:
        importlib.import_module(name)
    return f"{len(PACKAGES)} modules"


def _main_window() -> str:
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from desktop.chat.panel import ChatPanel  # noqa: PLC0415
    from desktop.feed.panel import FeedPanel  # noqa: PLC0415
    from desktop.ui.main_window import MainWindow  # noqa: PLC0415
    from desktop.ui.status import ConnectionStatus  # noqa: PLC0415

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from PySide6.QtCore import QSettings  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as scratch:  # never touch the user's real window settings
        settings = QSettings(os.path.join(scratch, "window.ini"), QSettings.Format.IniFormat)
        window = MainWindow(FeedPanel(), ChatPanel(), ConnectionStatus(), settings)
        window.show()
        app.processEvents()
        image = window.grab()
        window.close()
    if image.isNull():
        raise RuntimeError("the main window could not be drawn")
    return f"built and drawn ({image.width()}x{image.height()}, platform {app.platformName()})"


def _keyring() -> str:
    import keyring  # noqa: PLC0415
    from keyring.backends import fail  # noqa: PLC0415

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        raise RuntimeError(f"no usable OS keyring ({name}): secrets could not be stored; install and unlock a "
                           "Secret Service (e.g. gnome-keyring) or set PYTHON_KEYRING_BACKEND")
    chosen = " (chosen by PYTHON_KEYRING_BACKEND)" if os.environ.get("PYTHON_KEYRING_BACKEND") else ""
    note = ": keeps nothing, sign-ins last one session" if name.endswith("null.Keyring") else ""
    return f"{name}{chosen}{note}"


def _tls() -> str:
    import certifi  # noqa: PLC0415

    context = ssl.create_default_context(cafile=certifi.where())
    count = len(context.get_ca_certs())
    if count == 0:
        raise RuntimeError("no CA certificates loaded")
    return f"{count} CA certificates from {certifi.where()}"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("resources", _resources), ("imports", _imports), ("main window", _main_window), ("keyring", _keyring),
    ("TLS", _tls),
)


def run() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "")
    if not os.environ["QT_QPA_PLATFORM"]:
        del os.environ["QT_QPA_PLATFORM"]
    from PySide6 import __version__ as pyside_version  # noqa: PLC0415

    frozen = "bundle" if getattr(sys, "frozen", False) else "source"
    print(f"Login Feed {__version__} ({frozen}), Python {platform.python_version()}, PySide6 {pyside_version}, "
          f"{platform.system()} {platform.machine()}")
    failed = 0
    for name, check in CHECKS:
        try:
            detail = check()
        except Exception as exc:
            failed += 1
            print(f"FAIL {name}: {exc}")
        else:
            print(f"ok   {name}: {detail}")
    print("self-test passed" if not failed else f"self-test failed: {failed} check(s)")
    return 0 if not failed else 1
