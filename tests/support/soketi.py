"""Run a real soketi server (a Pusher-protocol server) as a subprocess for tests.

soketi comes from the npm test stack (``package.json`` at the repository root, installed by
``npm install``/``make test``). It is started as ``node node_modules/@soketi/soketi/bin/server.js start``
so that the PID held by :class:`Soketi` is the server's own (``npx`` would leave the server orphaned
under another PID).

Things worth knowing about soketi 1.6.1 that shaped this helper:

* Its socket library (uWebSockets.js) listens with ``SO_REUSEPORT``: a second server started on a port that
  is already in use does not fail, it silently *shares* the port with the first one. :meth:`Soketi.start`
  therefore checks that both ports are really free before it starts the server.
* It always opens a second listener (``/``, ``/ready``, ``/usage``, plus ``/metrics`` when metrics are
  enabled) on the metrics port, 9601 on 0.0.0.0 by default, even with metrics disabled. Each instance gets
  its own free loopback port for it.
* It reads a ``.env`` file from its working directory, so it runs in a private temporary directory.

Usage::

    with Soketi(user_authentication=True) as server:
        url = server.ws_url()
        server.trigger("test-public", "greeting", {"hello": "world"})
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pusher

__all__ = [
    "APP_ID",
    "APP_KEY",
    "APP_SECRET",
    "REPO_ROOT",
    "SOKETI_SERVER_JS",
    "Soketi",
    "SoketiError",
    "SoketiNotInstalledError",
    "soketi_installed",
]

#: The default app soketi serves. The id must be numeric: the Python ``pusher`` library rejects others.
APP_ID = "1"
APP_KEY = "app-key"
APP_SECRET = "app-secret"

#: Repository root (this file is ``<root>/tests/support/soketi.py``).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The server's entry point inside the npm test stack.
SOKETI_SERVER_JS = REPO_ROOT / "node_modules" / "@soketi" / "soketi" / "bin" / "server.js"

LOOPBACK = "127.0.0.1"
_READY_POLL_INTERVAL = 0.05
_STOP_TIMEOUT = 10.0
_TAIL_CHARS = 4000


class SoketiError(RuntimeError):
    """soketi could not be started, or did not become ready in time."""


class SoketiNotInstalledError(SoketiError):
    """The npm test stack (``node_modules/@soketi/soketi``) or ``node`` itself is missing."""


def soketi_installed(server_js: Path = SOKETI_SERVER_JS) -> bool:
    """Return True when soketi's entry point is installed under ``node_modules``."""
    return server_js.is_file()


def _free_loopback_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _two_free_loopback_ports() -> tuple[int, int]:
    """Two distinct free ports on 127.0.0.1: the server's own and its metrics listener's."""
    first = _free_loopback_port()
    second = _free_loopback_port()
    while second == first:
        second = _free_loopback_port()
    return first, second


