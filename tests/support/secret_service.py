"""A real Secret Service for tests: gnome-keyring-daemon on a private D-Bus session bus, in a temporary home.

Nothing touches the developer's own keyring or session bus: the bus is a ``dbus-daemon`` of our own, with a
configuration that activates no services (so no unlock dialog can ever pop up on a desktop), and the
keyring files live in a temporary ``XDG_DATA_HOME``. The ``login`` collection is created and unlocked with a
password given on stdin (``--unlock``), as a PAM login would. This works as root, without a desktop session
and without systemd: every directory the daemons need is created here.

The test process keeps its null keyring (tests/conftest.py); the app runs in child processes with
:meth:`SecretService.environment`, which points keyring's ``SecretService`` backend at this bus. The test
reads and locks the collection itself through ``secretstorage`` on its own connection to the bus.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Self

import pytest
import secretstorage
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

__all__ = ["LOGIN_COLLECTION", "SECRET_SERVICE_BACKEND", "SecretService", "SecretServiceError",
           "secret_service_fixture"]

SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"
LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"
PROMPTER_NAME = "org.gnome.keyring.SystemPrompter"
TOOLS = ("dbus-daemon", "gnome-keyring-daemon")
START_TIMEOUT = 15.0
POLL_INTERVAL = 0.02
STOP_TIMEOUT = 5.0
# No <servicedir>: nothing is activated on demand (no gcr-prompter window, no second keyring daemon).
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SecretServiceError(RuntimeError):
    """The private bus or the keyring daemon did not start; the message carries their logs."""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class SecretService:
    """A private session bus plus ``gnome-keyring-daemon --components=secrets`` with an unlocked ``login``."""

    password = "login-feed-test-password"  # protects a throw-away keyring in a temporary directory

    def __init__(self) -> None:
        # Short and private: a unix socket path must fit in 108 bytes, and the keyring refuses loose modes.
        self.root = Path(tempfile.mkdtemp(prefix="lf-ss-"))
        self.home = self.root / "home"
        self.runtime_dir = self.root / "run"
        self.data_dir = self.home / ".local" / "share"
        self.keyrings_dir = self.data_dir / "keyrings"
        self.address = ""
        self._bus: subprocess.Popen[bytes] | None = None
        self._daemon: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []

    # -- life cycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        missing = missing_tools()
        if missing:
            raise SecretServiceError(
                f"{', '.join(missing)} not found: run `make test`, which installs the Debian packages the tests "
                "need (dbus, gnome-keyring)")
        for directory in (self.home, self.runtime_dir, self.data_dir, self.home / ".config", self.home / ".cache"):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o700)
        config = self.root / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket_dir=self.runtime_dir), encoding="utf-8")
        self._bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log("dbus-daemon"),
            env=self._base_environment())
        self.address = self._read_address()
        # --foreground: our child, so we can stop it; --unlock reads the login password from stdin.
        self._daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=self._log("gnome-keyring-daemon"), stderr=subprocess.STDOUT,
            env=self.environment())
        assert self._daemon.stdin is not None
        self._daemon.stdin.write(self.password.encode())
        self._daemon.stdin.close()
        self._wait_for_login_collection()

    def close(self) -> None:
        for process in (self._daemon, self._bus):
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        if self._bus is not None and self._bus.stdout is not None:
            self._bus.stdout.close()
        for log in self._logs:
            log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the app's child processes get ------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """Variables that send keyring's SecretService backend to this bus (merge into a child's env)."""
        env = self._base_environment()
        env.update({
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            "PYTHON_KEYRING_BACKEND": SECRET_SERVICE_BACKEND,
        })
        return env

    def _base_environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL")}
        env.update({
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "XDG_DATA_HOME": str(self.data_dir),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
        })
        return env

    # -- the test's own view of the keyring -----------------------------------------------------------------
    @contextlib.contextmanager
    def connection(self) -> Iterator[DBusConnection]:
        connection = open_dbus_connection(self.address)
        try:
            yield connection
        finally:
            connection.close()

    def items(self, **attributes: str) -> list[tuple[dict[str, str], bytes]]:
        """(attributes, secret) of the ``login`` items matching ``attributes`` (the collection must be unlocked)."""
        with self.connection() as connection:
            collection = secretstorage.Collection(connection, LOGIN_COLLECTION)
            return [(item.get_attributes(), item.get_secret()) for item in collection.search_items(attributes)]

    def lock(self) -> None:
        """Lock ``login`` through org.freedesktop.Secret.Service.Lock, as a screen locker or a timeout would."""
        with self.connection() as connection:
            collection = secretstorage.Collection(connection, LOGIN_COLLECTION)
            collection.lock()
            if not collection.is_locked():
                raise SecretServiceError("the login collection did not lock")

    def is_locked(self) -> bool:
        with self.connection() as connection:
            return secretstorage.Collection(connection, LOGIN_COLLECTION).is_locked()

    @contextlib.contextmanager
    def unanswered_unlock_prompt(self) -> Iterator[None]:
        """An unlock prompt that nobody answers, as on a desktop whose user is away.

        gnome-keyring shows its unlock dialog through ``org.gnome.keyring.SystemPrompter`` (gcr-prompter,
        a GTK window: no display here). We own that name and never answer, so an unlock waits for ever,
        exactly as it does behind an unattended dialog. Without this the daemon finds no prompter and
        refuses the unlock at once (the server-without-a-desktop case).
        """
        with self.connection() as connection:
            reply = connection.send_and_get_reply(message_bus.RequestName(PROMPTER_NAME))
            if reply.body != (1,):  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
                raise SecretServiceError(f"could not own {PROMPTER_NAME}: {reply.body}")
            yield

    def files_contain(self, secret: str) -> bool:
        """Whether ``secret`` appears in clear anywhere under the temporary home (it must not)."""
        needle = secret.encode()
        return any(needle in path.read_bytes() for path in self.home.rglob("*") if path.is_file())

    # -- plumbing -------------------------------------------------------------------------------------------
    def _log(self, name: str) -> IO[bytes]:
        log = (self.root / f"{name}.log").open("wb")
        self._logs.append(log)
        return log

    def logs(self) -> str:
        parts = []
        for path in sorted(self.root.glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace")[-2000:]
            parts.append(f"--- {path.name} ---\n{text}")
        return "\n".join(parts)

    def _read_address(self) -> str:
        assert self._bus is not None and self._bus.stdout is not None
        ready, _, _ = select.select([self._bus.stdout], [], [], START_TIMEOUT)
        line = self._bus.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("unix:"):
            raise SecretServiceError(f"dbus-daemon printed no address within {START_TIMEOUT:g} s\n{self.logs()}")
        return line

    def _wait_for_login_collection(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            assert self._daemon is not None
            if self._daemon.poll() is not None:
                raise SecretServiceError(f"gnome-keyring-daemon exited ({self._daemon.returncode})\n{self.logs()}")
            try:
                if not self.is_locked():
                    return
                last = "the login collection is locked"
            except (secretstorage.exceptions.SecretStorageException, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(POLL_INTERVAL)
        raise SecretServiceError(f"no unlocked login collection within {START_TIMEOUT:g} s ({last})\n{self.logs()}")


@pytest.fixture(name="secret_service")
def secret_service_fixture() -> Iterator[SecretService]:
    """A fresh, unlocked Secret Service for one test; fails (never skips) when the daemons are not installed."""
    service = SecretService()
    try:
        try:
            service.start()
        except SecretServiceError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield service
    finally:
        service.close()
