"""A test server run as a child process on loopback ports: the life cycle ``Soketi`` and ``OidcProvider`` share.

:class:`ServerProcess` picks free ports (and checks them again before each start), logs stdout and stderr to
files in a private temporary directory (also the working directory), polls an HTTP readiness path (errors
carry the end of the logs), stops with SIGTERM (SIGKILL as the fallback), kills, restarts on the same ports
and cleans up in :meth:`~ServerProcess.close` or at the end of a ``with`` block. A subclass sets the class
attributes and implements :meth:`~ServerProcess.command` and :meth:`~ServerProcess.server_environment`;
optionally ``_is_ready`` (when a 200 is not enough) and, with more than one port, ``ports`` and
``_take_new_ports``.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, TypeVar

__all__ = ["LOOPBACK", "ServerProcess", "ServerProcessError", "all_started", "find_node", "free_loopback_port",
           "free_loopback_ports", "port_is_free"]

LOOPBACK = "127.0.0.1"
READY_POLL_INTERVAL = 0.05
STOP_TIMEOUT = 10.0
TAIL_CHARS = 4000


class ServerProcessError(RuntimeError):
    """A server could not be started or did not become ready (each server raises its own subclass)."""


def free_loopback_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def free_loopback_ports(count: int) -> tuple[int, ...]:
    """Return ``count`` distinct free ports on 127.0.0.1."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_loopback_port())
    return tuple(ports)


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Return True if no socket listens on ``host:port`` (or on the wildcard address).

    The probe sets ``SO_REUSEADDR`` (so connections left in TIME_WAIT by a killed server do not count as
    "in use", exactly as for the server itself) but not ``SO_REUSEPORT``, so it fails against any listener,
    including one (such as soketi) that would otherwise silently share the port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
        return True


class _Startable(Protocol):
    def start(self) -> object: ...
    def close(self) -> object: ...


_S = TypeVar("_S", bound=_Startable)


@contextlib.contextmanager
def all_started(servers: Sequence[_S]) -> Iterator[Sequence[_S]]:
    """Start each of ``servers`` in order and yield them; every one is closed afterwards, also when a start
    failed half way (a cluster of soketi nodes, a pair of server replicas)."""
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.close()


def find_node(purpose: str, error: type[Exception]) -> str:
    """Return the path of ``node``, or raise ``error`` saying that Node.js is needed to run ``purpose``."""
    node = shutil.which("node")
    if node is None:
        raise error(f"`node` is not on PATH: install Node.js 20 to run {purpose}")
    return node