def _port_is_free(port: int) -> bool:
    """Return True if no socket listens on ``127.0.0.1:port`` (or on the wildcard address).

    The probe sets ``SO_REUSEADDR`` (so connections left in TIME_WAIT by a killed server do not count as
    "in use", exactly as for soketi itself) but not ``SO_REUSEPORT``, so it fails against any listener,
    including a soketi that would otherwise silently share the port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
        return True


def _tail(path: Path, chars: int = _TAIL_CHARS) -> str:
    """Return the last ``chars`` characters of a log file ('' if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return text[-chars:]


class Soketi:
    """One soketi server on a free loopback port, started as a child process.

    The server keeps its ports for the lifetime of this object: :meth:`start` after :meth:`stop` or
    :meth:`kill` brings it back on the same ports, so a client can reconnect to the same URL (used to test
    that a client recovers by itself from a server crash).

    Output (stdout and stderr) goes to log files in a private temporary directory, never to a pipe nobody
    reads. Call :meth:`close` (or use the object as a context manager) to stop the server and delete them.
    """

    host: str = LOOPBACK

    def __init__(
        self,
        *,
        user_authentication: bool = False,
        debug: bool = False,
        extra_env: Mapping[str, str] | None = None,
        ready_timeout: float = 15.0,
        server_js: Path = SOKETI_SERVER_JS,
    ) -> None:
        """Prepare (but do not start) a server.

        :param user_authentication: set ``SOKETI_DEFAULT_APP_USER_AUTHENTICATION=true`` (``pusher:signin``
            is honoured; a socket that neither signs in nor joins a private/presence channel within
            ``SOKETI_USER_AUTHENTICATION_TIMEOUT`` ms, 30 s by default, is closed with 4009).
        :param debug: set ``SOKETI_DEBUG=true`` (soketi then logs every frame to its log file).
        :param extra_env: more environment variables for the server, e.g.
            ``{"SOKETI_USER_AUTHENTICATION_TIMEOUT": "2000"}``; they override the defaults set here.
        :param ready_timeout: seconds to wait for ``GET /ready`` to answer 200 in :meth:`start`.
        :param server_js: soketi's ``bin/server.js``.
        """
        self.user_authentication = user_authentication
        self.debug = debug
        self.extra_env: dict[str, str] = dict(extra_env or {})
        self.ready_timeout = ready_timeout
        self.server_js = server_js
        self.port, self.metrics_port = _two_free_loopback_ports()
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self._pusher: pusher.Pusher | None = None

    # ------------------------------------------------------------------ addresses

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP API (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    def ws_url(self, *, client: str = "python-login-feed", version: str = "0.1.0", key: str = APP_KEY) -> str:
        """WebSocket URL of the app, with the protocol-7 query string a Pusher client sends."""
        return f"ws://{self.host}:{self.port}/app/{key}?protocol=7&client={client}&version={version}"

    @property
    def pid(self) -> int | None:
        """PID of the running server (the ``node`` process itself), or None when not running."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def is_running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_dir(self) -> Path:
        """Directory holding ``soketi.out.log`` and ``soketi.err.log`` (created on first use)."""
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="soketi-")
        return Path(self._workdir.name)

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / "soketi.out.log"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / "soketi.err.log"

    def output_tail(self, chars: int = _TAIL_CHARS) -> str:
        """The end of the server's stdout and stderr, for error messages."""
        return (
            f"--- soketi stderr (tail) ---\n{_tail(self.stderr_path, chars)}\n"
            f"--- soketi stdout (tail) ---\n{_tail(self.stdout_path, chars)}"
        )

    # ------------------------------------------------------------------ lifecycle

    def environment(self) -> dict[str, str]:
        """The environment the server runs with (inherited ``SOKETI_*`` variables are dropped)."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("SOKETI_")}
        env.update(
            {
                "SOKETI_HOST": self.host,
                "SOKETI_PORT": str(self.port),
                "SOKETI_METRICS_ENABLED": "false",
                "SOKETI_METRICS_HOST": self.host,
                "SOKETI_METRICS_SERVER_PORT": str(self.metrics_port),
                "SOKETI_DEFAULT_APP_ID": APP_ID,
                "SOKETI_DEFAULT_APP_KEY": APP_KEY,
                "SOKETI_DEFAULT_APP_SECRET": APP_SECRET,
                "SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES": "true",
                "SOKETI_DEFAULT_APP_USER_AUTHENTICATION": "true" if self.user_authentication else "false",
                "SOKETI_SHUTDOWN_GRACE_PERIOD": "100",
                "SOKETI_DEBUG": "true" if self.debug else "false",
                # soketi 1.6.1 pulls in aws-sdk v2, which prints an end-of-support notice on every start.
                "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Self:
        """Start the server (on the same ports as before, after a stop or kill) and wait until it is ready.

        :raises SoketiNotInstalledError: ``node`` or the npm test stack is missing.
        :raises SoketiError: a port is taken, the server exited, or ``/ready`` did not answer in time.
        """
        if self.is_running:
            return self
        self._reap()
        node = shutil.which("node")
        if node is None:
            raise SoketiNotInstalledError("`node` is not on PATH: install Node.js 20 to run soketi")
        if not soketi_installed(self.server_js):
            raise SoketiNotInstalledError(
                f"soketi is not installed ({self.server_js} is missing): run `make test` "
                "(or `npm install` at the repository root) first"
            )
        self._check_ports_free()

        self._starts += 1
        marker = f"=== start #{self._starts} (port {self.port}) ===\n".encode()
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            out.write(marker)
            err.write(marker)
            out.flush()
            err.flush()
            # The child keeps its own copies of the descriptors; ours are closed when the block ends.
            self._process = subprocess.Popen(
                [node, str(self.server_js), "start"],
                cwd=self.log_dir,  # soketi loads ./.env: keep a stray one out of the way
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the server
            )
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        """Stop the server gracefully (SIGTERM; SIGKILL if it is still alive after ``timeout`` seconds).

        Connected clients receive ``pusher:error`` 4200 and a close frame 4200 first.
        """
        self._close_http_pools()
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        self._reap()

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would: clients see their TCP connection drop."""
        self._close_http_pools()
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        self._reap()

    def restart(self) -> Self:
        """Stop gracefully, then start again on the same ports."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server, release the HTTP client and delete the log directory."""
        self.stop()
        if self._pusher is not None:
            self._close_http_pools()
            self._pusher = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running else "stopped"
        return f"<Soketi {self.http_url} {state}>"

    # ------------------------------------------------------------------ triggering (HTTP API)

    def pusher_client(self) -> pusher.Pusher:
        """The server SDK client (``pusher`` package) for this server; one shared instance.

        It stays usable across :meth:`stop`/:meth:`start` (the port does not change).
        """
        if self._pusher is None:
            self._pusher = pusher.Pusher(
                app_id=APP_ID, key=APP_KEY, secret=APP_SECRET, host=self.host, port=self.port, ssl=False
            )
        return self._pusher

    def trigger(
        self,
        channels: str | list[str],
        event: str,
        data: Any,
        socket_id: str | None = None,
    ) -> dict[str, Any]:
        """Publish ``event`` on one channel (or up to 100) through the HTTP API.

        ``data`` that is not a ``str`` is JSON-encoded by the SDK. Returns soketi's answer (``{"ok": true}``).
        """
        result: dict[str, Any] = self.pusher_client().trigger(channels, event, data, socket_id)
        return result

    def trigger_batch(self, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Publish up to 10 events in one request (``/batch_events``).

        Each event is a mapping with ``channel``, ``name``, ``data`` and optionally ``socket_id``; the
        mappings are copied, as the SDK rewrites ``data`` in place.
        """
        batch = [dict(event) for event in events]
        result: dict[str, Any] = self.pusher_client().trigger_batch(batch)
        return result

    # ------------------------------------------------------------------ internals

    def _check_ports_free(self) -> None:
        taken = [port for port in (self.port, self.metrics_port) if not _port_is_free(port)]
        if taken and self._starts == 0:
            # Never started, so nobody knows these ports yet: simply take new ones.
            self.port, self.metrics_port = _two_free_loopback_ports()
            self._pusher = None
            taken = [port for port in (self.port, self.metrics_port) if not _port_is_free(port)]
        if taken:
            raise SoketiError(
                f"cannot start soketi: port(s) {taken} on {self.host} are in use (soketi listens with "
                "SO_REUSEPORT and would silently share them with the other listener)"
            )

    def _wait_ready(self) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.ready_timeout
        last_error = "no answer yet"
        while True:
            code = process.poll()
            if code is not None:
                raise SoketiError(
                    f"soketi exited with code {code} before it was ready on {self.http_url}\n"
                    + self.output_tail()
                )
            status = self._probe_ready()
            if status == 200:
                return
            last_error = f"HTTP {status}" if isinstance(status, int) else status
            if time.monotonic() >= deadline:
                raise SoketiError(
                    f"soketi was not ready on {self.http_url}/ready after {self.ready_timeout:g} s "
                    f"(last: {last_error})\n" + self.output_tail()
                )
            time.sleep(_READY_POLL_INTERVAL)

    def _probe_ready(self) -> int | str:
        """One ``GET /ready``: the HTTP status, or a description of the connection error."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=1.0)
        try:
            connection.request("GET", "/ready")
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    def _reap(self) -> None:
        """Wait for an exited (or killed) process so no zombie or ResourceWarning is left behind."""
        process = self._process
        if process is None:
            return
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
        self._process = None

    def _close_http_pools(self) -> None:
        """Drop the SDK's pooled keep-alive connections (they die with the server anyway).

        ``pusher.Pusher`` holds two ``requests`` sessions (REST client and authentication client); closing a
        session only empties its connection pools, so the client keeps working after a restart.
        """
        if self._pusher is None:
            return
        for attribute in ("_pusher_client", "_authentication_client"):
            client = getattr(self._pusher, attribute, None)
            session = getattr(getattr(client, "http", None), "session", None)
            if session is not None:
                session.close()
