"""``login-feed --self-test``: does this installation work? Run from source or from the bundle.

Loads every resource, imports every part, builds the window's app offscreen (as ``login-feed`` does), checks
the keyring backend is a real one and that TLS certificates load, then prints a short report. Exit 0 only if all
passed.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import ssl
import sys
import tempfile
from collections.abc import Callable

from desktop import __version__, resources

# Besides every desktop module: what uvicorn imports by name at run time (`login-feed authserver`).
DYNAMIC_IMPORTS = ("uvicorn.logging", "uvicorn.loops.auto", "uvicorn.protocols.http.auto", "uvicorn.lifespan.off")


# Every resource file the app or its installers use, relative to resources/.
IMAGES = ("icons/login-feed.svg", "icons/login-feed-256.png", "icons/login-feed-64.png", "icons/login-feed.ico",
          "icons/login-feed.icns")
FILES = ("login-feed.desktop", "auth0/login-feed-action.js")


def _resources() -> str:
    from PySide6.QtGui import QIcon, QImage  # noqa: PLC0415

    root = resources.root()
    missing = [name for name in (*IMAGES, *FILES) if not (root / name).is_file()]
    if missing:
        raise RuntimeError(f"missing under {root}: {', '.join(missing)}")
    broken = [name for name in IMAGES if QImage(str(root / name)).isNull()]
    if broken:
        raise RuntimeError(f"cannot be read as images (Qt image plugins missing?): {', '.join(broken)}")
    if QIcon(str(root / IMAGES[0])).pixmap(64, 64).isNull():
        raise RuntimeError("the application icon (SVG) does not draw: the Qt SVG icon engine is missing")
    return f"{len(IMAGES)} icons, the .desktop file and the Auth0 Action under {root}"


def _imports() -> str:
    import desktop  # noqa: PLC0415

    names = [info.name for info in pkgutil.walk_packages(desktop.__path__, "desktop.")]
    if len(names) < 10:  # a frozen build whose modules cannot be listed would otherwise pass with none
        raise RuntimeError(f"only {len(names)} desktop modules found")
    for name in (*names, *DYNAMIC_IMPORTS):
        importlib.import_module(name)
    return f"{len(names)} desktop modules and uvicorn's run-time imports"


def _main_window() -> str:
    """The window's app as ``login-feed`` builds it (``desktop.app.LoginFeedApp``), in a scratch data directory
    and without connecting: the same construction, never a second assembly of the parts here."""
    from pathlib import Path  # noqa: PLC0415

    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from desktop.app import LoginFeedApp  # noqa: PLC0415
    from desktop.config_schema import Config  # noqa: PLC0415

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    with tempfile.TemporaryDirectory() as scratch:  # never touch the user's window settings or history
        app = LoginFeedApp(qapp, Config(), Path(scratch))
        app.window.show()
        qapp.processEvents()
        image = app.window.grab()
        app.window.close()  # as Quit: the app shuts down (the history closed before the scratch goes)
    if image.isNull():
        raise RuntimeError("the main window could not be drawn")
    return f"built and drawn ({image.width()}x{image.height()}, platform {qapp.platformName()})"


# The OS keyring backend each platform's users rely on; it must be importable (in the bundle: collected).
PLATFORM_BACKEND = {"linux": ("keyring.backends.SecretService", "Keyring"),
                    "win32": ("keyring.backends.Windows", "WinVaultKeyring"),
                    "darwin": ("keyring.backends.macOS", "Keyring")}
# What the backend's priority check says when its own dependency is missing: a broken installation.
MISSING_DEPENDENCY = ("SecretStorage required", "SecretStorage 3.2 or newer required")


def _platform_backend() -> tuple[str, str | None]:
    """(backend name, None if usable here else why not). Raises if the backend is missing from this build."""
    spec = next((v for k, v in PLATFORM_BACKEND.items() if sys.platform.startswith(k)), None)
    if spec is None:
        return "none for this platform", "no OS keyring backend is known for this platform"
    module = importlib.import_module(spec[0])
    backend = getattr(module, spec[1])
    name = f"{spec[0]}.{spec[1]}"
    try:
        backend.priority  # noqa: B018 - a class property that raises with the reason when unusable
    except Exception as exc:
        if str(exc) in MISSING_DEPENDENCY:
            raise RuntimeError(f"{name} cannot work in this build: {exc}") from None
        return name, str(exc) or type(exc).__name__
    return name, None


def _keyring() -> str:
    import keyring  # noqa: PLC0415
    from keyring.backends import fail  # noqa: PLC0415

    platform_name, unusable = _platform_backend()
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        raise RuntimeError(f"no usable OS keyring ({name}): {platform_name} is not usable here ({unusable}); "
                           "start and unlock a Secret Service (GNOME Keyring, KWallet, KeePassXC) in the desktop "
                           "session, or name a backend in PYTHON_KEYRING_BACKEND")
    chosen = " (chosen by PYTHON_KEYRING_BACKEND)" if os.environ.get("PYTHON_KEYRING_BACKEND") else ""
    note = ": keeps nothing, secrets only from the environment" if name.endswith("null.Keyring") else ""
    platform_note = "" if name == platform_name else (
        f"; {platform_name} is present" + (f" but not usable here ({unusable})" if unusable else " and usable"))
    return f"{name}{chosen}{note}{platform_note}"


def _tls() -> str:
    """requests verifies with certifi's bundle; the Pusher websocket (websocket-client) with OpenSSL's store."""
    import certifi  # noqa: PLC0415

    bundle = certifi.where()
    count = len(ssl.create_default_context(cafile=bundle).get_ca_certs())
    if count == 0:
        raise RuntimeError(f"no CA certificates in {bundle}")
    system = ssl.create_default_context()
    paths = ssl.get_default_verify_paths()
    system_count = system.cert_store_stats()["x509_ca"]
    capath = paths.capath  # a hashed directory is read lazily: count its entries instead
    if not system_count and not (capath and os.path.isdir(capath) and os.listdir(capath)):
        raise RuntimeError(f"no system CA certificates (OpenSSL looks in {paths.openssl_cafile} and "
                           f"{paths.openssl_capath}): the Pusher connection would fail TLS; install the "
                           "ca-certificates package or set SSL_CERT_FILE to a PEM bundle")
    where = paths.cafile or capath or "the OS certificate store"  # Windows: Python reads the system store
    if os.environ.get("SSL_CERT_FILE"):
        where += " (SSL_CERT_FILE" + (", certifi fallback" if os.environ["SSL_CERT_FILE"] == bundle else "") + ")"
    system_text = f"{system_count} from {where}" if system_count else f"directory {where}"
    return f"requests: {count} CA certificates from {bundle}; websocket: {system_text}"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("resources", _resources), ("imports", _imports), ("main window", _main_window), ("keyring", _keyring),
    ("TLS", _tls),
)


def run() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "")
    if not os.environ["QT_QPA_PLATFORM"]:
        del os.environ["QT_QPA_PLATFORM"]
    from PySide6 import __version__ as pyside_version  # noqa: PLC0415
    from PySide6.QtCore import qVersion  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    app = QApplication.instance() or QApplication(sys.argv[:1])  # images, icons and the window all need it
    frozen = "bundle" if getattr(sys, "frozen", False) else "source"
    print(f"Login Feed {__version__} ({frozen}), Python {platform.python_version()}, "
          f"PySide6 {pyside_version} (Qt {qVersion()}), {platform.system()} {platform.machine()}, "
          f"Qt platform {app.platformName()}")
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