class ServerProcess(ABC):
    """One server child process on loopback, with its ports kept for the lifetime of the object.

    :meth:`start` after :meth:`stop` or :meth:`kill` brings the server back on the same ports, so a client
    can reconnect to the same URL. Only before the first start are ports that were taken in the meantime
    replaced by free ones (unless the port was given explicitly).
    """

    host: str = LOOPBACK
    label: ClassVar[str]  #: how messages name the server ("soketi", "the OpenID provider")
    log_name: ClassVar[str]  #: the logs are ``<log_name>.out.log`` and ``<log_name>.err.log``
    workdir_prefix: ClassVar[str]  #: prefix of the temporary directory (working directory and logs)
    env_prefix: ClassVar[str]  #: inherited environment variables with this prefix are dropped
    ready_path: ClassVar[str]  #: ``GET`` answers 200 here (see ``_is_ready``) once the server is ready
    error_type: ClassVar[type[ServerProcessError]]  #: what :meth:`start` raises
    port_conflict_note: ClassVar[str] = ""  #: appended to the "port(s) ... are in use" error

    def __init__(
        self, *, port: int | None = None, extra_env: Mapping[str, str] | None = None, ready_timeout: float = 15.0
    ) -> None:
        """Prepare (but do not start) a server on ``port`` (by default a free loopback port).

        ``extra_env`` overrides :meth:`server_environment`; :meth:`start` waits ``ready_timeout`` s at most.
        """
        self.extra_env: dict[str, str] = dict(extra_env or {})
        self.ready_timeout = ready_timeout
        self._fixed_port = port is not None
        self.port = port if port is not None else free_loopback_port()
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    def command(self) -> list[str]:
        """The command line; raise the server's "not installed" error when a part of it is missing."""

    @abstractmethod
    def server_environment(self) -> dict[str, str]:
        """The variables this server is configured with (``extra_env`` is applied on top)."""

    def _is_ready(self, status: int, body: bytes) -> bool:
        """Whether an answer to ``GET`` :attr:`ready_path` means ready (may raise ``ValueError``: not ready)."""
        return status == 200

    def _probe_ready(self) -> str | None:
        """One readiness check: None when ready, else why not. By default ``GET`` :attr:`ready_path` and
        :meth:`_is_ready`; a server that speaks no HTTP (PostgreSQL, Redis) overrides this."""
        try:
            status, body = self._request("GET", self.ready_path, timeout=1.0)
            if self._is_ready(status, body):
                return None
            return f"HTTP {status}: {body[:200]!r}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}"

    @property
    def ports(self) -> tuple[int, ...]:
        """Every port the server listens on (all must be free before a start)."""
        return (self.port,)

    def _take_new_ports(self) -> None:
        """Replace the ports by free ones (only before the first start)."""
        self.port = free_loopback_port()

    # ------------------------------------------------------------------ addresses and logs

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ready_url(self) -> str:
        return f"{self.base_url}{self.ready_path}"

    @property
    def pid(self) -> int | None:
        """PID of the running server process, or None when not running."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def is_running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_dir(self) -> Path:
        """Directory holding the log files, and the server's working directory (created on first use)."""
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix=self.workdir_prefix)
        return Path(self._workdir.name)

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / f"{self.log_name}.out.log"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / f"{self.log_name}.err.log"

    def output_tail(self, chars: int = TAIL_CHARS) -> str:
        """The end of the server's stderr and stdout, for error messages."""
        parts = []
        for stream, path in (("stderr", self.stderr_path), ("stdout", self.stdout_path)):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")[-chars:]
            except FileNotFoundError:
                text = ""
            parts.append(f"--- {self.label} {stream} (tail) ---\n{text}")
        return "\n".join(parts)

    # ------------------------------------------------------------------ lifecycle

    def environment(self) -> dict[str, str]:
        """The environment the server runs with (inherited variables starting with :attr:`env_prefix` are dropped)."""
        env = {name: value for name, value in os.environ.items() if not name.startswith(self.env_prefix)}
        env.update(self.server_environment())
        env.update(self.extra_env)
        return env

    def start(self) -> Self:
        """Start the server (on the same ports as before, after a stop or kill) and wait until it is ready.

        :raises ServerProcessError: (the subclass's :attr:`error_type`, or its "not installed" error from
            :meth:`command`) a port is taken, the process exited, or it was not ready in time.
        """
        if self.is_running:
            return self
        self._reap()
        command = self.command()
        self._check_ports_free()

        self._starts += 1
        marker = f"=== start #{self._starts} (port {self.port}) ===\n".encode()
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            for log in (out, err):
                log.write(marker)
                log.flush()
            # The child keeps its own copies of the descriptors; ours are closed when the block ends.
            self._process = subprocess.Popen(
                command,
                cwd=self.log_dir,  # keep a stray ./.env (soketi reads one) or other file out of the way
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

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server gracefully (SIGTERM; SIGKILL if it is still alive after ``timeout`` seconds)."""
        self._reap(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would: clients see their TCP connection drop."""
        self._reap(signal.SIGKILL)

    def restart(self) -> Self:
        """Stop gracefully, then start again on the same ports (the server's in-memory state is new)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server and delete its log directory."""
        self.stop()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running else "stopped"
        return f"<{type(self).__name__} {self.base_url} {state}>"

    # ------------------------------------------------------------------ internals

    def _request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, timeout: float = 5.0
    ) -> tuple[int, bytes]:
        """One HTTP request to the server (``body`` is sent as JSON): the status and the raw answer."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Accept": "application/json"}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _check_ports_free(self) -> None:
        taken = [port for port in self.ports if not port_is_free(port, self.host)]
        if taken and self._starts == 0 and not self._fixed_port:
            # Never started, so nobody knows these ports yet: simply take new ones.
            self._take_new_ports()
            taken = [port for port in self.ports if not port_is_free(port, self.host)]
        if taken:
            raise self.error_type(
                f"cannot start {self.label}: port(s) {taken} on {self.host} are in use{self.port_conflict_note}"
            )

    def _wait_ready(self) -> None:
        """Poll :attr:`ready_path` until :meth:`_is_ready` accepts the answer; raise if the process exits first."""
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.ready_timeout
        while True:
            code = process.poll()
            if code is not None:
                raise self.error_type(
                    f"{self.label} exited with code {code} before it was ready on {self.base_url}\n"
                    + self.output_tail()
                )
            last_error = self._probe_ready()
            if last_error is None:
                return
            if time.monotonic() >= deadline:
                raise self.error_type(
                    f"{self.label} was not ready at {self.ready_url} after {self.ready_timeout:g} s "
                    f"(last: {last_error})\n" + self.output_tail()
                )
            time.sleep(READY_POLL_INTERVAL)

    def _reap(self, signum: signal.Signals | None = None, timeout: float = STOP_TIMEOUT) -> None:
        """Send ``signum`` (if given) to a running server, wait for it to exit (SIGKILL after ``timeout`` s)
        and reap it, so no zombie or ResourceWarning is left behind."""
        process = self._process
        if process is None:
            return
        if signum is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signum)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
        self._process = None
