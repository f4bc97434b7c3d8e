"""A loopback network cable: a TCP forwarder that can be unplugged (connections refused and cut) and plugged in."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from support.soketi import Soketi


def closed_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Cable:
    """The network between the window and the sign-in service: a loopback TCP forwarder on a port of its own.
    Unplugged, nothing listens there (connections are refused, as offline); plugged in, it forwards."""

    def __init__(self) -> None:
        self.port = closed_port()
        self.target: int | None = None
        self._plugged = False
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def plug(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port))
        server.settimeout(0.1)  # the accept loop looks at ``_plugged`` this often
        self._plugged = True
        self._start(self._accept, server)

    def unplug(self) -> None:
        self._plugged = False
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(10)
        for sock in sockets:
            sock.close()

    def _start(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="test-cable", daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self, server: socket.socket) -> None:
        with server:
            while self._plugged:
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                assert self.target is not None
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=10)
                for sock in (conn, upstream):
                    sock.settimeout(None)
                with self._lock:
                    self._sockets += [conn, upstream]
                self._start(self._pump, conn, upstream)
                self._start(self._pump, upstream, conn)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def cable(soketi: Soketi) -> Iterator[Cable]:
    """A plugged-in cable in front of the session's soketi (connect to ``cable.port``; unplug to go offline)."""
    cable = Cable()
    cable.target = soketi.port
    cable.plug()
    try:
        yield cable
    finally:
        cable.unplug()
